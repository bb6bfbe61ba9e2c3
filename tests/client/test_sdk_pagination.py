"""Walking pages of the real server with the SDK, sync and async."""

from __future__ import annotations

from datetime import timedelta

from tests.api.support import own
from tests.client.support import Vox, assert_matches_wire
from tests.factories import US_NUMBERS, Tenant
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.db import Database

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


async def test_iteration_yields_every_number_once_in_order(vox: Vox, database: Database) -> None:
    expected = await owned(database, vox.tenant)
    items = await vox.items(vox.client.numbers.list(per_page=20))
    assert [n.e164 for n in items] == expected
    assert pages_requested(vox) == [None, "2", "3"]  # and nothing after the last page


async def test_each_page_has_the_servers_pagination(vox: Vox, database: Database) -> None:
    expected = await owned(database, vox.tenant)
    pages = await vox.pages(vox.client.numbers.list(per_page=20))
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
