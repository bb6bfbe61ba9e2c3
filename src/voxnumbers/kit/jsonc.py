"""The API's JSON encoding: money as two-decimal numbers, times as ISO 8601 with ``Z``."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.serialization import default_serializer

_ENCODER = msgspec.json.Encoder(enc_hook=default_serializer, decimal_format="number")


def encode_json(content: Any) -> bytes:
    """Encode like every response of the API (``Decimal('0.00')`` -> ``0.00``)."""
    return _ENCODER.encode(content)


def to_json_data(content: Any) -> Any:
    """Plain JSON data (dicts, lists, numbers) of a response object, e.g. for an event."""
    return msgspec.json.decode(_ENCODER.encode(content))
