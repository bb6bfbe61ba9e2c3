"""``POST /v1/account/{account_id}/numbers/purchase-from-inventory`` (``spec/API.md`` §3.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from phonenumbers import geocoder

from tests.api.support import (
    NUMBER_KEYS,
    TIME,
    assert_error,
    buy,
    counted_and_scanned,
    event_count,
    for_sale,
    own,
    owners_of,
)
from tests.factories import (
    GB_NUMBERS,
    IN_NUMBERS,
    US_NUMBERS,
    US_TOLL_FREE,
    entry,
    make_tenant,
    stock,
)

NUMBER = US_NUMBERS[0]
PURCHASE = "/numbers/purchase-from-inventory"


async def test_a_purchase_answers_201_with_the_full_number(client, database):
    tenant = await make_tenant(database)
    await stock(database, entry(NUMBER, monthly=125, setup=50, capabilities=("voice", "mms")))
    before = datetime.now(UTC).replace(microsecond=0)
    response = await buy(client, tenant, NUMBER)
    after = datetime.now(UTC)
    assert response.status_code == 201, response.text
    number = response.json()
    assert list(number) == NUMBER_KEYS
    assert {k: v for k, v in number.items() if k not in ("created_at", "updated_at")} == {
        "e164": NUMBER,
        "country": "US",
        "type": "local",
        "region": "CA",
        "status": "active",
        "capabilities": ["voice", "mms"],
        "monthly_fee": 1.25,
        "setup_fee": 0.5,
        "currency": "USD",
        "trunk_id": None,
        "application_id": None,
    }
    assert '"monthly_fee":1.25,"setup_fee":0.50' in response.text
    assert TIME.match(number["created_at"]) and number["created_at"] == number["updated_at"]
    bought_at = datetime.strptime(number["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= bought_at <= after


async def test_a_number_that_needs_provisioning_is_pending(client, database):
    tenant = await make_tenant(database)
    await stock(database, entry(NUMBER, needs_provisioning=True), entry(US_NUMBERS[1]))
    pending = await buy(client, tenant, NUMBER)
    active = await buy(client, tenant, US_NUMBERS[1])
    assert (pending.status_code, pending.json()["status"]) == (201, "pending")
    assert (active.status_code, active.json()["status"]) == (201, "active")
    listed = await client.get(tenant.path("/numbers?status=pending"), headers=tenant.bearer)
    assert [n["e164"] for n in listed.json()["data"]] == [NUMBER]


async def test_a_purchase_leaves_the_geocoder_alone(client, database, monkeypatch):
    """A purchase checks the number's country only: the geocoder's data would take about
    100 MB of the server's memory."""
    tenant = await make_tenant(database)
    await stock(database, entry(NUMBER))

    def asked(*_args, **_kwargs):
        raise AssertionError("the geocoder was asked")

    for name in ("description_for_valid_number", "country_name_for_number"):
        monkeypatch.setattr(geocoder, name, asked)
    assert (await buy(client, tenant, NUMBER, "US")).status_code == 201
    assert (await buy(client, tenant, GB_NUMBERS[0], "US")).status_code == 400


@pytest.mark.parametrize(
    ("e164", "country"),
    [(GB_NUMBERS[0], "GB"), (IN_NUMBERS[0], "IN"), (US_TOLL_FREE, "US"), (NUMBER, "us")],
)
async def test_numbers_of_any_country_and_type_can_be_bought(client, database, e164, country):
    tenant = await make_tenant(database)
    await stock(database, entry(e164))
    response = await buy(client, tenant, e164, country)
    assert response.status_code == 201, response.text
    assert response.json()["country"] == country.upper()


async def test_the_body_may_spell_the_number_without_plus(client, database):
    tenant = await make_tenant(database)
    await stock(database, entry(NUMBER))
    response = await client.post(
        tenant.path(PURCHASE), json={"e164": NUMBER[1:], "country": "US"}, headers=tenant.bearer
    )
    assert response.status_code == 201
    assert response.json()["e164"] == NUMBER


