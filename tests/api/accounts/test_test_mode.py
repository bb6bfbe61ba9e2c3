"""Test mode (``spec/API.md`` §10): a test key and a live key of one account act in two
separate worlds under the same account id."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.support import assert_error, buy, for_sale, own, owners_of
from tests.factories import GB_NUMBERS, US_NUMBERS, Tenant, add_test_key, entry, make_tenant, stock
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.e164 import number_facts
from voxnumbers.kit.worlds import world_of
from voxnumbers.numbers.service import sweep_expired_releases


@pytest.fixture
async def worlds(client, database):
    """One account, a live key and a test key."""
    live = await make_tenant(database, "Two worlds")
    return live, await add_test_key(database, live)


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


# --- inventory and purchase in test mode ---------------------------------------------------


async def search(client, tenant: Tenant, query: str = "") -> dict:
    response = await client.get(tenant.path(f"/inventory/numbers{query}"), headers=tenant.bearer)
    assert response.status_code == 200, response.text
    return response.json()


async def test_test_inventory_is_generated_stable_and_never_the_live_one(client, database, worlds):
    live, test = worlds
    await stock(database, entry(US_NUMBERS[0]), entry(US_NUMBERS[1]))
    first = await search(client, test, "?per_page=100")
    assert first == await search(client, test, "?per_page=100")  # stable for the account
    listed = [n["e164"] for n in first["data"]]
    assert first["pagination"]["total"] == len(listed) >= 20
    assert listed == sorted(listed)
    assert not {US_NUMBERS[0], US_NUMBERS[1]} & set(listed)
    for number in first["data"]:
        facts = number_facts(number["e164"])
        assert (facts.country, facts.type) == (number["country"], number["type"])
    other = await make_tenant(database, "Other")
    other_test = await add_test_key(database, other)
    assert [
        n["e164"] for n in (await search(client, other_test, "?per_page=100"))["data"]
    ] != listed
    # The live world still sees its inventory, and only it.
    assert [n["e164"] for n in (await search(client, live))["data"]] == US_NUMBERS[:2]


async def test_test_inventory_filters_and_pages(client, worlds):
    _, test = worlds
    everything = (await search(client, test, "?per_page=100"))["data"]
    gb_mobile = (await search(client, test, "?country=gb&type=mobile"))["data"]
    assert gb_mobile == [n for n in everything if (n["country"], n["type"]) == ("GB", "mobile")]
    assert gb_mobile
    page_two = await search(client, test, "?per_page=5&page=2")
    assert page_two["data"] == everything[5:10]
    assert page_two["pagination"]["total"] == len(everything)
    digits = everything[3]["e164"][-6:]
    found = (await search(client, test, f"?contains={digits}"))["data"]
    assert everything[3] in found and all(digits in n["e164"] for n in found)


async def test_buying_in_test_mode_never_touches_live_inventory(client, database, worlds):
    live, test = worlds
    await stock(database, entry(US_NUMBERS[0]))
    bought = await buy(client, test, US_NUMBERS[0])
    assert bought.status_code == 201, bought.text
    assert bought.json()["status"] == "active"
    assert await for_sale(database, US_NUMBERS[0])  # still for sale live
    generated = (await search(client, test))["data"][0]
    response = await buy(client, test, generated["e164"])
    assert response.status_code == 201
    assert {k: response.json()[k] for k in generated} == generated
    assert generated["e164"] not in [n["e164"] for n in (await search(client, test))["data"]]
    # The live world can still buy what the test world owns.
    assert (await buy(client, live, US_NUMBERS[0])).status_code == 201
    assert sorted(await owners_of(database, US_NUMBERS[0])) == sorted(
        [live.account_id, world_of(live.account_id, live=False)]
    )


async def test_any_valid_number_not_owned_in_the_test_world_can_be_bought(client, worlds):
    _, test = worlds
    response = await buy(client, test, GB_NUMBERS[3])
    assert response.status_code == 201
    body = response.json()
    assert (body["e164"], body["country"], body["status"]) == (GB_NUMBERS[3], "GB", "active")
    assert_error(await buy(client, test, GB_NUMBERS[3]), 409)


async def test_magic_numbers(client, worlds):
    _, test = worlds
    unavailable = await buy(client, test, "+15005550000", "US")
    assert_error(unavailable, 409)
    invalid = await buy(client, test, "+15005550001", "US")
    error = assert_error(invalid, 400)
    assert error["details"] == [
        {"field": "e164", "reason": "is invalid (test mode's magic invalid number)"}
    ]
    for _ in range(3):
        always = await buy(client, test, "+15005550006", "US")
        assert always.status_code == 201, always.text
        assert always.json()["status"] == "active"
    listed = await client.get(test.path("/numbers"), headers=test.bearer)
    assert [n["e164"] for n in listed.json()["data"]] == ["+15005550006"]
    assert listed.json()["pagination"]["total"] == 1


async def test_magic_numbers_are_not_magic_live(client, worlds):
    live, _ = worlds
    assert_error(await buy(client, live, "+15005550006", "US"), 404)
    assert_error(await buy(client, live, "+15005550001", "US"), 404)


async def test_a_test_number_released_and_cooled_off_goes_nowhere_live(client, database, worlds):
    live, test = worlds
    past = utc_now() - timedelta(days=1)
    await own(database, in_test_world(test), US_NUMBERS[5], status="released", available_after=past)
    assert US_NUMBERS[5] not in [n["e164"] for n in (await search(client, live))["data"]]
    async with database.transaction() as conn:
        assert await sweep_expired_releases(conn) == 1
    assert not await for_sale(database, US_NUMBERS[5])
    assert await owners_of(database, US_NUMBERS[5]) == []
    assert (await buy(client, test, US_NUMBERS[5])).status_code == 201
