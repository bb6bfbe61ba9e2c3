"""A test key never sees or changes live objects, and a live key never test objects, on any
route (``spec/API.md`` §10): the other world's objects are indistinguishable from objects
that do not exist (``404``), as other accounts' are (``test_cross_account.py``)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from tests.api.accounts.test_cross_account import account_routes
from tests.api.support import assert_error, buy
from tests.factories import GB_NUMBERS, US_NUMBERS, Tenant, add_test_key, entry, make_tenant, stock
from voxnumbers.db.tables import bulk_jobs
from voxnumbers.trunks import service as trunks_service

LIVE_NUMBER, TEST_NUMBER = US_NUMBERS[0], US_NUMBERS[1]
NOBODYS_NUMBER = GB_NUMBERS[7]  # valid, never stocked, never owned
_PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        trunks_service, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@dataclass
class World:
    """A world's key and the objects it made: one of each kind."""

    tenant: Tenant
    e164: str
    ids: dict[str, str]


async def _created(client, tenant: Tenant, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(tenant.path(path), json=body, headers=tenant.bearer)
    assert response.status_code == 201, response.text
    return response.json()


async def _populate(client, tenant: Tenant, e164: str) -> World:
    assert (await buy(client, tenant, e164)).status_code == 201
    trunk = await _created(client, tenant, "/trunks", {"name": "edge", "auth_type": "credential"})
    credential = await _created(
        client,
        tenant,
        f"/trunks/{trunk['id']}/credentials",
        {"username": "pbx", "password": "correct horse battery"},
    )
    acl = await _created(client, tenant, f"/trunks/{trunk['id']}/ip-acl", {"ip": "192.0.2.10"})
    application = await _created(client, tenant, "/applications", {"name": "ivr"})
    webhook = await _created(client, tenant, "/webhooks", {"url": "https://example.com/hook"})
    routed = await client.post(  # an event for the webhook: a delivery to name
        tenant.path(f"/numbers/{e164}/assign"),
        json={"trunk_id": trunk["id"]},
        headers=tenant.bearer,
    )
    assert routed.status_code == 200, routed.text
    deliveries = await client.get(
        tenant.path(f"/webhooks/{webhook['id']}/deliveries"), headers=tenant.bearer
    )
    assert deliveries.status_code == 200, deliveries.text
    job = await client.post(
        tenant.path("/numbers/bulk"),
        # Routes the number where it already is: whenever the job runs, it changes nothing.
        json={"action": "assign_trunk", "trunk_id": trunk["id"], "numbers": [e164]},
        headers=tenant.bearer,
    )
    assert job.status_code == 202, job.text
    assert job.headers["location"] == tenant.path(f"/jobs/{job.json()['id']}")
    ids = {
        "trunk_id": trunk["id"],
        "cred_id": credential["id"],
        "acl_id": acl["id"],
        "app_id": application["id"],
        "webhook_id": webhook["id"],
        "job_id": job.json()["id"],
        "delivery_id": deliveries.json()["data"][0]["id"],
    }
    return World(tenant=tenant, e164=e164, ids=ids)


async def _jobs_ended(database, job_ids: list[str]) -> None:
    """Wait for the app's job runner to end the jobs (they change nothing, see above), read
    from the database so that waiting spends none of the keys' rate limits."""
    query = select(bulk_jobs.c.status).where(bulk_jobs.c.id.in_(job_ids))
    for _ in range(1_000):
        async with database.transaction() as conn:
            statuses = {row.status for row in await conn.execute(query)}
        if statuses <= {"succeeded", "failed", "cancelled"}:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"jobs {job_ids} never ended")


@pytest.fixture
async def worlds(client, database) -> tuple[World, World]:
    """One account: its live world and its test world, each with one object of every kind."""
    live_tenant = await make_tenant(database, "Two worlds")
    test_tenant = await add_test_key(database, live_tenant)
    await stock(database, entry(LIVE_NUMBER))
    live = await _populate(client, live_tenant, LIVE_NUMBER)
    test = await _populate(client, test_tenant, TEST_NUMBER)
    # Their job.finished events come now, not between a test's two snapshots.
    await _jobs_ended(database, [live.ids["job_id"], test.ids["job_id"]])
    return live, test


