"""Request ids, security headers and one JSON access-log line per request (pure ASGI)."""

from __future__ import annotations

import re
import time

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from voxnumbers.kit.ids import random_token

_VALID_INCOMING_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
_STATE_KEY = "request_id"

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
)

access_log = structlog.get_logger("voxnumbers.access")


def request_id_of(scope: Scope) -> str:
    """The id of the request this scope belongs to (set by ``RequestIdMiddleware``)."""
    state = scope.get("state") or {}
    return str(state.get(_STATE_KEY) or "req_unknown")


class RequestIdMiddleware:
    """Gives every request an id (the caller's ``X-Request-ID`` when it is sane), returns it
    in ``X-Request-ID``, adds security headers and logs the outcome. Never logs headers or
    query strings, so no key can reach the log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or f"req_{random_token(20)}"
        scope.setdefault("state", {})[_STATE_KEY] = request_id  # type: ignore[typeddict-unknown-key]
        started = time.perf_counter()
        status = 500
        id_header = (b"x-request-id", request_id.encode())

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                headers.append(id_header)
                headers.extend(SECURITY_HEADERS)
                message["headers"] = headers  # type: ignore[typeddict-unknown-key]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            access_log.info(
                "request",
                request_id=request_id,
                method=scope.get("method"),
                path=scope.get("path"),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _VALID_INCOMING_ID.match(text) else None
    return None
