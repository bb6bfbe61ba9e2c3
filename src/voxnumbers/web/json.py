"""JSON responses: money as two-decimal numbers, times as ISO 8601 ``Z``."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Response
from litestar.serialization import default_serializer

_ENCODER = msgspec.json.Encoder(enc_hook=default_serializer, decimal_format="number")


def encode_json(content: Any) -> bytes:
    """Encode like every response of the API (``Decimal('0.00')`` -> ``0.00``)."""
    return _ENCODER.encode(content)


class JsonResponse(Response[Any]):
    """The application's response class: JSON rendered by ``encode_json``."""

    def render(self, content: Any, media_type: str, enc_hook: Any = default_serializer) -> bytes:
        if isinstance(content, bytes):
            return content
        if media_type.startswith("application/json"):
            return encode_json(content)
        return super().render(content, media_type, enc_hook)