async def test_after_a_purchase_the_number_left_inventory_and_joined_the_account(client, database):
    tenant = await make_tenant(database)
    await stock(database, *(entry(n) for n in US_NUMBERS[:3]))
    purchased = (await buy(client, tenant, NUMBER)).json()

    search = await client.get(tenant.path("/inventory/numbers"), headers=tenant.bearer)
    assert [n["e164"] for n in search.json()["data"]] == US_NUMBERS[1:3]
    assert search.json()["pagination"]["total"] == 2
    listed = await client.get(tenant.path("/numbers"), headers=tenant.bearer)
    assert listed.json()["data"] == [purchased]
    assert listed.json()["pagination"]["total"] == 1
    one = await client.get(tenant.path(f"/numbers/{NUMBER}"), headers=tenant.bearer)
    assert one.json() == purchased
    assert await owners_of(database, NUMBER) == [tenant.account_id]
    assert await counted_and_scanned(database, tenant.account_id) == (1, 1)
    assert await event_count(database, NUMBER) == 1


async def test_a_number_not_in_inventory_is_404(client, database):
    tenant = await make_tenant(database)
    await stock(database, entry(US_NUMBERS[1]))
    assert_error(await buy(client, tenant, NUMBER), 404)
    assert await owners_of(database, NUMBER) == []


async def test_a_number_owned_by_anyone_is_409(client, database):
    me = await make_tenant(database, "Me")
    other = await make_tenant(database, "Other")
    await stock(database, entry(NUMBER), entry(US_NUMBERS[1]))
    assert (await buy(client, other, NUMBER)).status_code == 201
    assert (await buy(client, me, US_NUMBERS[1])).status_code == 201
    assert_error(await buy(client, me, NUMBER), 409)
    assert_error(await buy(client, me, US_NUMBERS[1]), 409)  # already mine
    assert await owners_of(database, NUMBER) == [other.account_id]
    assert await counted_and_scanned(database, me.account_id) == (1, 1)
    assert await counted_and_scanned(database, other.account_id) == (1, 1)


async def test_a_number_cooling_off_is_409(client, database):
    me = await make_tenant(database, "Me")
    previous = await make_tenant(database, "Previous owner")
    await own(database, previous, NUMBER, status="released")
    assert_error(await buy(client, me, NUMBER), 409)
    assert await owners_of(database, NUMBER) == [previous.account_id]


async def test_a_number_whose_cooling_off_ended_can_be_bought(client, database):
    me = await make_tenant(database, "Me")
    previous = await make_tenant(database, "Previous owner")
    now = datetime.now(UTC).replace(microsecond=0)
    await own(
        database,
        previous,
        NUMBER,
        status="released",
        created_at=now - timedelta(days=60),
        available_after=now - timedelta(seconds=5),
    )
    response = await buy(client, me, NUMBER)
    assert response.status_code == 201, response.text
    assert await owners_of(database, NUMBER) == [me.account_id]
    assert await counted_and_scanned(database, me.account_id) == (1, 1)


@pytest.mark.parametrize("wrong", ["GB", "gb", "CA", "IN"])
async def test_a_country_that_does_not_match_the_number_is_400_on_country(client, database, wrong):
    tenant = await make_tenant(database)
    await stock(database, entry(NUMBER))
    response = await buy(client, tenant, NUMBER, wrong)
    assert_error(response, 400, "country")
    assert await for_sale(database, NUMBER)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "e164"),
        ({"country": "US"}, "e164"),
        ({"e164": NUMBER}, "country"),
        ({"e164": None, "country": "US"}, "e164"),
        ({"e164": NUMBER, "country": None}, "country"),
        ({"e164": "", "country": "US"}, "e164"),
        ({"e164": NUMBER, "country": ""}, "country"),
    ],
)
async def test_missing_fields_are_400_naming_the_field(client, database, body, field):
    tenant = await make_tenant(database)
    await stock(database, entry(NUMBER))
    response = await client.post(tenant.path(PURCHASE), json=body, headers=tenant.bearer)
    assert_error(response, 400, field)
    assert await for_sale(database, NUMBER)


async def test_a_refused_purchase_leaves_no_trace(client, database):
    tenant = await make_tenant(database)
    await stock(database, entry(NUMBER))
    await buy(client, tenant, NUMBER, "GB")
    await buy(client, tenant, US_NUMBERS[5])
    assert await for_sale(database, NUMBER)
    assert await counted_and_scanned(database, tenant.account_id) == (0, 0)
    assert await event_count(database) == 0
