"""Test mode (``spec/API.md`` §10): a test key and a live key of one account act in two
separate worlds under the same account id."""

from __future__ import annotations

import pytest

from tests.api.support import assert_error, buy, own
from tests.factories import US_NUMBERS, Tenant, entry, make_tenant, stock
from voxnumbers.accounts import service as accounts
from voxnumbers.kit.db import Database
from voxnumbers.kit.worlds import world_of


async def issue_test_key(database: Database, live: Tenant) -> Tenant:
    """A test key of the live tenant's account."""
    async with database.transaction() as conn:
        issued = await accounts.issue_key(conn, live.account_id, test=True)
    return Tenant(account_id=live.account_id, key=issued.secret, key_id=issued.key.id)


@pytest.fixture
async def worlds(client, database):
    """One account, a live key and a test key."""
    live = await make_tenant(database, "Two worlds")
    return live, await issue_test_key(database, live)


def in_test_world(tenant: Tenant) -> Tenant:
    """The tenant as rows of its test world are stored (for direct inserts)."""
    return Tenant(
        account_id=world_of(tenant.account_id, live=False), key=tenant.key, key_id=tenant.key_id
    )


async def test_a_live_number_is_not_in_the_test_world(client, database, worlds):
    live, test = worlds
    await stock(database, entry(US_NUMBERS[0]))
    assert (await buy(client, live, US_NUMBERS[0])).status_code == 201
    listed = await client.get(test.path("/numbers"), headers=test.bearer)
    assert listed.status_code == 200
    assert listed.json()["data"] == [] and listed.json()["pagination"]["total"] == 0
    assert_error(await client.get(test.path(f"/numbers/{US_NUMBERS[0]}"), headers=test.bearer), 404)
    live_list = await client.get(live.path("/numbers"), headers=live.bearer)
    assert [n["e164"] for n in live_list.json()["data"]] == [US_NUMBERS[0]]


async def test_a_test_number_is_not_in_the_live_world(client, database, worlds):
    live, test = worlds
    await own(database, in_test_world(test), US_NUMBERS[1])
    listed = await client.get(test.path("/numbers"), headers=test.bearer)
    assert [n["e164"] for n in listed.json()["data"]] == [US_NUMBERS[1]]
    assert listed.json()["pagination"]["total"] == 1
    assert (
        await client.get(test.path(f"/numbers/{US_NUMBERS[1]}"), headers=test.bearer)
    ).status_code == 200
    live_list = await client.get(live.path("/numbers"), headers=live.bearer)
    assert live_list.json()["data"] == [] and live_list.json()["pagination"]["total"] == 0
    assert_error(await client.get(live.path(f"/numbers/{US_NUMBERS[1]}"), headers=live.bearer), 404)


async def test_both_keys_name_the_same_public_account(client, database, worlds):
    live, test = worlds
    assert live.account_id == test.account_id
    for tenant in worlds:
        assert (await client.get(tenant.path("/numbers"), headers=tenant.basic)).status_code == 200
    internal = world_of(live.account_id, live=False)
    response = await client.get(f"/v1/account/{internal}/numbers", headers=test.bearer)
    assert_error(response, 403)
