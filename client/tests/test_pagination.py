"""Pages: ``.data``/``.pagination``, ``next_page``, and walking every page (sync and async)."""

from __future__ import annotations

import pytest
from fake_api import FakeTryVox

from conftest import raw_target
from voxnumbers_client import AsyncClient, AsyncPage, Client, Page, ValidationFailedError

BASE = "/v1/account/acc_123abc/numbers"


def test_iterating_a_page_walks_every_page_in_order(client: Client, fake: FakeTryVox) -> None:
    numbers = list(client.numbers.list())

    assert len(numbers) == 47 == len({n.e164 for n in numbers})
    assert [n.created_at for n in numbers] == sorted(n.created_at for n in numbers)
    # The numbers list is walked by cursor, from the first page on.
    targets = [raw_target(r) for r in fake.requests]
    assert targets[0] == f"{BASE}?cursor="
    assert [r.url.params["cursor"] for r in fake.requests[1:]] == [
        "bzoyMA==",  # the fake's cursors: base64 of "o:20" and "o:40"
        "bzo0MA==",
    ]


def test_walking_keeps_the_filters(client: Client, fake: FakeTryVox) -> None:
    suspended = list(client.numbers.list(status="suspended", per_page=2))

    assert {n.status for n in suspended} == {"suspended"}
    assert len(suspended) == 4
    last = fake.requests[-1].url.params
    assert (last["status"], last["per_page"], "page" in last) == ("suspended", "2", False)


def test_walking_from_a_page_number_goes_on_by_page_number(
    client: Client, fake: FakeTryVox
) -> None:
    numbers = list(client.numbers.list(page=2))
    assert len(numbers) == 27
    assert [raw_target(r) for r in fake.requests] == [f"{BASE}?page=2", f"{BASE}?page=3"]


def test_a_walk_stops_at_its_limit(client: Client, fake: FakeTryVox) -> None:
    assert len(list(client.numbers.list(per_page=20).auto_paging_iter(limit=30))) == 30
    assert len(fake.requests) == 2
    assert list(client.numbers.list().auto_paging_iter(limit=0)) == []
    with pytest.raises(ValueError, match="limit"):
        list(client.numbers.list().auto_paging_iter(limit=-1))


async def test_an_async_walk_stops_at_its_limit(
    async_client: AsyncClient, fake: FakeTryVox
) -> None:
    numbers = [n async for n in async_client.numbers.list().auto_paging_iter(limit=21)]
    assert len(numbers) == 21 and len(fake.requests) == 2


def test_pages_are_fetched_only_when_reached(client: Client, fake: FakeTryVox) -> None:
    numbers = iter(client.numbers.list(per_page=2))
    for _ in range(5):
        next(numbers)
    assert len(fake.requests) == 3


def test_next_page_and_has_next_page(client: Client) -> None:
    first = client.numbers.list()
    assert isinstance(first, Page)
    assert first.has_next_page()

    second = first.next_page()
    assert second is not None and second.pagination.current_page == 2
    third = second.next_page()
    assert third is not None
    assert (third.pagination.count, len(third.data)) == (7, 7)
    assert not third.has_next_page()
    assert third.next_page() is None
    assert [p.pagination.count for p in first.iter_pages()] == [20, 20, 7]


def test_a_page_past_the_end_is_empty_and_ends_the_walk(client: Client, fake: FakeTryVox) -> None:
    page = client.numbers.list(page=9)
    assert page.data == [] and page.pagination.total == 47
    assert list(page) == []
    assert len(fake.requests) == 1


def test_cursor_paging_follows_next_cursor(client: Client, fake: FakeTryVox) -> None:
    numbers = list(client.numbers.list(cursor="", per_page=20))

    assert len(numbers) == 47
    second, third = fake.requests[1:]
    assert second.url.params.get("cursor") and "page" not in second.url.params
    assert third.url.params["cursor"] != second.url.params["cursor"]
    assert len(fake.requests) == 3


def test_empty_list(client: Client) -> None:
    page = client.events.list()
    assert page.pagination.total == page.pagination.total_pages == 0
    assert not page.has_next_page() and list(page) == []


async def test_async_for_walks_every_page(async_client: AsyncClient, fake: FakeTryVox) -> None:
    numbers = [n async for n in async_client.numbers.list(per_page=20)]

    assert len(numbers) == 47 == len({n.e164 for n in numbers})
    assert len(fake.requests) == 3


async def test_async_pages(async_client: AsyncClient) -> None:
    first = await async_client.numbers.list(per_page=20)
    assert isinstance(first, AsyncPage)
    assert len(first.data) == 20 and first.has_next_page()

    second = await first.next_page()
    assert second is not None and second.pagination.current_page == 2
    assert [p.pagination.count async for p in first.iter_pages()] == [20, 20, 7]
    assert len([n async for n in second]) == 27


async def test_async_cursor_paging(async_client: AsyncClient) -> None:
    page = await async_client.numbers.list(cursor="", per_page=7)
    assert page.pagination.next_cursor is not None
    assert len([n async for n in page]) == 47


def test_only_the_numbers_list_pages_by_cursor(client: Client) -> None:
    with pytest.raises(TypeError, match="cursor"):
        client.inventory.search(cursor="")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="sort"):
        client.inventory.search(sort="e164")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="cursor"):
        client.trunks.list(cursor="")  # type: ignore[call-arg]


@pytest.mark.parametrize("per_page", [0, 101])
def test_bad_per_page_is_refused_by_the_api(client: Client, per_page: int) -> None:
    with pytest.raises(ValidationFailedError):
        client.numbers.list(per_page=per_page)
