"""Idempotency-Key on POST and DELETE (API.md §7): a retry never repeats a side effect."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import update

from tests.factories import US_NUMBERS, Tenant, entry, make_tenant, stock
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import idempotency_keys
from voxnumbers.kit.clock import utc_now

NUMBER = US_NUMBERS[0]


def _buy(client: httpx.AsyncClient, tenant: Tenant, key: str | None, e164: str = NUMBER):
    headers = dict(tenant.bearer)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(
        tenant.path("/numbers/purchase-from-inventory"),
        json={"e164": e164, "country": "US"},
        headers=headers,
    )


async def _purchase_events(client: httpx.AsyncClient, tenant: Tenant) -> int:
    r = await client.get(tenant.path("/events?type=number.purchased"), headers=tenant.bearer)
    return int(r.json()["pagination"]["total"])


async def test_a_retried_purchase_is_replayed_not_repeated(client, database):
    tenant = await make_tenant(database)
    await stock(database, entry(NUMBER))
    first = await _buy(client, tenant, "order-1")
    again = await _buy(client, tenant, "order-1")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await _purchase_events(client, tenant) == 1


async def test_the_same_key_with_another_request_is_a_conflict(client, database):
    tenant = await make_tenant(database)
    await stock(database, entry(NUMBER), entry(US_NUMBERS[1]))
    assert (await _buy(client, tenant, "order-1")).status_code == 201
    r = await _buy(client, tenant, "order-1", US_NUMBERS[1])
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "CONFLICT" and error["details"][0]["field"] == "Idempotency-Key"
    listed = (await client.get(tenant.path("/numbers"), headers=tenant.bearer)).json()
    assert [n["e164"] for n in listed["data"]] == [NUMBER]


async def test_a_failed_request_stores_nothing_and_can_be_retried(client, database):
    tenant = await make_tenant(database)
    assert (await _buy(client, tenant, "order-1")).status_code == 404
    await stock(database, entry(NUMBER))
    r = await _buy(client, tenant, "order-1")
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers


async def test_keys_belong_to_one_account(client, database):
    alice, bob = await make_tenant(database, "Alice"), await make_tenant(database, "Bob")
    await stock(database, entry(NUMBER), entry(US_NUMBERS[1]))
    assert (await _buy(client, alice, "k")).status_code == 201
    r = await _buy(client, bob, "k", US_NUMBERS[1])
    assert r.status_code == 201 and r.json()["e164"] == US_NUMBERS[1]


async def test_a_release_is_replayed(client, database):
    tenant = await make_tenant(database)
    await stock(database, entry(NUMBER))
    await _buy(client, tenant, None)
    headers = {**tenant.bearer, "Idempotency-Key": "release-1"}
    first = await client.delete(tenant.path(f"/numbers/{NUMBER}"), headers=headers)
    again = await client.delete(tenant.path(f"/numbers/{NUMBER}"), headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    plain = await client.delete(tenant.path(f"/numbers/{NUMBER}"), headers=tenant.bearer)
    assert plain.status_code == 409


async def test_concurrent_retries_buy_once(client, database):
    tenant = await make_tenant(database)
    await stock(database, entry(NUMBER))
    answers = await asyncio.gather(*(_buy(client, tenant, "same") for _ in range(8)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    for r in answers:
        if r.status_code == 409:
            assert r.json()["error"]["details"][0]["field"] == "Idempotency-Key"
    created = {r.content for r in answers if r.status_code == 201}
    assert len(created) == 1  # every 201 is the same purchase
    assert await _purchase_events(client, tenant) == 1


async def test_after_24_hours_the_key_is_forgotten(client, database: Database):
    tenant = await make_tenant(database)
    await stock(database, entry(NUMBER), entry(US_NUMBERS[1]))
    assert (await _buy(client, tenant, "old")).status_code == 201
    async with database.transaction() as conn:
        await conn.execute(
            update(idempotency_keys).values(expires_at=utc_now() - timedelta(seconds=1))
        )
    r = await _buy(client, tenant, "old", US_NUMBERS[1])
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers


async def test_a_malformed_key_is_a_validation_error(client, database):
    tenant = await make_tenant(database)
    await stock(database, entry(NUMBER))
    for key in ("", "x" * 256, "caf\u00e9"):
        headers = {**tenant.bearer, "Idempotency-Key": key}
        r = await client.post(
            tenant.path("/numbers/purchase-from-inventory"),
            json={"e164": NUMBER, "country": "US"},
            headers={k: v.encode("utf-8") for k, v in headers.items()},
        )
        assert r.status_code == 400, key
        assert r.json()["error"]["details"][0]["field"] == "Idempotency-Key"
