"""JSON and time on the wire: money stays ``Decimal`` both ways, times are aware UTC.

The standard library decodes ``1.25`` to a binary float and cannot encode a ``Decimal`` as a
JSON number; money must never pass through a float, so both directions are handled here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any


def loads(content: bytes | str) -> Any:
    """Decode JSON, reading every non-integer number as a ``Decimal``."""
    return json.loads(content, parse_float=Decimal)


def dumps(value: Any, *, indent: int | None = None) -> str:
    """Encode JSON-shaped data; ``Decimal`` becomes a JSON number, ``datetime`` an ISO string.

    With ``indent`` the output is laid out like ``json.dumps(..., indent=indent)``; without,
    it is compact (the form sent in request bodies).
    """
    return "".join(_encode(value, indent, 0))


def format_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` (``2026-03-15T08:20:00Z``), as the API writes times.

    Naive datetimes are refused: the SDK cannot know which clock they were read from.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"datetime {value!r} has no timezone; pass an aware datetime (UTC)")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_datetime(value: str) -> datetime:
    """Parse an API time into an aware ``datetime`` (a time without offset is taken as UTC)."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _encode(value: Any, indent: int | None, depth: int) -> Iterator[str]:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be written as JSON")
        yield str(value)
    elif isinstance(value, datetime):
        yield json.dumps(format_datetime(value))
    elif isinstance(value, Mapping):
        yield from _container(
            "{",
            "}",
            [_member(key, item, indent, depth) for key, item in value.items()],
            indent,
            depth,
        )
    elif isinstance(value, list | tuple):
        yield from _container(
            "[", "]", ["".join(_encode(item, indent, depth + 1)) for item in value], indent, depth
        )
    else:
        yield json.dumps(value)


def _member(key: Any, value: Any, indent: int | None, depth: int) -> str:
    separator = ":" if indent is None else ": "
    return json.dumps(str(key)) + separator + "".join(_encode(value, indent, depth + 1))


def _container(
    opening: str, closing: str, parts: list[str], indent: int | None, depth: int
) -> Iterator[str]:
    if not parts:
        yield opening + closing
    elif indent is None:
        yield opening + ",".join(parts) + closing
    else:
        inner = "\n" + " " * (indent * (depth + 1))
        yield opening + inner + ("," + inner).join(parts) + "\n" + " " * (indent * depth) + closing
