"""Random tokens and identifiers."""

from __future__ import annotations

import string
from collections import Counter

from voxnumbers.kit.ids import is_well_formed, new_id, random_token


def test_tokens_have_the_length_and_alphabet_asked_for() -> None:
    for length in (1, 20, 40, 200):
        token = random_token(length)
        assert len(token) == length
        assert set(token) <= set(string.ascii_lowercase + string.digits)
    assert set(random_token(500, "ab")) == {"a", "b"}


def test_every_character_is_about_as_likely() -> None:
    """36 characters do not divide 256: without rejecting the last bytes, the first four
    characters would come up 8/7 as often as the others."""
    counts = Counter(random_token(360_000))
    assert set(counts) == set(string.ascii_lowercase + string.digits)
    # 10,000 expected each; the standard deviation is about 99.
    assert max(counts.values()) - min(counts.values()) < 1_000


def test_ids_are_prefixed_and_recognisable() -> None:
    object_id = new_id("acc")
    assert object_id.startswith("acc_") and len(object_id) == 20
    assert is_well_formed(object_id, "acc")
    assert not is_well_formed(object_id, "key")
    assert not is_well_formed("acc_ABC", "acc")
    assert len({new_id("acc") for _ in range(1000)}) == 1000
