"""Opaque paging cursors: a small JSON object, base64url-encoded.

Cursors are not secrets (every query is still scoped to the caller's account); they are
opaque so that clients do not build them, and strictly checked so that a damaged one is a
clear ``400`` instead of a wrong page.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import msgspec

_MAX_LENGTH = 1024


class InvalidCursor(ValueError):
    """The text is not a cursor this server made."""


def encode_cursor(payload: dict[str, Any]) -> str:
    raw = msgspec.json.encode(payload)
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(text: str) -> dict[str, Any]:
    if len(text) > _MAX_LENGTH or not text.isascii():
        raise InvalidCursor("is not a cursor returned by this API")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        payload = msgspec.json.decode(raw)
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise InvalidCursor("is not a cursor returned by this API") from exc
    if not isinstance(payload, dict):
        raise InvalidCursor("is not a cursor returned by this API")
    return payload
