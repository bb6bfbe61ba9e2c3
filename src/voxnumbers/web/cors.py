"""CORS: off unless ``VOX_CORS_ORIGINS`` names the origins whose pages may call the API.

Keys travel in the ``Authorization`` header, never in cookies, so credentials mode stays off.
Litestar answers preflights before routing; a refused one would be a plain-text body, so a
``before_send`` hook turns it into the error envelope like every other refusal.
"""

from __future__ import annotations

from litestar.config.cors import CORSConfig
from litestar.types import Message, Method, Scope

from voxnumbers.errors import ValidationFailed
from voxnumbers.settings import Settings
from voxnumbers.web.envelope import error_response
from voxnumbers.web.requestid import request_id_of

ALLOWED_METHODS: list[Method] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
ALLOWED_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "X-Request-ID",
]
EXPOSED_RESPONSE_HEADERS = [
    "X-Request-ID",
    "RateLimit",
    "RateLimit-Policy",
    "Retry-After",
    "ETag",
    "Idempotent-Replayed",
]
_REFUSED_BODY = "cors_refused_body"


def cors_config(settings: Settings) -> CORSConfig | None:
    """Litestar's CORS for the configured origins, or ``None`` (no CORS headers at all)."""
    origins = [origin.strip() for origin in settings.cors_origins.split(",") if origin.strip()]
    if not origins:
        return None
    return CORSConfig(
        allow_origins=origins,
        allow_methods=list(ALLOWED_METHODS),
        allow_headers=ALLOWED_REQUEST_HEADERS,
        expose_headers=EXPOSED_RESPONSE_HEADERS,
        allow_credentials=False,
    )


async def envelope_refused_preflight(message: Message, scope: Scope) -> None:
    """``before_send`` hook: a refused preflight answers the error envelope, not plain text."""
    if scope.get("method") != "OPTIONS":
        return
    state = scope.setdefault("state", {})
    if message["type"] == "http.response.start":
        content_type = dict(message.get("headers", ())).get(b"content-type", b"")
        if message["status"] != 400 or not content_type.startswith(b"text/plain"):
            return
        response = error_response(
            ValidationFailed("This cross-origin request is not allowed (CORS)."),
            request_id_of(scope),
        )
        body: bytes = response.content
        state[_REFUSED_BODY] = body
        kept = [
            (name, value)
            for name, value in message.get("headers", ())
            if name.lower() not in (b"content-type", b"content-length", b"x-request-id")
        ]
        message["headers"] = [
            *kept,
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id_of(scope).encode()),
        ]
    elif message["type"] == "http.response.body" and _REFUSED_BODY in state:
        message["body"] = state.pop(_REFUSED_BODY)
