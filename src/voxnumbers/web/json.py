"""The application's response class: JSON rendered by ``kit.jsonc.encode_json``."""

from __future__ import annotations

from typing import Any

from litestar import Response
from litestar.serialization import default_serializer

from voxnumbers.kit.jsonc import encode_json


class JsonResponse(Response[Any]):
    """Every JSON response of the API, so money reads ``1.25`` and ``0.00``."""

    def render(self, content: Any, media_type: str, enc_hook: Any = default_serializer) -> bytes:
        if isinstance(content, bytes):
            return content
        if media_type.startswith("application/json"):
            return encode_json(content)
        return super().render(content, media_type, enc_hook)
