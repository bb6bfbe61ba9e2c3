"""Buying in test mode under concurrency (``spec/API.md`` §10), on both databases: in one
test world a number is owned once; test worlds and the live world never contend."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tests.api.support import app_on, assert_error, buy, counted_and_scanned, owners_of, running
from tests.factories import US_NUMBERS, add_test_key, entry, make_tenant, stock
from voxnumbers.kit.worlds import world_of

BUYERS = 12
CONTESTED = US_NUMBERS[0]


@pytest.fixture
async def client(database):
    async with running(app_on(database)) as http:
        yield http


async def test_concurrent_buyers_in_one_test_world_one_wins(client, database):
    tenant = await make_tenant(database, "Sandbox")
    test = await add_test_key(database, tenant)
    answers = await asyncio.gather(*(buy(client, test, CONTESTED) for _ in range(BUYERS)))
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses == {201: 1, 409: BUYERS - 1}, [a.text for a in answers]
    for answer in answers:
        if answer.status_code == 409:
            assert_error(answer, 409)
    world = world_of(tenant.account_id, live=False)
    assert await owners_of(database, CONTESTED) == [world]
    assert await counted_and_scanned(database, world) == (1, 1)


async def test_the_always_available_number_wins_every_concurrent_purchase(client, database):
    tenant = await make_tenant(database, "Sandbox")
    test = await add_test_key(database, tenant)
    answers = await asyncio.gather(
        *(buy(client, test, "+15005550006", "US") for _ in range(BUYERS))
    )
    assert [a.status_code for a in answers] == [201] * BUYERS, [a.text for a in answers]
    world = world_of(tenant.account_id, live=False)
    assert await owners_of(database, "+15005550006") == [world]
    assert await counted_and_scanned(database, world) == (1, 1)


async def test_test_worlds_and_the_live_world_buy_the_same_number_at_once(client, database):
    await stock(database, entry(CONTESTED))
    tenants = [await make_tenant(database, f"Buyer {n}") for n in range(BUYERS)]
    tests = [await add_test_key(database, tenant) for tenant in tenants]
    answers = await asyncio.gather(
        *(buy(client, tenant, CONTESTED) for tenant in tenants),
        *(buy(client, test, CONTESTED) for test in tests),
    )
    live_answers, test_answers = answers[:BUYERS], answers[BUYERS:]
    assert Counter(a.status_code for a in live_answers) == {201: 1, 409: BUYERS - 1}
    assert [a.status_code for a in test_answers] == [201] * BUYERS
    owners = await owners_of(database, CONTESTED)
    assert len(owners) == BUYERS + 1
    assert {world_of(t.account_id, live=False) for t in tenants} <= set(owners)
