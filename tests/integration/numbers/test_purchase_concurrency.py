"""Buying is atomic (``spec/API.md`` §3.2): of concurrent buyers exactly one wins, and a
purchase that fails halfway leaves nothing behind. On both databases."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tests.api.support import (
    app_on,
    assert_error,
    buy,
    counted_and_scanned,
    event_count,
    for_sale,
    owners_of,
    running,
)
from tests.factories import US_NUMBERS, entry, make_tenant, stock
from voxnumbers.errors import Conflict
from voxnumbers.events import repository as events_repository
from voxnumbers.numbers import repository as numbers_repository
from voxnumbers.numbers import service as numbers_service
from voxnumbers.numbers.schemas import PurchaseRequest

BUYERS = 20
CONTESTED = US_NUMBERS[0]


@pytest.fixture
async def client(database):
    async with running(app_on(database)) as http:
        yield http


@pytest.fixture
async def buyers(database):
    return [await make_tenant(database, f"Buyer {n}") for n in range(BUYERS)]


async def test_twenty_concurrent_buyers_one_wins(client, database, buyers):
    await stock(database, entry(CONTESTED))
    answers = await asyncio.gather(*(buy(client, buyer, CONTESTED) for buyer in buyers))
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses == {201: 1, 409: BUYERS - 1}, [a.text for a in answers]
    for answer in answers:
        if answer.status_code == 409:
            assert_error(answer, 409)
    [winner] = [buyer for buyer, a in zip(buyers, answers, strict=True) if a.status_code == 201]
    assert await owners_of(database, CONTESTED) == [winner.account_id]
    assert not await for_sale(database, CONTESTED)
    assert await event_count(database, CONTESTED) == 1
    for buyer in buyers:
        expected = 1 if buyer is winner else 0
        listed = await client.get(buyer.path("/numbers"), headers=buyer.bearer)
        assert listed.json()["pagination"]["total"] == expected
        assert await counted_and_scanned(database, buyer.account_id) == (expected, expected)
    search = await client.get(winner.path("/inventory/numbers"), headers=winner.bearer)
    assert search.json()["pagination"]["total"] == 0


async def test_concurrent_buyers_of_different_numbers_all_win(client, database, buyers):
    """No false conflicts: buyers of distinct numbers never get in each other's way."""
    numbers = US_NUMBERS[:BUYERS]
    await stock(database, *(entry(n) for n in numbers))
    answers = await asyncio.gather(
        *(buy(client, buyer, e164) for buyer, e164 in zip(buyers, numbers, strict=True))
    )
    assert [a.status_code for a in answers] == [201] * BUYERS, [a.text for a in answers]
    for buyer, e164 in zip(buyers, numbers, strict=True):
        assert await owners_of(database, e164) == [buyer.account_id]
        assert await counted_and_scanned(database, buyer.account_id) == (1, 1)


async def test_concurrent_purchases_in_separate_transactions(database, buyers):
    """The same race one level down: each buyer in its own transaction via the service."""
    await stock(database, entry(CONTESTED))

    async def purchase(account_id: str) -> str:
        try:
            async with database.transaction() as conn:
                request = PurchaseRequest(e164=CONTESTED, country="US")
                await numbers_service.purchase_number(conn, account_id, request)
        except Conflict:
            return "conflict"
        return "bought"

    outcomes = await asyncio.gather(*(purchase(buyer.account_id) for buyer in buyers))
    assert Counter(outcomes) == {"bought": 1, "conflict": BUYERS - 1}
    assert len(await owners_of(database, CONTESTED)) == 1
    assert not await for_sale(database, CONTESTED)


def _fail_after_insert(monkeypatch):
    """Insert the number (and its count) for real, then fail."""
    real = numbers_repository.insert_numbers

    async def insert_then_fail(conn, rows):
        await real(conn, rows)
        raise RuntimeError("disk full")

    monkeypatch.setattr(numbers_repository, "insert_numbers", insert_then_fail)


def _fail_recording_the_event(monkeypatch):
    async def no_event(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(events_repository, "insert_event", no_event)


@pytest.mark.parametrize("fault", [_fail_after_insert, _fail_recording_the_event])
async def test_a_purchase_that_fails_halfway_leaves_nothing_behind(
    client, database, monkeypatch, fault
):
    buyer = await make_tenant(database)
    await stock(database, entry(CONTESTED))
    fault(monkeypatch)
    answer = await buy(client, buyer, CONTESTED)
    error = assert_error(answer, 500)
    assert set(error) == {"code", "message", "request_id"}
    assert "disk full" not in answer.text
    assert await for_sale(database, CONTESTED)
    assert await owners_of(database, CONTESTED) == []
    assert await counted_and_scanned(database, buyer.account_id) == (0, 0)
    assert await event_count(database) == 0
    monkeypatch.undo()
    # Nothing is stuck: the same purchase succeeds once the fault is gone.
    retried = await buy(client, buyer, CONTESTED)
    assert retried.status_code == 201, retried.text
    assert await counted_and_scanned(database, buyer.account_id) == (1, 1)
    assert await event_count(database, CONTESTED) == 1
