"""Request ids, security headers and one JSON access-log line per request (pure ASGI).

``RequestIdMiddleware`` wraps the whole application, outside routing, so every response
(unknown routes, wrong methods and CORS preflights included) carries them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from voxnumbers.kit.ids import random_token
from voxnumbers.kit.jsonc import encode_json
from voxnumbers.web.asgi import HttpMiddleware

_VALID_INCOMING_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
# An API key sent where it does not belong (a path, X-Request-ID) is never echoed or logged.
_KEY_SHAPED = re.compile(r"tvx_sk_\w+")
_STATE_KEY = "request_id"

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
)

access_log = structlog.get_logger("voxnumbers.access")
error_log = structlog.get_logger("voxnumbers.errors")

# Called once per request: (method, route template or None, status, seconds).
Observer = Callable[[str, str | None, int, float], None]


def request_id_of(scope: Scope) -> str:
    """The id of the request this scope belongs to: set by ``RequestIdMiddleware``, or here
    for requests refused before it runs (unknown routes, wrong methods)."""
    state = scope.setdefault("state", {})
    if not state.get(_STATE_KEY):
        state[_STATE_KEY] = _incoming_id(scope) or _new_request_id()
    return str(state[_STATE_KEY])


def request_origin(scope: Scope) -> tuple[str, str | None]:
    """The request id and client address the audit log records with a change."""
    client = scope.get("client")
    return request_id_of(scope), client[0] if client else None


class RequestIdMiddleware(HttpMiddleware):
    """Gives every request an id (the caller's ``X-Request-ID`` when it is sane), returns it
    in ``X-Request-ID``, adds security headers and logs the outcome. Never logs headers or
    query strings, and masks anything shaped like a key in the path, so no key can reach the
    log. A ``204`` never leaves the server: it becomes ``200`` with a JSON body (API.md §1)."""

    def __init__(
        self,
        app: ASGIApp,
        observe: Observer | None = None,
        answer_unhandled: Callable[[str], list[Message]] | None = None,
    ) -> None:
        """``observe`` sees each request's outcome; ``answer_unhandled(request_id)`` is the
        response to an exception that escaped the application before it answered."""
        super().__init__(app)
        self.observe = observe
        self.answer_unhandled = answer_unhandled

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = _incoming_id(scope) or _new_request_id()
        scope.setdefault("state", {})[_STATE_KEY] = request_id
        started = time.perf_counter()
        status = 500
        id_header = (b"x-request-id", request_id.encode())
        filler = b""
        responded = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, filler, responded
            if message["type"] == "http.response.start":
                responded = True
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                if message["status"] == 204:
                    filler = _body_for_no_content(headers)
                    headers = [h for h in headers if h[0].lower() not in _BODY_HEADERS]
                    headers.append((b"content-type", b"application/json"))
                    headers.append((b"content-length", str(len(filler)).encode()))
                    message["status"] = 200
                status = message["status"]
                headers.append(id_header)
                headers.extend(SECURITY_HEADERS)
                message["headers"] = headers
            elif message["type"] == "http.response.body" and filler:
                message["body"], filler = filler, b""
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            # Whatever ends a request without an answer (a failure after the response
            # started, a client gone mid-response) leaves a line naming the request.
            error_log.error(
                "request failed",
                request_id=request_id,
                method=scope.get("method"),
                path=_KEY_SHAPED.sub("tvx_sk_[redacted]", scope.get("path") or ""),
                exc_info=exc,
            )
            if responded or self.answer_unhandled is None:
                raise
            for message in self.answer_unhandled(request_id):
                await send_with_headers(message)
        finally:
            seconds = time.perf_counter() - started
            if self.observe is not None:
                self.observe(
                    str(scope.get("method", "")), scope.get("path_template"), status, seconds
                )
            access_log.info(
                "request",
                request_id=request_id,
                method=scope.get("method"),
                path=scope.get("path"),  # a key in it is masked, as in every line (logs.py)
                status=status,
                duration_ms=round(seconds * 1000, 2),
            )


_BODY_HEADERS = frozenset({b"content-type", b"content-length"})


def _body_for_no_content(headers: list[tuple[bytes, bytes]]) -> bytes:
    """The JSON body of what would have been a ``204``: for ``OPTIONS``, the methods allowed."""
    found = dict((name.lower(), value) for name, value in headers)
    allow = found.get(b"allow") or found.get(b"access-control-allow-methods") or b""
    methods = sorted({m.strip().decode("latin-1") for m in allow.split(b",") if m.strip()})
    return encode_json({"allow": methods})


def _new_request_id() -> str:
    return f"req_{random_token(20)}"


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _VALID_INCOMING_ID.match(text) and not _KEY_SHAPED.search(text):
                return text
            return None
    return None
