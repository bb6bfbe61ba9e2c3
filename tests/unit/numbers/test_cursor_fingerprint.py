"""A cursor is valid only for the filters and sort it was made for (its fingerprint), and a
cursor made by an earlier release stays valid: the fingerprint does not follow the order of
``NumberFilter``'s fields."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from voxnumbers.numbers.schemas import ListOrder, NumberFilter
from voxnumbers.numbers.service import listing


def test_every_filter_field_is_fingerprinted() -> None:
    assert set(listing._FINGERPRINTED) == set(NumberFilter.__struct_fields__)


@pytest.mark.parametrize(
    ("where", "sort", "issued"),
    [
        # Fingerprints as the first release with cursors computed them.
        (NumberFilter(), "created_at", "9a57cdeae2129df7"),
        (NumberFilter(), "-e164", "fbc1600ab33e503d"),
        (
            NumberFilter(
                country="US",
                status="active",
                capabilities_mask=3,
                created_after=datetime(2026, 1, 1, tzinfo=UTC),
            ),
            "created_at",
            "df5e89eca4a6013c",
        ),
        (
            NumberFilter(trunk_id="trunk_x", routed=True, contains="555"),
            "-e164",
            "8945135aaee23f02",
        ),
    ],
)
def test_fingerprints_of_earlier_releases_still_match(
    where: NumberFilter, sort: str, issued: str
) -> None:
    assert listing._fingerprint(where, ListOrder.parse(sort)) == issued


def test_the_time_of_the_request_is_not_fingerprinted() -> None:
    order = ListOrder.parse("created_at")
    early = NumberFilter(status="released", now=datetime(2026, 1, 1, tzinfo=UTC))
    late = NumberFilter(status="released", now=datetime(2026, 6, 1, tzinfo=UTC))
    assert listing._fingerprint(early, order) == listing._fingerprint(late, order)
    assert listing._fingerprint(early, order) != listing._fingerprint(NumberFilter(), order)
