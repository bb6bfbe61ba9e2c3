"""Prefixed random identifiers (``acc_…``, ``trunk_…``, ``key_…``)."""

from __future__ import annotations

import secrets
import string
from functools import cache

_ALPHABET = string.ascii_lowercase + string.digits


def random_token(length: int, alphabet: str = _ALPHABET) -> str:
    """A random string drawn uniformly from ``alphabet`` (ASCII, at most 256 characters) by
    the operating system's CSPRNG, usually in one call to it. Bytes become characters by
    one ``bytes.translate`` (a bulk job makes a thousand ids a batch)."""
    table, biased = _translation(alphabet)
    token = b""
    while len(token) < length:
        token += secrets.token_bytes(length).translate(table, biased)
    return token[:length].decode("ascii")


@cache
def _translation(alphabet: str) -> tuple[bytes, bytes]:
    """Each byte's character, and the bytes to drop: those at or above the largest multiple
    of the alphabet's size would favour its first characters."""
    size = len(alphabet)
    unbiased = 256 - 256 % size
    table = bytes(ord(alphabet[byte % size]) if byte < unbiased else 0 for byte in range(256))
    return table, bytes(range(unbiased, 256))


def new_id(prefix: str, length: int = 16) -> str:
    """A new identifier such as ``acc_3k9x0q2m7d1c5v8b`` (16 chars ≈ 82 bits)."""
    return f"{prefix}_{random_token(length)}"


def is_well_formed(object_id: str, prefix: str) -> bool:
    """Whether ``object_id`` has the shape of an id made by ``new_id(prefix)``; lets lookups
    of garbage ids answer 404 without reaching the database."""
    head, sep, tail = object_id.partition("_")
    return (
        sep == "_"
        and head == prefix
        and 1 <= len(tail) <= 36
        and all(ch in _ALPHABET for ch in tail)
    )
