"""API key material: generation, hashing and the parts of a key that may be shown."""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass

from voxnumbers.kit.ids import random_token

LIVE_PREFIX = "tvx_sk_live_"
TEST_PREFIX = "tvx_sk_test_"
_SECRET_LENGTH = 40  # base62: ~238 bits of entropy
_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly generated key: ``secret`` is shown once, ``digest`` is what is stored."""

    secret: str
    digest: str
    hint: str
    mode: str


def generate_key(test: bool = False) -> NewKey:
    """A new random key ``tvx_sk_live_…`` (or ``tvx_sk_test_…``)."""
    prefix = TEST_PREFIX if test else LIVE_PREFIX
    secret = prefix + random_token(_SECRET_LENGTH, _ALPHABET)
    return NewKey(
        secret=secret,
        digest=digest_key(secret),
        hint=key_hint(secret),
        mode="test" if test else "live",
    )


def digest_key(secret: str) -> str:
    """SHA-256 of the key: keys are long and random, so a fast hash is safe and lets lookups
    be a single indexed equality (the comparison happens inside the index, on digests)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


def key_hint(secret: str) -> str:
    """The part of a key safe to display: prefix and last four characters."""
    prefix = TEST_PREFIX if secret.startswith(TEST_PREFIX) else LIVE_PREFIX
    return f"{prefix}…{secret[-4:]}"


def looks_like_key(secret: str) -> bool:
    """Cheap shape check before any database lookup."""
    return secret.startswith((LIVE_PREFIX, TEST_PREFIX)) and 16 < len(secret) < 200


OPERATOR_PREFIX = "tvx_op_"


def generate_operator_token() -> NewKey:
    """A new random operator token ``tvx_op_…`` (the admin API's credential)."""
    secret = OPERATOR_PREFIX + random_token(_SECRET_LENGTH, _ALPHABET)
    return NewKey(
        secret=secret,
        digest=digest_key(secret),
        hint=f"{OPERATOR_PREFIX}…{secret[-4:]}",
        mode="operator",
    )


def looks_like_operator_token(secret: str) -> bool:
    """Cheap shape check before any database lookup."""
    return secret.startswith(OPERATOR_PREFIX) and 16 < len(secret) < 200
