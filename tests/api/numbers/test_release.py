"""Release with cooling-off, its preview and cancellation (API.md §3.4)."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from tests.factories import US_NUMBERS, Tenant, entry, make_tenant, stock
from voxnumbers.db.engine import Database
from voxnumbers.numbers import service
from voxnumbers.settings import Settings

NUMBER = US_NUMBERS[0]
RELEASE_KEYS = [
    "e164",
    "status",
    "released_at",
    "early_termination_fee",
    "currency",
    "cooling_off_period_days",
    "available_after",
]
PREVIEW_KEYS = [
    "e164",
    "can_release",
    "early_termination_fee",
    "currency",
    "cooling_off_period_days",
    "warnings",
]


async def _buy(client: httpx.AsyncClient, tenant: Tenant, e164: str = NUMBER) -> httpx.Response:
    return await client.post(
        tenant.path("/numbers/purchase-from-inventory"),
        json={"e164": e164, "country": "US"},
        headers=tenant.bearer,
    )


@pytest.fixture
async def owner(client: httpx.AsyncClient, database: Database) -> Tenant:
    tenant = await make_tenant(database)
    await stock(database, entry(NUMBER), entry(US_NUMBERS[1], needs_provisioning=True))
    assert (await _buy(client, tenant)).status_code == 201
    return tenant


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_preview_of_a_young_number_shows_the_early_termination_fee(client, owner):
    r = await client.get(owner.path(f"/numbers/{NUMBER}/release-preview"), headers=owner.bearer)
    assert r.status_code == 200
    body = r.json()
    assert list(body) == PREVIEW_KEYS
    assert body["can_release"] is True
    assert body["early_termination_fee"] == 25.0 and '"early_termination_fee":25.00' in r.text
    assert body["cooling_off_period_days"] == 30 and body["currency"] == "USD"
    assert any("early termination" in w for w in body["warnings"])


@pytest.mark.parametrize(
    "settings", [Settings(minimum_term_days=0, early_termination_fee_cents=999, cooling_off_days=7)]
)
async def test_fee_and_period_are_configurable(client, owner, settings):
    r = await client.get(owner.path(f"/numbers/{NUMBER}/release-preview"), headers=owner.bearer)
    assert r.json()["early_termination_fee"] == 0.0
    assert r.json()["cooling_off_period_days"] == 7


async def test_pending_number_cannot_be_released(client, owner):
    bought = await _buy(client, owner, US_NUMBERS[1])
    assert bought.json()["status"] == "pending", bought.text
    r = await client.get(
        owner.path(f"/numbers/{US_NUMBERS[1]}/release-preview"), headers=owner.bearer
    )
    assert r.json()["can_release"] is False
    r = await client.delete(owner.path(f"/numbers/{US_NUMBERS[1]}"), headers=owner.bearer)
    assert r.status_code == 409 and r.json()["error"]["code"] == "CONFLICT"


async def test_release_answers_the_release_and_hides_the_number(client, owner, database):
    r = await client.delete(owner.path(f"/numbers/{NUMBER}"), headers=owner.bearer)
    assert r.status_code == 200
    body = r.json()
    assert list(body) == RELEASE_KEYS
    assert body["status"] == "released"
    assert _time(body["available_after"]) - _time(body["released_at"]) == timedelta(days=30)
    default = (await client.get(owner.path("/numbers"), headers=owner.bearer)).json()
    assert default["data"] == [] and default["pagination"]["total"] == 0
    released = (
        await client.get(owner.path("/numbers?status=released"), headers=owner.bearer)
    ).json()
    assert [n["e164"] for n in released["data"]] == [NUMBER]
    assert released["pagination"]["total"] == 1
    # Nobody can buy it while it cools off, not even its last owner.
    other = await make_tenant(database, "Other")
    for buyer in (other, owner):
        assert (await _buy(client, buyer)).status_code == 409
    r = await client.delete(owner.path(f"/numbers/{NUMBER}"), headers=owner.bearer)
    assert r.status_code == 409


async def test_cancel_release_restores_status_and_routing(client, owner):
    trunk = (
        await client.post(
            owner.path("/trunks"), json={"name": "t", "auth_type": "ip"}, headers=owner.bearer
        )
    ).json()["id"]
    await client.post(
        owner.path(f"/numbers/{NUMBER}/assign"), json={"trunk_id": trunk}, headers=owner.bearer
    )
    released = await client.delete(owner.path(f"/numbers/{NUMBER}"), headers=owner.bearer)
    assert released.status_code == 200
    got = (await client.get(owner.path(f"/numbers/{NUMBER}"), headers=owner.bearer)).json()
    assert got["trunk_id"] is None and got["status"] == "released"
    r = await client.post(owner.path(f"/numbers/{NUMBER}/cancel-release"), headers=owner.bearer)
    assert r.status_code == 200
    assert r.json()["status"] == "active" and r.json()["trunk_id"] == trunk
    assert len(r.json()) == 13


async def test_cancel_release_skips_a_trunk_deleted_meanwhile(client, owner):
    trunk = (
        await client.post(
            owner.path("/trunks"), json={"name": "t", "auth_type": "ip"}, headers=owner.bearer
        )
    ).json()["id"]
    await client.post(
        owner.path(f"/numbers/{NUMBER}/assign"), json={"trunk_id": trunk}, headers=owner.bearer
    )
    await client.delete(owner.path(f"/numbers/{NUMBER}"), headers=owner.bearer)
    assert (
        await client.delete(owner.path(f"/trunks/{trunk}"), headers=owner.bearer)
    ).status_code == 200
    r = await client.post(owner.path(f"/numbers/{NUMBER}/cancel-release"), headers=owner.bearer)
    assert r.status_code == 200 and r.json()["trunk_id"] is None


async def test_cancel_release_of_an_unreleased_number_is_a_conflict(client, owner):
    r = await client.post(owner.path(f"/numbers/{NUMBER}/cancel-release"), headers=owner.bearer)
    assert r.status_code == 409


@pytest.mark.parametrize("settings", [Settings(cooling_off_days=0)])
async def test_after_the_window_the_number_is_back_in_inventory(client, owner, database, settings):
    """With a zero-day period the window is over as soon as the release is."""
    assert (
        await client.delete(owner.path(f"/numbers/{NUMBER}"), headers=owner.bearer)
    ).status_code == 200
    r = await client.post(owner.path(f"/numbers/{NUMBER}/cancel-release"), headers=owner.bearer)
    assert r.status_code == 409
    assert (
        await client.get(owner.path(f"/numbers/{NUMBER}"), headers=owner.bearer)
    ).status_code == 404
    listed = (await client.get(owner.path("/numbers?status=released"), headers=owner.bearer)).json()
    assert listed["pagination"]["total"] == 0
    search = (
        await client.get(
            owner.path(f"/inventory/numbers?contains={NUMBER[1:]}"), headers=owner.bearer
        )
    ).json()
    assert [n["e164"] for n in search["data"]] == [NUMBER]
    # Buyable before any sweep, by anyone.
    other = await make_tenant(database, "Other")
    r = await _buy(client, other)
    assert r.status_code == 201 and r.json()["status"] == "active"


@pytest.mark.parametrize("settings", [Settings(cooling_off_days=0)])
async def test_the_sweeper_returns_expired_numbers_to_inventory(client, owner, database, settings):
    await client.delete(owner.path(f"/numbers/{NUMBER}"), headers=owner.bearer)
    async with database.transaction() as conn:
        assert await service.sweep_expired_releases(conn) == 1
    async with database.transaction() as conn:
        assert await service.sweep_expired_releases(conn) == 0
    events = (
        await client.get(
            owner.path("/events?type=number.returned_to_inventory"), headers=owner.bearer
        )
    ).json()
    assert [e["e164"] for e in events["data"]] == [NUMBER]
    search = (
        await client.get(
            owner.path(f"/inventory/numbers?contains={NUMBER[1:]}"), headers=owner.bearer
        )
    ).json()
    assert search["pagination"]["total"] == 1


async def test_release_of_another_accounts_number_is_not_found(client, owner, database):
    other = await make_tenant(database, "Other")
    r = await client.delete(other.path(f"/numbers/{NUMBER}"), headers=other.bearer)
    assert r.status_code == 404
    r = await client.get(other.path(f"/numbers/{NUMBER}/release-preview"), headers=other.bearer)
    assert r.status_code == 404