def fill(template: str, account_id: str, e164: str, ids: dict[str, str]) -> str:
    values = {"account_id": account_id, "e164": e164, **ids}
    return _PARAMETER.sub(lambda m: values[m[1]], template)


def body_for(method: str, template: str, own: World) -> dict[str, Any] | None:
    """A body that would succeed on the caller's own object (its own routing targets)."""
    if template.endswith("/assign") and method == "POST":
        return {"trunk_id": own.ids["trunk_id"]}
    if template.endswith("/application") and method == "POST":
        return {"application_id": own.ids["app_id"]}
    if template.endswith("/trunks/{trunk_id}") and method == "PUT":
        return {"name": "renamed", "auth_type": "credential"}
    if template.endswith("/applications/{app_id}") and method == "PATCH":
        return {"name": "renamed"}
    if template.endswith("/credentials") and method == "POST":
        return {"username": "intruder", "password": "correct horse battery"}
    if template.endswith("/ip-acl") and method == "POST":
        return {"ip": "192.0.2.20"}
    if template.endswith("/webhooks/{webhook_id}") and method == "PATCH":
        return {"enabled": False}
    return None


async def snapshot(client, world: World) -> list[Any]:
    """Everything a world's key can read of its objects."""
    tenant, seen = world.tenant, []
    trunk = world.ids["trunk_id"]
    for path in (
        "/numbers?status=released",
        "/numbers",
        f"/numbers/{world.e164}",
        "/trunks",
        f"/trunks/{trunk}/credentials",
        f"/trunks/{trunk}/ip-acl",
        "/applications",
        "/webhooks",
        "/events",
    ):
        response = await client.get(tenant.path(path), headers=tenant.bearer)
        assert response.status_code == 200, (path, response.text)
        seen.append(response.json())
    return seen


@pytest.mark.parametrize("direction", ["test key on live objects", "live key on test objects"])
async def test_every_route_answers_404_for_the_other_worlds_objects(client, app, worlds, direction):
    live, test = worlds
    caller, target = (test, live) if direction.startswith("test") else (live, test)
    routes = [(m, t) for m, t in account_routes(app) if _PARAMETER.findall(t)[1:]]
    assert ("DELETE", "/v1/account/{account_id}/trunks/{trunk_id}/ip-acl/{acl_id}") in routes
    assert len(routes) >= 20
    before = await snapshot(client, target)
    for method, template in routes:
        # The other world's number and ids; the caller's own routing targets in bodies.
        url = fill(template, caller.tenant.account_id, target.e164, target.ids)
        body = body_for(method, template, caller)
        response = await client.request(method, url, headers=caller.tenant.bearer, json=body)
        assert response.status_code == 404, (method, template, response.text)
        assert_error(response, 404)
    assert await snapshot(client, target) == before
    job = await client.get(
        target.tenant.path(f"/jobs/{target.ids['job_id']}"), headers=target.tenant.bearer
    )
    assert job.json()["status"] == "succeeded"  # not cancelled by the other world


@pytest.mark.parametrize("direction", ["test key on live objects", "live key on test objects"])
async def test_the_other_worlds_number_is_indistinguishable_from_none(
    client, app, worlds, direction
):
    live, test = worlds
    caller, target = (test, live) if direction.startswith("test") else (live, test)
    before = await snapshot(client, target)
    number_routes = [(m, t) for m, t in account_routes(app) if "{e164}" in t]
    assert ("GET", "/v1/account/{account_id}/numbers/{e164}") in number_routes
    for method, template in number_routes:
        answers = []
        for e164 in (target.e164, NOBODYS_NUMBER):
            url = fill(template, caller.tenant.account_id, e164, caller.ids)
            body = body_for(method, template, caller)
            response = await client.request(method, url, headers=caller.tenant.bearer, json=body)
            error = assert_error(response, response.status_code)
            answers.append((response.status_code, error["code"], error["message"]))
        assert answers[0] == answers[1], (method, template, answers)
        assert answers[0][0] == 404, (method, template, answers)
    assert await snapshot(client, target) == before


