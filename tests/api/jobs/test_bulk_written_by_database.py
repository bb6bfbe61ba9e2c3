"""A routing job's events and audit entries are written by the database from the rows
themselves (``numbers.repository.number_events_data`` and ``routing_changes``): they must
say exactly what the single-number endpoints' say, for numbers of every shape."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from tests.api.jobs.test_bulk import bulk, finished, new_application, new_trunk, number
from tests.api.support import own
from tests.factories import US_NUMBERS, Tenant, make_tenant
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import events, webhook_deliveries, webhook_endpoints
from voxnumbers.settings import Settings

# Every capability set, fees from nothing to the largest, regions JSON must escape, times
# that are not whole seconds (PostgreSQL keeps them; SQLite stores seconds).
SHAPES: list[dict[str, Any]] = [
    {
        "capabilities": mask,
        "monthly_fee_cents": fee,
        "setup_fee_cents": setup,
        "region": region,
        "created_at": created,
    }
    for mask, fee, setup, region, created in [
        (0, 0, 0, "", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        (1, 5, 1, 'Quote " and \\ backslash', datetime(2026, 1, 2, 3, 4, 5, 250000, tzinfo=UTC)),
        (2, 100, 99, "Île-de-France", datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (3, 125, 1000, "tab\tand\nline", datetime(2026, 6, 1, tzinfo=UTC)),
        (4, 999, 0, "<script>&'", datetime(2026, 2, 28, 12, 0, 0, 1, tzinfo=UTC)),
        (5, 100000, 12345, "東京", datetime(2026, 3, 1, tzinfo=UTC)),
        (6, 1, 2, "emoji 📞", datetime(2026, 4, 5, 6, 7, 8, tzinfo=UTC)),
        (7, 99999999, 10, "x" * 100, datetime(2026, 7, 8, 9, 10, 11, tzinfo=UTC)),
    ]
]


@pytest.fixture
def settings() -> Settings:
    # Batches of 3: the shapes are written by several statements.
    return Settings(log_level="warning", run_worker=False, job_batch_size=3, job_poll_seconds=0.02)


@pytest.fixture
async def tenant(database: Database) -> Tenant:
    tenant = await make_tenant(database)
    for e164, shape in zip(US_NUMBERS, SHAPES, strict=False):
        await own(database, tenant, e164, **shape)
    return tenant


async def events_about(client: Any, tenant: Tenant, e164: str) -> list[dict[str, Any]]:
    """The number's events, oldest first."""
    feed = await client.get(
        tenant.path("/events"), params={"e164": e164, "per_page": 100}, headers=tenant.bearer
    )
    assert feed.status_code == 200, feed.text
    return list(reversed(feed.json()["data"]))


async def audited(client: Any, tenant: Tenant) -> dict[str, list[dict[str, Any]]]:
    """Each number's routing changes in the audit log, oldest first."""
    log = await client.get(tenant.path("/audit-log"), params={"limit": 100}, headers=tenant.bearer)
    assert log.status_code == 200, log.text
    changes: dict[str, list[dict[str, Any]]] = {}
    for entry in reversed(log.json()["data"]):
        if entry["action"] == "number.routing_changed":
            changes.setdefault(entry["object"]["id"], []).append(entry["changes"])
    return changes


async def test_each_event_carries_the_number_as_the_api_shows_it(client, tenant):
    listed = US_NUMBERS[: len(SHAPES)]
    trunk = await new_trunk(client, tenant)
    application = await new_application(client, tenant)
    shown: dict[str, list[dict[str, Any]]] = {e164: [] for e164 in listed}

    for body in (
        {"action": "assign_trunk", "trunk_id": trunk},
        {"action": "assign_application", "application_id": application},
        {"action": "unassign"},
    ):
        response = await bulk(client, tenant, numbers=listed, **body)
        assert response.status_code == 202, response.text
        done = await finished(client, tenant, response.json()["id"])
        assert (done["status"], done["changed"]) == ("succeeded", len(listed))
        for e164 in listed:
            shown[e164].append(await number(client, tenant, e164))

    for e164 in listed:
        events = await events_about(client, tenant, e164)
        assert [event["type"] for event in events] == ["number.routing_changed"] * 3
        assert [event["data"] for event in events] == [{"number": n} for n in shown[e164]]
        assert [event["livemode"] for event in events] == [True] * 3
    assert len(
        {event["id"] for e164 in listed for event in await events_about(client, tenant, e164)}
    ) == 3 * len(listed)


async def test_each_audit_entry_names_the_routing_fields_that_changed(client, tenant):
    listed = US_NUMBERS[: len(SHAPES)]
    trunk = await new_trunk(client, tenant)
    application = await new_application(client, tenant)

    for body in (
        {"action": "assign_trunk", "trunk_id": trunk},
        {"action": "assign_application", "application_id": application},
        {"action": "assign_application", "application_id": application},  # no change
        {"action": "unassign"},
    ):
        response = await bulk(client, tenant, numbers=listed, **body)
        assert response.status_code == 202, response.text
        assert (await finished(client, tenant, response.json()["id"]))["status"] == "succeeded"

    assert await audited(client, tenant) == {
        e164: [
            {"trunk_id": [None, trunk]},
            {"trunk_id": [trunk, None], "application_id": [None, application]},
            {"application_id": [application, None]},
        ]
        for e164 in listed
    }


async def test_each_event_is_queued_for_the_endpoints_that_want_it(client, database, tenant):
    listed = US_NUMBERS[: len(SHAPES)]
    trunk = await new_trunk(client, tenant)
    for url, types in (
        ("https://example.com/all", []),
        ("https://example.com/routing", ["number.routing_changed"]),
        ("https://example.com/other", ["number.released"]),
    ):
        hook = await client.post(
            tenant.path("/webhooks"), json={"url": url, "event_types": types}, headers=tenant.bearer
        )
        assert hook.status_code == 201, hook.text

    response = await bulk(client, tenant, action="assign_trunk", trunk_id=trunk, numbers=listed)
    assert response.status_code == 202, response.text
    assert (await finished(client, tenant, response.json()["id"]))["status"] == "succeeded"

    async with database.transaction(write=False) as conn:
        queued = (
            await conn.execute(
                select(webhook_endpoints.c.url, events.c.type, webhook_deliveries.c.e164)
                .join(events, events.c.seq == webhook_deliveries.c.event_seq)
                .join(webhook_endpoints, webhook_endpoints.c.id == webhook_deliveries.c.endpoint_id)
                .where(events.c.e164 == webhook_deliveries.c.e164)
            )
        ).all()
    routed = sorted((url, e164) for url, type_, e164 in queued if type_ == "number.routing_changed")
    assert routed == sorted(
        (url, e164)
        for url in ("https://example.com/all", "https://example.com/routing")
        for e164 in listed
    )
