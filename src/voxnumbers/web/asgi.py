"""What the pure ASGI middlewares of ``web/`` share: they act on HTTP requests only."""

from __future__ import annotations

import abc

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send


class HttpMiddleware(abc.ABC):
    """A pure ASGI middleware of HTTP requests: each goes to ``handle``; other scopes
    (lifespan, websockets) pass through to ``app`` untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    @abc.abstractmethod
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """One HTTP request, to be passed on to ``self.app`` or answered here."""
