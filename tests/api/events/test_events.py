"""``GET /v1/account/{account_id}/events``: newest first, filters, pagination, validation."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.api.support import assert_error, assert_page_shape, buy
from tests.factories import US_NUMBERS, entry, make_tenant, stock
from voxnumbers.events.service import record_event
from voxnumbers.settings import Settings

EVENT_KEYS = ["id", "type", "e164", "data", "created_at", "livemode"]


@pytest.fixture
def settings() -> Settings:
    return Settings(log_level="warning", run_worker=False)


async def record(database, account_id, type, e164, data=None):
    async with database.transaction() as conn:
        return await record_event(conn, account_id, type, e164, data or {"n": e164})


async def test_a_purchase_is_listed_as_an_event(client, database):
    tenant = await make_tenant(database)
    await stock(database, entry(US_NUMBERS[0]))
    bought = await buy(client, tenant, US_NUMBERS[0])
    assert bought.status_code == 201

    r = await client.get(tenant.path("/events"), headers=tenant.bearer)

    assert r.status_code == 200
    body = r.json()
    assert_page_shape(body, EVENT_KEYS)
    assert body["pagination"] == {
        "total": 1,
        "count": 1,
        "per_page": 20,
        "current_page": 1,
        "total_pages": 1,
    }
    [event] = body["data"]
    assert event["id"].startswith("evt_")
    assert event["type"] == "number.purchased"
    assert event["e164"] == US_NUMBERS[0]
    assert event["data"]["number"] == bought.json()
    assert event["created_at"].endswith("Z") and len(event["created_at"]) == 20


async def test_events_are_listed_newest_first(client, database):
    tenant = await make_tenant(database)
    ids = [await record(database, tenant.account_id, "number.activated", n) for n in US_NUMBERS[:5]]

    r = await client.get(tenant.path("/events"), headers=tenant.bearer)

    assert [e["id"] for e in r.json()["data"]] == ids[::-1]


async def test_pages_split_the_list_without_repeats_and_the_total_is_exact(client, database):
    tenant = await make_tenant(database)
    ids = [
        await record(database, tenant.account_id, "number.activated", n) for n in US_NUMBERS[:25]
    ]
    seen = []
    for page in (1, 2, 3):
        r = await client.get(
            tenant.path("/events"), params={"page": page, "per_page": 10}, headers=tenant.bearer
        )
        body = r.json()
        assert body["pagination"]["total"] == 25
        assert body["pagination"]["total_pages"] == 3
        assert body["pagination"]["count"] == len(body["data"])
        seen += [e["id"] for e in body["data"]]
    assert seen == ids[::-1]

    past = await client.get(
        tenant.path("/events"), params={"page": 4, "per_page": 10}, headers=tenant.bearer
    )
    assert past.status_code == 200
    assert past.json()["data"] == []
    assert past.json()["pagination"]["count"] == 0


async def test_filter_by_type(client, database):
    tenant = await make_tenant(database)
    await record(database, tenant.account_id, "number.activated", US_NUMBERS[0])
    released = await record(database, tenant.account_id, "number.released", US_NUMBERS[1])
    await record(database, tenant.account_id, "number.activated", US_NUMBERS[2])

    r = await client.get(
        tenant.path("/events"), params={"type": "number.released"}, headers=tenant.bearer
    )

    assert [e["id"] for e in r.json()["data"]] == [released]
    assert r.json()["pagination"]["total"] == 1


@pytest.mark.parametrize("spelling", ["+14155551201", "14155551201", quote("+14155551201")])
async def test_filter_by_number_in_any_spelling(client, database, spelling):
    tenant = await make_tenant(database)
    mine = await record(database, tenant.account_id, "number.activated", "+14155551201")
    await record(database, tenant.account_id, "number.activated", "+14155551202")
    await record(database, tenant.account_id, "number.released", "+14155551201")

    # Sent as given: %2B arrives as "+" and a bare "+" would arrive as a space.
    url = tenant.path("/events") + f"?e164={spelling}&type=number.activated"
    r = await client.get(url, headers=tenant.bearer)

    assert r.status_code == 200
    assert [e["id"] for e in r.json()["data"]] == [mine]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "number.exploded"}, "type"),
        ({"type": ""}, "type"),
        ({"e164": "12"}, "e164"),
        ({"e164": "+1415555"}, "e164"),
        ({"e164": "hello"}, "e164"),
        ({"page": "0"}, "page"),
        ({"per_page": "101"}, "per_page"),
        ({"per_page": "ten"}, "per_page"),
        ({"since": "yesterday"}, "since"),
    ],
)
async def test_invalid_parameters_are_refused_with_the_envelope(client, database, params, field):
    tenant = await make_tenant(database)

    r = await client.get(tenant.path("/events"), params=params, headers=tenant.bearer)

    assert_error(r, 400, field)


async def test_a_repeated_filter_is_refused(client, database):
    tenant = await make_tenant(database)
    r = await client.get(
        tenant.path("/events") + "?type=number.released&type=number.activated",
        headers=tenant.bearer,
    )
    assert_error(r, 400, "type")


async def test_events_of_other_accounts_are_neither_listed_nor_reachable(client, database):
    tenant = await make_tenant(database, "Mine")
    other = await make_tenant(database, "Theirs")
    await record(database, other.account_id, "number.activated", US_NUMBERS[0])

    r = await client.get(tenant.path("/events"), headers=tenant.bearer)
    assert r.json()["data"] == []
    assert r.json()["pagination"]["total"] == 0

    r = await client.get(other.path("/events"), headers=tenant.bearer)
    assert_error(r, 403)


async def test_listing_events_needs_a_key(client, database):
    tenant = await make_tenant(database)
    r = await client.get(tenant.path("/events"))
    assert_error(r, 401)


async def test_money_in_events_keeps_two_decimals(client, database):
    """Events carry money as every response does: ``0.00``, not ``0.0``."""
    tenant = await make_tenant(database)
    await stock(database, entry(US_NUMBERS[0], monthly=150, setup=0))
    await buy(client, tenant, US_NUMBERS[0])
    await client.delete(tenant.path(f"/numbers/{US_NUMBERS[0]}"), headers=tenant.bearer)
    r = await client.get(tenant.path("/events"), headers=tenant.bearer)
    assert '"monthly_fee":1.50' in r.text and '"setup_fee":0.00' in r.text
    assert '"early_termination_fee":25.00' in r.text