@pytest.mark.parametrize("direction", ["test key on live objects", "live key on test objects"])
async def test_lists_show_only_the_callers_world(client, worlds, direction):
    live, test = worlds
    caller, target = (test, live) if direction.startswith("test") else (live, test)
    seen = await snapshot(client, caller)
    text = repr(seen)
    assert target.e164 not in text
    for object_id in target.ids.values():
        assert object_id not in text
    assert [n["e164"] for n in seen[1]["data"]] == [caller.e164]
    search = await client.get(
        caller.tenant.path("/inventory/numbers?per_page=100"), headers=caller.tenant.bearer
    )
    assert search.status_code == 200 and target.e164 not in search.text
    export = await client.get(
        caller.tenant.path("/numbers/export?format=csv"), headers=caller.tenant.bearer
    )
    assert export.status_code == 200
    assert caller.e164 in export.text and target.e164 not in export.text


@pytest.mark.parametrize("direction", ["test key on live objects", "live key on test objects"])
async def test_routing_to_the_other_worlds_target_is_refused(client, worlds, direction):
    live, test = worlds
    caller, target = (test, live) if direction.startswith("test") else (live, test)
    tenant = caller.tenant
    to_trunk = await client.post(
        tenant.path(f"/numbers/{caller.e164}/assign"),
        json={"trunk_id": target.ids["trunk_id"]},
        headers=tenant.bearer,
    )
    error = assert_error(to_trunk, 400)
    assert [d["field"] for d in error["details"]] == ["trunk_id"]
    to_application = await client.post(
        tenant.path(f"/numbers/{caller.e164}/application"),
        json={"application_id": target.ids["app_id"]},
        headers=tenant.bearer,
    )
    error = assert_error(to_application, 400)
    assert [d["field"] for d in error["details"]] == ["application_id"]


async def test_idempotency_keys_are_per_world(client, worlds):
    live, test = worlds
    key = {"Idempotency-Key": "same-key-in-both-worlds"}
    answers = []
    for world in (live, test):
        response = await client.post(
            world.tenant.path("/applications"),
            json={"name": "idem"},
            headers={**world.tenant.bearer, **key},
        )
        assert response.status_code == 201, response.text
        assert "idempotent-replayed" not in response.headers
        answers.append(response.json()["id"])
    assert answers[0] != answers[1]
    replay = await client.post(
        test.tenant.path("/applications"),
        json={"name": "idem"},
        headers={**test.tenant.bearer, **key},
    )
    assert replay.headers.get("idempotent-replayed") == "true"
    assert replay.json()["id"] == answers[1]


async def test_a_test_worlds_job_leaves_the_live_number_of_the_same_e164_alone(
    client, database, worlds
):
    live, test = worlds
    bought = await buy(client, test.tenant, live.e164)  # the same number, in the test world
    assert bought.status_code == 201, bought.text
    routed = await client.post(
        test.tenant.path(f"/numbers/{live.e164}/assign"),
        json={"trunk_id": test.ids["trunk_id"]},
        headers=test.tenant.bearer,
    )
    assert routed.status_code == 200, routed.text
    job = await client.post(
        test.tenant.path("/numbers/bulk"),
        json={"action": "unassign", "numbers": [live.e164]},
        headers=test.tenant.bearer,
    )
    assert job.status_code == 202, job.text
    await _jobs_ended(database, [job.json()["id"]])

    in_test = await client.get(
        test.tenant.path(f"/numbers/{live.e164}"), headers=test.tenant.bearer
    )
    assert in_test.json()["trunk_id"] is None
    in_live = await client.get(
        live.tenant.path(f"/numbers/{live.e164}"), headers=live.tenant.bearer
    )
    assert in_live.json()["trunk_id"] == live.ids["trunk_id"]
