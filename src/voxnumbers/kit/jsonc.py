"""The API's JSON encoding: money as two-decimal numbers, times as ISO 8601 with ``Z``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
from litestar.serialization import default_serializer

_ENCODER = msgspec.json.Encoder(enc_hook=default_serializer, decimal_format="number")
_DECODER = msgspec.json.Decoder(float_hook=Decimal)


def encode_json(content: Any) -> bytes:
    """Encode like every response of the API (``Decimal('0.00')`` -> ``0.00``)."""
    return _ENCODER.encode(content)


def to_json_data(content: Any) -> Any:
    """Plain JSON data (dicts, lists, numbers) of a response object, e.g. for an event.
    Non-integer numbers come back as ``Decimal`` so money keeps its two decimals."""
    return decode_json(_ENCODER.encode(content))


def decode_json(raw: bytes | str) -> Any:
    """JSON to Python data, with non-integer numbers as ``Decimal`` (never binary floats)."""
    return _DECODER.decode(raw)


def encode_json_text(content: Any) -> str:
    """``encode_json`` as text, for JSON database columns."""
    return _ENCODER.encode(content).decode()
