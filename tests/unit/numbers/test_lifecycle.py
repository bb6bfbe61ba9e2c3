"""Every allowed and every refused transition of the status machine."""

from __future__ import annotations

import itertools

import pytest

from voxnumbers.numbers.lifecycle import (
    STATUSES,
    TRANSITIONS,
    InvalidTransition,
    can,
    next_status,
)

ALLOWED = [
    ("pending", "activate", "active"),
    ("active", "suspend", "suspended"),
    ("suspended", "reinstate", "active"),
    ("active", "release", "released"),
    ("suspended", "release", "released"),
    ("released", "cancel_release", "active"),
    ("released", "return", "inventory"),
    ("pending", "route", "pending"),
    ("active", "route", "active"),
    ("suspended", "route", "suspended"),
]
ALLOWED_PAIRS = {(status, action) for status, action, _ in ALLOWED}
REFUSED = [
    (status, action)
    for status, action in itertools.product(STATUSES, TRANSITIONS)
    if (status, action) not in ALLOWED_PAIRS
]


@pytest.mark.parametrize(("status", "action", "after"), ALLOWED)
def test_allowed_transition(status: str, action: str, after: str) -> None:
    assert can(status, action)  # type: ignore[arg-type]
    assert next_status(status, action) == after  # type: ignore[arg-type]


@pytest.mark.parametrize(("status", "action"), REFUSED)
def test_refused_transition(status: str, action: str) -> None:
    assert not can(status, action)  # type: ignore[arg-type]
    with pytest.raises(InvalidTransition) as refused:
        next_status(status, action)  # type: ignore[arg-type]
    assert status in str(refused.value)


def test_the_table_is_exactly_the_documented_machine() -> None:
    table = {(s, a, t) for a, moves in TRANSITIONS.items() for s, t in moves.items()}
    assert table == set(ALLOWED)
    assert len(REFUSED) == len(STATUSES) * len(TRANSITIONS) - len(ALLOWED)
