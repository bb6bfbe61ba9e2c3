"""Serve an ASGI app, running in the test's event loop, to callers in another thread.

Schemathesis' ASGI transport calls the application from its own event loop thread, and its
checks block while they send follow-up requests (``ignored_auth`` re-sends each success
without credentials). The app under test, though, must run in the test's loop: its database
connections (asyncpg above all) belong to the loop that opened them, and the ``database``
fixture and the app's lifespan live there. ``LoopBridge`` is an ASGI app schemathesis can
call; it hands every request over to the real app in the test's loop and relays the answer.
The test's loop stays free to serve them while schemathesis runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from tests.api.support import serve_the_schema, state_per_request


@contextlib.asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[tuple[httpx.AsyncClient, ASGIApp]]:
    """The app running in this loop, lifespan and all (as ``tests.api.support.running``):
    a client on it, and the app as an ASGI server calls it (for requests httpx cannot make,
    and for ``LoopBridge``). The app has served its OpenAPI description first."""
    async with LifespanManager(state_per_request(app)) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            await serve_the_schema(http)
            yield http, manager.app


class LoopBridge:
    """An ASGI app forwarding each HTTP request to ``app`` in ``loop``."""

    def __init__(self, app: ASGIApp, loop: asyncio.AbstractEventLoop) -> None:
        self.app: ASGIApp | None = app
        self.loop = loop

    def close(self) -> None:
        """Refuse further requests (schemathesis keeps a reference to every app it served)."""
        self.app = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _no_lifespan(receive, send)  # the real app's lifespan runs in the test
            return
        if self.app is None:
            raise RuntimeError("the bridge was closed: its test has ended")
        body = await _read_body(receive)
        answer = asyncio.run_coroutine_threadsafe(_serve(self.app, scope, body), self.loop)
        for message in await asyncio.wrap_future(answer):
            await send(message)


async def _no_lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Receive) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _serve(app: ASGIApp, scope: Scope, body: bytes) -> list[Message]:
    """One request through ``app`` (in the loop this runs in); the messages it sent."""
    sent: list[Message] = []
    delivered = asyncio.Event()
    answered = asyncio.Event()  # then the client "disconnects", as a server reports it

    async def receive() -> Message:
        if not delivered.is_set():
            delivered.set()
            return {"type": "http.request", "body": body, "more_body": False}
        await answered.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            answered.set()

    local: dict[str, Any] = {**scope, "state": dict(scope.get("state") or {})}
    try:
        await app(local, receive, send)  # type: ignore[arg-type]
    finally:
        answered.set()
    return sent
