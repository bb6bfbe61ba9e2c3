"""API keys: TryVox's shape, random, stored only as a digest, shown only as a hint."""

from __future__ import annotations

import hashlib
import re

import pytest

from voxnumbers.kit.apikeys import (
    LIVE_PREFIX,
    TEST_PREFIX,
    digest_key,
    generate_key,
    key_hint,
    looks_like_key,
)


@pytest.mark.parametrize(
    ("test", "prefix", "mode"), [(False, LIVE_PREFIX, "live"), (True, TEST_PREFIX, "test")]
)
def test_generated_keys_have_tryvox_shape(test, prefix, mode):
    key = generate_key(test=test)
    assert prefix in ("tvx_sk_live_", "tvx_sk_test_")
    assert re.fullmatch(re.escape(prefix) + r"[A-Za-z0-9]{40}", key.secret)
    assert key.mode == mode
    assert looks_like_key(key.secret)


def test_keys_are_random():
    secrets = {generate_key().secret for _ in range(200)}
    assert len(secrets) == 200


def test_only_a_digest_is_kept_and_it_reveals_nothing():
    key = generate_key()
    assert key.digest == digest_key(key.secret) == hashlib.sha256(key.secret.encode()).hexdigest()
    assert key.secret not in key.digest
    assert len(key.digest) == 64
    assert digest_key(key.secret + "x") != key.digest


def test_the_hint_shows_the_prefix_and_last_four_only():
    key = generate_key(test=True)
    assert key.hint == f"tvx_sk_test_…{key.secret[-4:]}"
    assert key_hint("tvx_sk_live_abcdefghijklmnopqrstuvwxyz") == "tvx_sk_live_…wxyz"
    assert key.secret[len(TEST_PREFIX) : -4] not in key.hint


@pytest.mark.parametrize(
    "text",
    [
        "",
        "tvx_sk_live_",
        "tvx_sk_live_ab",
        "sk_live_" + "a" * 40,
        "tvx_pk_live_" + "a" * 40,
        "TVX_SK_LIVE_" + "a" * 40,
        "tvx_sk_live_" + "a" * 200,
    ],
)
def test_things_that_are_not_keys_are_recognised_without_a_lookup(text):
    assert not looks_like_key(text)


def test_digest_accepts_any_text_a_header_can_carry():
    assert len(digest_key("tvx_sk_live_\udcff\x00")) == 64
