"""``/v1/account/{account_id}/webhooks``: create, list, get, delete; and delivery end to end."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.api.support import assert_error, assert_page_shape, buy
from tests.factories import US_NUMBERS, entry, make_tenant, stock
from tests.integration.events.receiver import Receiver
from voxnumbers.events import repository
from voxnumbers.events.delivery import run_once
from voxnumbers.events.service import MAX_WEBHOOKS_PER_ACCOUNT
from voxnumbers.events.signing import verify_signature
from voxnumbers.settings import Settings

WEBHOOK_KEYS = ["id", "url", "event_types", "status", "enabled", "created_at"]
URL = "https://hooks.example.com/vox"  # never called: these tests run no worker


@pytest.fixture
def settings() -> Settings:
    return Settings(log_level="warning", run_worker=False)


async def create(client, tenant, **body):
    return await client.post(
        tenant.path("/webhooks"), json={"url": URL, **body}, headers=tenant.bearer
    )


async def stock_and_buy(client, database, tenant, e164):
    await stock(database, entry(e164))
    r = await buy(client, tenant, e164)
    assert r.status_code == 201
    return r.json()


async def test_create_answers_201_with_the_secret(client, database):
    tenant = await make_tenant(database)

    r = await create(client, tenant, event_types=["number.released", "number.purchased"])

    assert r.status_code == 201
    body = r.json()
    assert list(body) == [*WEBHOOK_KEYS, "secret"]
    assert body["id"].startswith("whk_")
    assert body["url"] == URL
    assert body["event_types"] == ["number.released", "number.purchased"]
    assert body["status"] == "active"
    assert body["created_at"].endswith("Z")
    assert body["secret"].startswith("whsec_") and len(body["secret"]) >= 38


async def test_event_types_default_to_every_type_and_secrets_differ(client, database):
    tenant = await make_tenant(database)
    first = (await create(client, tenant)).json()
    second = (await create(client, tenant, event_types=[])).json()
    assert first["event_types"] == second["event_types"] == []
    assert first["secret"] != second["secret"]
    assert first["id"] != second["id"]


async def test_the_secret_is_never_shown_again(client, database):
    tenant = await make_tenant(database)
    created = (await create(client, tenant)).json()

    one = await client.get(tenant.path(f"/webhooks/{created['id']}"), headers=tenant.bearer)
    listed = await client.get(tenant.path("/webhooks"), headers=tenant.bearer)

    assert one.status_code == 200
    expected = {k: created[k] for k in WEBHOOK_KEYS}
    assert one.json() == expected
    assert_page_shape(listed.json(), WEBHOOK_KEYS)
    assert listed.json()["data"] == [expected]
    assert created["secret"] not in one.text + listed.text


async def test_the_list_is_paginated_oldest_first(client, database):
    tenant = await make_tenant(database)
    ids = [(await create(client, tenant)).json()["id"] for _ in range(5)]

    first = await client.get(
        tenant.path("/webhooks"), params={"per_page": 3}, headers=tenant.bearer
    )
    second = await client.get(
        tenant.path("/webhooks"), params={"per_page": 3, "page": 2}, headers=tenant.bearer
    )

    assert first.json()["pagination"] == {
        "total": 5,
        "count": 3,
        "per_page": 3,
        "current_page": 1,
        "total_pages": 2,
    }
    listed = [w["id"] for w in first.json()["data"] + second.json()["data"]]
    assert sorted(listed) == sorted(ids) and len(listed) == 5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://hooks.example.com/vox"}, "url"),
        ({"url": "ftp://hooks.example.com/vox"}, "url"),
        ({"url": "/relative"}, "url"),
        ({"url": ""}, "url"),
        ({"url": "https://example.com/" + "a" * 2000}, "url"),
        ({"url": 42}, "url"),
        ({}, "url"),
        ({"url": URL, "event_types": ["number.purchased", "number.exploded"]}, "event_types"),
        ({"url": URL, "event_types": "number.purchased"}, "event_types"),
        ({"url": URL, "event_types": [7]}, "event_types[0]"),
        ({"url": URL, "secret": "mine"}, "secret"),
    ],
)
async def test_invalid_bodies_are_refused_with_the_envelope(client, database, body, field):
    tenant = await make_tenant(database)

    r = await client.post(tenant.path("/webhooks"), json=body, headers=tenant.bearer)

    error = assert_error(r, 400, field)
    assert [d["field"] for d in error["details"]] == [field]
    listed = await client.get(tenant.path("/webhooks"), headers=tenant.bearer)
    assert listed.json()["pagination"]["total"] == 0


async def test_an_unknown_event_type_is_named_in_the_error(client, database):
    tenant = await make_tenant(database)
    r = await create(client, tenant, event_types=["number.exploded"])
    assert "number.exploded" in assert_error(r, 400, "event_types")["details"][0]["reason"]


@pytest.mark.parametrize(
    "url", ["http://localhost:8080/hook", "http://127.0.0.1:9/hook", "http://[::1]/hook"]
)
async def test_plain_http_is_allowed_for_loopback_hosts(client, database, url):
    tenant = await make_tenant(database)
    r = await client.post(tenant.path("/webhooks"), json={"url": url}, headers=tenant.bearer)
    assert r.status_code == 201
    assert r.json()["url"] == url


async def test_non_json_bodies_are_refused(client, database):
    tenant = await make_tenant(database)
    malformed = await client.post(
        tenant.path("/webhooks"),
        content=b'{"url": ',
        headers={**tenant.bearer, "Content-Type": "application/json"},
    )
    form = await client.post(tenant.path("/webhooks"), data={"url": URL}, headers=tenant.bearer)
    assert_error(malformed, 400)
    assert_error(form, 415)


async def test_an_account_has_a_bounded_number_of_endpoints(client, database):
    tenant = await make_tenant(database)
    for _ in range(MAX_WEBHOOKS_PER_ACCOUNT):
        assert (await create(client, tenant)).status_code == 201

    r = await create(client, tenant)

    assert_error(r, 409)


async def test_delete_answers_the_final_state_then_the_endpoint_is_gone(client, database):
    tenant = await make_tenant(database)
    created = (await create(client, tenant)).json()
    path = tenant.path(f"/webhooks/{created['id']}")

    r = await client.delete(path, headers=tenant.bearer)

    assert r.status_code == 200
    assert r.json() == {**{k: created[k] for k in WEBHOOK_KEYS}, "status": "deleted"}
    assert_error(await client.get(path, headers=tenant.bearer), 404)
    assert_error(await client.delete(path, headers=tenant.bearer), 404)
    listed = await client.get(tenant.path("/webhooks"), headers=tenant.bearer)
    assert listed.json()["data"] == []


async def test_deleting_an_endpoint_ends_its_pending_deliveries(client, database):
    tenant = await make_tenant(database)
    with Receiver() as receiver:
        created = await client.post(
            tenant.path("/webhooks"), json={"url": receiver.url}, headers=tenant.bearer
        )
        await stock_and_buy(client, database, tenant, US_NUMBERS[0])
        await client.delete(tenant.path(f"/webhooks/{created.json()['id']}"), headers=tenant.bearer)
        await stock_and_buy(
            client, database, tenant, US_NUMBERS[1]
        )  # queues nothing for it any more

        assert await run_once(database) == 0
        assert receiver.snapshot() == []
    async with database.transaction(write=False) as conn:
        states = await repository.deliveries_of_endpoint(conn, created.json()["id"])
    assert [(s.status, s.last_error) for s in states] == [("failed", "endpoint deleted")]


async def test_other_accounts_endpoints_are_not_found_and_their_paths_forbidden(client, database):
    tenant = await make_tenant(database, "Mine")
    other = await make_tenant(database, "Theirs")
    theirs = (await create(client, other)).json()

    for method in ("GET", "DELETE"):
        r = await client.request(
            method, tenant.path(f"/webhooks/{theirs['id']}"), headers=tenant.bearer
        )
        assert_error(r, 404)
        r = await client.request(
            method, other.path(f"/webhooks/{theirs['id']}"), headers=tenant.bearer
        )
        assert_error(r, 403)
    r = await client.post(other.path("/webhooks"), json={"url": URL}, headers=tenant.bearer)
    assert_error(r, 403)
    assert (await client.get(tenant.path("/webhooks"), headers=tenant.bearer)).json()["data"] == []
    still = await client.get(other.path(f"/webhooks/{theirs['id']}"), headers=other.bearer)
    assert still.json()["status"] == "active"


class TestWithTheWorkerRunning:
    """The worker started by the app's lifespan delivers a purchase made through the API."""

    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(log_level="warning", run_worker=True, worker_poll_seconds=0.05)

    async def test_a_purchase_reaches_the_endpoint_signed(self, client, database):
        tenant = await make_tenant(database)
        with Receiver() as receiver:
            created = await client.post(
                tenant.path("/webhooks"),
                json={"url": receiver.url, "event_types": ["number.purchased"]},
                headers=tenant.bearer,
            )
            number = await stock_and_buy(client, database, tenant, US_NUMBERS[0])

            async with asyncio.timeout(10):
                [request] = await receiver.wait_for_accepted(1)

        secret = created.json()["secret"]
        assert verify_signature(request.body, request.headers["x-tryvox-signature"], secret)
        payload = json.loads(request.body)
        assert payload["type"] == "number.purchased"
        assert payload["data"]["number"] == number
        listed = await client.get(tenant.path("/events"), headers=tenant.bearer)
        assert payload["id"] == listed.json()["data"][0]["id"]
