"""Prefixed random identifiers (``acc_…``, ``trunk_…``, ``key_…``)."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits


def random_token(length: int, alphabet: str = _ALPHABET) -> str:
    """A random string drawn uniformly from ``alphabet`` (at most 256 characters) by the
    operating system's CSPRNG, usually in one call to it."""
    size = len(alphabet)
    unbiased = 256 - 256 % size  # bytes at or above it would favour the first characters
    chars: list[str] = []
    while len(chars) < length:
        chars.extend(alphabet[b % size] for b in secrets.token_bytes(length) if b < unbiased)
    return "".join(chars[:length])


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
