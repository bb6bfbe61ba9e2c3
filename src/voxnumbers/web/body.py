"""Request bodies at the door (pure ASGI, outside routing): their size, and their end.

- A body over the limit (``VOX_MAX_BODY_BYTES``, 64 KiB by default) is ``413`` whatever the
  method and the route (but for the few routes given a larger limit of their own, such as
  the bulk operations'): at once when its ``Content-Length`` says so; for a chunked body, as
  soon as the bytes read pass it. A ``GET``, ``HEAD`` or ``OPTIONS`` takes no body: one is
  read here (so its size is checked) and dropped.
- A body that ends before it is complete is ``400`` on ``body``: the client closed its side
  early (fewer bytes than its ``Content-Length``) or the server could not read a chunk of a
  chunked body; the server reports both as a disconnect, which the framework would answer
  ``500``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from litestar.types import ASGIApp, HTTPRequestEvent, Receive, ReceiveMessage, Scope, Send

from voxnumbers.errors import ApiError, PayloadTooLarge
from voxnumbers.web.asgi import HttpMiddleware
from voxnumbers.web.envelope import error_response
from voxnumbers.web.json import malformed_json
from voxnumbers.web.requestid import request_id_of

_NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BodyLimits(HttpMiddleware):
    """Applies the module's two rules to every HTTP request before ``app`` sees it."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        larger: Mapping[tuple[str, re.Pattern[str]], int] | None = None,
    ) -> None:
        """``larger``: the limit of the routes (method, path pattern) that take more."""
        super().__init__(app)
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})

    def limit_of(self, scope: Scope) -> int:
        """The body limit of the request's route."""
        for (method, path), limit in self.larger.items():
            if scope.get("method") == method and path.match(scope.get("path", "")):
                return limit
        return self.max_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        length, chunked = _declared_body(scope)
        if length is not None and length > self.limit_of(scope):
            await _refuse(PayloadTooLarge(), scope, send)
            return
        if chunked or length:  # no body declared: a disconnect is only the client leaving
            receive = _whole_body(receive)
        if scope.get("method") in _NO_BODY_METHODS and (chunked or length):
            try:
                await self._drain(receive)
            except ApiError as error:
                await _refuse(error, scope, send)
                return
            receive = _no_body(receive)
        await self.app(scope, receive, send)

    async def _drain(self, receive: Receive) -> None:
        size, more = 0, True
        while more:
            message: Any = await receive()
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                raise PayloadTooLarge()
            more = message.get("more_body", False)


def _declared_body(scope: Scope) -> tuple[int | None, bool]:
    """The ``Content-Length`` (``None`` when absent or not a number: the server refuses
    those), and whether the body is chunked."""
    length, chunked = None, False
    for name, value in scope["headers"]:
        if name == b"content-length" and value.strip().isdigit():
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = True
    return length, chunked


def _whole_body(receive: Receive) -> Receive:
    """``receive``, raising ``400`` on ``body`` for a disconnect before the body's end."""
    ended = False

    async def receive_whole() -> ReceiveMessage:
        nonlocal ended
        message = await receive()
        if message["type"] == "http.request":
            ended = not message.get("more_body", False)
        elif message["type"] == "http.disconnect" and not ended:
            raise malformed_json("ended before it was complete")
        return message

    return receive_whole


def _no_body(receive: Receive) -> Receive:
    """What the application reads of a body already drained: nothing, then what comes."""
    given = False

    async def receive_nothing() -> ReceiveMessage:
        nonlocal given
        if not given:
            given = True
            empty: HTTPRequestEvent = {"type": "http.request", "body": b"", "more_body": False}
            return empty
        return await receive()

    return receive_nothing


async def _refuse(error: ApiError, scope: Scope, send: Send) -> None:
    response = error_response(error, request_id_of(scope))
    body: bytes = response.content
    start: Any = {
        "type": "http.response.start",
        "status": response.status_code,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    await send(start)
    end: Any = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)
