"""Walking pages of the real server with the SDK, sync and async."""

from __future__ import annotations

from datetime import timedelta

from tests.api.support import own
from tests.client.support import Vox, assert_matches_wire
from tests.factories import US_NUMBERS, Tenant
from voxnumbers.db.engine import Database
from voxnumbers.kit.clock import utc_now

COUNT = 45


async def owned(database: Database, tenant: Tenant) -> list[str]:
    """45 numbers bought a minute apart; the list's order is the order of purchase."""
    start = utc_now() - timedelta(days=1)
    e164s = US_NUMBERS[:COUNT]
    # Inserted out of order, so only the server's ordering can put them back.
    for i in reversed(range(COUNT)):
        await own(database, tenant, e164s[i], created_at=start + timedelta(minutes=i))
    return e164s


def pages_requested(vox: Vox) -> list[str | None]:
    return [exchange.request.url.params.get("page") for exchange in vox.wire.exchanges]


def cursors_sent(vox: Vox) -> list[str | None]:
    return [exchange.request.url.params.get("cursor") for exchange in vox.wire.exchanges]


async def test_iteration_yields_every_number_once_in_order(vox: Vox, database: Database) -> None:
    expected = await owned(database, vox.tenant)
    items = await vox.items(vox.client.numbers.list(per_page=20))
    assert [n.e164 for n in items] == expected
    # The walk follows cursors from the first page on, and stops after the last page.
    cursors = cursors_sent(vox)
    assert pages_requested(vox) == [None, None, None]
    assert cursors[0] == "" and all(cursors[1:]) and len(set(cursors)) == 3
    assert [x.json()["pagination"]["next_cursor"] for x in vox.wire.exchanges] == [
        *cursors[1:],
        None,
    ]


async def test_a_walk_misses_nothing_when_numbers_of_a_seen_page_are_released(
    vox: Vox, database: Database
) -> None:
    expected = await owned(database, vox.tenant)
    listing = vox.client.numbers.list(per_page=20)
    walk = listing.__aiter__() if vox.flavour == "async" else iter(listing)

    async def step() -> str | None:
        if vox.flavour == "async":
            item = await anext(walk, None)
        else:
            item = next(walk, None)
        return None if item is None else str(item.e164)

    seen = [await step() for _ in range(20)]  # all of page 1
    for e164 in expected[:3]:
        await vox(vox.client.numbers.release(e164))
    while (e164 := await step()) is not None:
        seen.append(e164)
    assert seen == expected  # nothing skipped, nothing twice


async def test_a_walk_stops_at_its_limit_without_fetching_more(
    vox: Vox, database: Database
) -> None:
    expected = await owned(database, vox.tenant)
    listing = vox.client.numbers.list(per_page=20)
    if vox.flavour == "async":
        got = [n async for n in listing.auto_paging_iter(limit=25)]
    else:
        got = list(listing.auto_paging_iter(limit=25))
    assert [n.e164 for n in got] == expected[:25]
    assert len(vox.wire.exchanges) == 2
    if vox.flavour == "async":
        exact = [n async for n in vox.client.numbers.list(per_page=20).auto_paging_iter(limit=20)]
    else:
        exact = list(vox.client.numbers.list(per_page=20).auto_paging_iter(limit=20))
    assert [n.e164 for n in exact] == expected[:20]
    assert len(vox.wire.exchanges) == 3  # the limit was reached with page 1: no page 2


async def test_a_walk_from_a_page_number_goes_on_by_page_number(
    vox: Vox, database: Database
) -> None:
    expected = await owned(database, vox.tenant)
    items = await vox.items(vox.client.numbers.list(page=2, per_page=20))
    assert [n.e164 for n in items] == expected[20:]
    assert pages_requested(vox) == ["2", "3"] and cursors_sent(vox) == [None, None]


async def test_each_page_has_the_servers_pagination(vox: Vox, database: Database) -> None:
    expected = await owned(database, vox.tenant)
    pages = await vox.pages(vox.client.numbers.list(page=1, per_page=20))
    assert [
        (p.pagination.current_page, p.pagination.count, p.pagination.total, p.pagination.per_page)
        for p in pages
    ] == [(1, 20, COUNT, 20), (2, 20, COUNT, 20), (3, 5, COUNT, 20)]
    assert {p.pagination.total_pages for p in pages} == {3}
    assert [p.has_next_page() for p in pages] == [True, True, False]
    for page, exchange in zip(pages, vox.wire.exchanges, strict=True):
        assert_matches_wire(page.pagination, exchange.json()["pagination"])
    assert [n.e164 for p in pages for n in p.data] == expected


async def test_a_later_page_then_its_next(vox: Vox, database: Database) -> None:
    expected = await owned(database, vox.tenant)
    second = await vox(vox.client.numbers.list(page=2, per_page=20, status="active"))
    assert [n.e164 for n in second.data] == expected[20:40]
    third = await vox(second.next_page())
    assert [n.e164 for n in third.data] == expected[40:]
    assert await vox(third.next_page()) is None
    assert vox.wire.exchanges[-1].request.url.params.get("status") == "active"


async def test_a_page_past_the_end_is_empty(vox: Vox, database: Database) -> None:
    await owned(database, vox.tenant)
    beyond = await vox(vox.client.numbers.list(page=4, per_page=20))
    assert beyond.data == [] and beyond.pagination.total == COUNT
    assert await vox.items(vox.client.numbers.list(page=4, per_page=20)) == []
    assert len(vox.wire.exchanges) == 2
