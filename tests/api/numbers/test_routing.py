"""Routing a number to a trunk or an application (API.md §3.3)."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import US_NUMBERS, Tenant, entry, make_tenant, stock
from voxnumbers.db.engine import Database

NUMBER = US_NUMBERS[0]
ROUTING_KEYS = ["e164", "trunk_id", "application_id", "status", "updated_at"]


async def _trunk(client: httpx.AsyncClient, tenant: Tenant, name: str = "edge") -> str:
    r = await client.post(
        tenant.path("/trunks"), json={"name": name, "auth_type": "ip"}, headers=tenant.bearer
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _application(client: httpx.AsyncClient, tenant: Tenant, name: str = "ivr") -> str:
    r = await client.post(tenant.path("/applications"), json={"name": name}, headers=tenant.bearer)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.fixture
async def owner(client: httpx.AsyncClient, database: Database) -> Tenant:
    """An account owning NUMBER."""
    tenant = await make_tenant(database)
    await stock(database, entry(NUMBER))
    r = await client.post(
        tenant.path("/numbers/purchase-from-inventory"),
        json={"e164": NUMBER, "country": "US"},
        headers=tenant.bearer,
    )
    assert r.status_code == 201
    return tenant


def _assert_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["request_id"] == response.headers["x-request-id"]
    return error


async def test_assign_trunk_answers_the_five_routing_fields(client, owner):
    trunk = await _trunk(client, owner)
    r = await client.post(
        owner.path(f"/numbers/{NUMBER}/assign"), json={"trunk_id": trunk}, headers=owner.bearer
    )
    assert r.status_code == 200
    assert list(r.json()) == ROUTING_KEYS
    assert r.json()["trunk_id"] == trunk and r.json()["application_id"] is None
    got = (await client.get(owner.path(f"/numbers/{NUMBER}"), headers=owner.bearer)).json()
    assert got["trunk_id"] == trunk


async def test_assigning_an_application_clears_the_trunk_and_back(client, owner):
    trunk, app = await _trunk(client, owner), await _application(client, owner)
    await client.post(
        owner.path(f"/numbers/{NUMBER}/assign"), json={"trunk_id": trunk}, headers=owner.bearer
    )
    r = await client.post(
        owner.path(f"/numbers/{NUMBER}/application"),
        json={"application_id": app},
        headers=owner.bearer,
    )
    assert r.status_code == 200
    assert (r.json()["trunk_id"], r.json()["application_id"]) == (None, app)
    r = await client.post(
        owner.path(f"/numbers/{NUMBER}/assign"), json={"trunk_id": trunk}, headers=owner.bearer
    )
    assert (r.json()["trunk_id"], r.json()["application_id"]) == (trunk, None)


async def test_unassign_is_idempotent(client, owner):
    trunk = await _trunk(client, owner)
    await client.post(
        owner.path(f"/numbers/{NUMBER}/assign"), json={"trunk_id": trunk}, headers=owner.bearer
    )
    for _ in range(2):
        r = await client.delete(owner.path(f"/numbers/{NUMBER}/assign"), headers=owner.bearer)
        assert r.status_code == 200
        assert list(r.json()) == ROUTING_KEYS and r.json()["trunk_id"] is None
    r = await client.delete(owner.path(f"/numbers/{NUMBER}/application"), headers=owner.bearer)
    assert r.status_code == 200 and r.json()["application_id"] is None


async def test_unknown_or_foreign_trunk_is_a_validation_error_on_that_field(
    client, owner, database
):
    other = await make_tenant(database, "Other")
    foreign = await _trunk(client, other)
    for trunk_id in ("trunk_doesnotexist", foreign):
        r = await client.post(
            owner.path(f"/numbers/{NUMBER}/assign"),
            json={"trunk_id": trunk_id},
            headers=owner.bearer,
        )
        error = _assert_error(r, 400, "VALIDATION_FAILED")
        assert error["details"][0]["field"] == "trunk_id"
    foreign_app = await _application(client, other)
    r = await client.post(
        owner.path(f"/numbers/{NUMBER}/application"),
        json={"application_id": foreign_app},
        headers=owner.bearer,
    )
    assert _assert_error(r, 400, "VALIDATION_FAILED")["details"][0]["field"] == "application_id"


async def test_released_numbers_cannot_be_routed(client, owner):
    trunk = await _trunk(client, owner)
    assert (
        await client.delete(owner.path(f"/numbers/{NUMBER}"), headers=owner.bearer)
    ).status_code == 200
    r = await client.post(
        owner.path(f"/numbers/{NUMBER}/assign"), json={"trunk_id": trunk}, headers=owner.bearer
    )
    _assert_error(r, 409, "CONFLICT")


async def test_another_accounts_number_cannot_be_routed(client, owner, database):
    other = await make_tenant(database, "Other")
    trunk = await _trunk(client, other)
    r = await client.post(
        other.path(f"/numbers/{NUMBER}/assign"), json={"trunk_id": trunk}, headers=other.bearer
    )
    _assert_error(r, 404, "NOT_FOUND")
    r = await client.post(
        owner.path(f"/numbers/{NUMBER}/assign"), json={"trunk_id": trunk}, headers=other.bearer
    )
    _assert_error(r, 403, "FORBIDDEN")


async def test_list_filters_by_routing(client, owner, database):
    await stock(database, entry(US_NUMBERS[1]), entry(US_NUMBERS[2]))
    for e164 in US_NUMBERS[1:3]:
        await client.post(
            owner.path("/numbers/purchase-from-inventory"),
            json={"e164": e164, "country": "US"},
            headers=owner.bearer,
        )
    trunk, app = await _trunk(client, owner), await _application(client, owner)
    await client.post(
        owner.path(f"/numbers/{US_NUMBERS[0]}/assign"),
        json={"trunk_id": trunk},
        headers=owner.bearer,
    )
    await client.post(
        owner.path(f"/numbers/{US_NUMBERS[1]}/application"),
        json={"application_id": app},
        headers=owner.bearer,
    )

    async def listed(query: str) -> list[str]:
        r = await client.get(owner.path(f"/numbers?{query}"), headers=owner.bearer)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["pagination"]["total"] == len(body["data"])
        return [n["e164"] for n in body["data"]]

    assert await listed(f"trunk_id={trunk}") == [US_NUMBERS[0]]
    assert await listed(f"application_id={app}") == [US_NUMBERS[1]]
    assert await listed("routed=true") == US_NUMBERS[0:2]
    assert await listed("routed=false") == [US_NUMBERS[2]]
    r = await client.get(owner.path("/numbers?routed=maybe"), headers=owner.bearer)
    assert _assert_error(r, 400, "VALIDATION_FAILED")["details"][0]["field"] == "routed"


async def test_real_client_flow_with_basic_auth(client, owner):
    """What a TryVox client does: PATCH the application, route the number, unroute it."""
    app = await _application(client, owner)
    r = await client.patch(
        f"/v1/voice/applications/{app}",
        headers=owner.basic,
        json={
            "answer_url": "https://example.com/answer",
            "answer_method": "POST",
            "webhook_secret": "s3cret-s3cret",
        },
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        owner.path(f"/numbers/{NUMBER}/application"),
        json={"application_id": app},
        headers=owner.basic,
    )
    assert r.status_code in (200, 201)
    r = await client.delete(owner.path(f"/numbers/{NUMBER}/application"), headers=owner.basic)
    assert r.status_code in (200, 204, 404)
