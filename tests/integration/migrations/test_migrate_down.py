"""Rolling back a release (``vox migrate --to``): migrations go down with data in them, on
both databases. Every live row the older schema can hold is kept as it was; the test worlds'
data, which no schema before 0008 has a place for, is gone; going up again, the app serves
the same live data."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from argon2 import PasswordHasher
from sqlalchemy import MetaData, select, text

from tests.api.support import app_on, buy, running
from tests.factories import US_NUMBERS, Tenant, add_test_key, entry, make_tenant, stock
from voxnumbers.admin import service as admin
from voxnumbers.console import service as console
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import bulk_jobs, metadata
from voxnumbers.migrations import (
    Migration,
    MigrationError,
    UnknownRevision,
    current_revision,
    downgrade_to,
    migrate_to,
    upgrade_to_head,
)
from voxnumbers.trunks import service as trunks_service

LIVE_NUMBERS = US_NUMBERS[:3]
TEST_ONLY_NUMBER = US_NUMBERS[3]
# Counts striped over slots: compared by bucket, summed over slots (0006 folds the slots).
STRIPED = {"number_totals", "number_counts"}

Rows = dict[str, list[dict[str, Any]]]


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        trunks_service, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
async def migrated(database: Database) -> AsyncIterator[Database]:
    """The test's database, brought back to head afterwards whatever happened (on
    PostgreSQL the next tests of the run share it)."""
    yield database
    await upgrade_to_head(database)


async def _created(http: httpx.AsyncClient, tenant: Tenant, path: str, body: Any) -> Any:
    response = await http.post(tenant.path(path), json=body, headers=tenant.bearer)
    assert response.status_code == 201, response.text
    return response.json()


async def _populate_world(http: httpx.AsyncClient, tenant: Tenant, numbers: list[str]) -> str:
    """Numbers (one bought with an Idempotency-Key), a trunk with a credential and an ACL
    entry, an application, a webhook and its deliveries, routing, a bulk job with results:
    all through the API, as the tenant's key (live or test). Returns the job's id."""
    first = await http.post(
        tenant.path("/numbers/purchase-from-inventory"),
        json={"e164": numbers[0], "country": "US"},
        headers={**tenant.bearer, "Idempotency-Key": f"buy-{tenant.key_id}"},
    )
    assert first.status_code == 201, first.text
    for e164 in numbers[1:]:
        assert (await buy(http, tenant, e164)).status_code == 201
    webhook = await _created(http, tenant, "/webhooks", {"url": "https://example.com/hook"})
    trunk = await _created(http, tenant, "/trunks", {"name": "edge", "auth_type": "credential"})
    await _created(
        http,
        tenant,
        f"/trunks/{trunk['id']}/credentials",
        {"username": "pbx", "password": "correct horse battery"},
    )
    await _created(http, tenant, f"/trunks/{trunk['id']}/ip-acl", {"ip": "192.0.2.10"})
    application = await _created(http, tenant, "/applications", {"name": "ivr"})
    for e164, route, body in (
        (numbers[0], "assign", {"trunk_id": trunk["id"]}),
        (numbers[1], "application", {"application_id": application["id"]}),
    ):
        routed = await http.post(
            tenant.path(f"/numbers/{e164}/{route}"), json=body, headers=tenant.bearer
        )
        assert routed.status_code == 200, routed.text
    deliveries = await http.get(
        tenant.path(f"/webhooks/{webhook['id']}/deliveries"), headers=tenant.bearer
    )
    assert deliveries.json()["data"], deliveries.text
    job = await http.post(
        tenant.path("/numbers/bulk"),
        json={"action": "assign_trunk", "trunk_id": trunk["id"], "numbers": numbers},
        headers=tenant.bearer,
    )
    assert job.status_code == 202, job.text
    return str(job.json()["id"])


async def _jobs_ended(database: Database, job_ids: list[str]) -> None:
    query = select(bulk_jobs.c.status).where(bulk_jobs.c.id.in_(job_ids))
    for _ in range(1_000):
        async with database.transaction(write=False) as conn:
            statuses = {row.status for row in await conn.execute(query)}
        if statuses <= {"succeeded", "failed", "cancelled"}:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"jobs {job_ids} never ended")


async def _populate(database: Database) -> tuple[Tenant, Tenant]:
    """An account with data in both worlds (the test world owns one of the live world's
    numbers too), console sessions in both, and an account made through the admin API with
    an Idempotency-Key (an operator's stored response; audit entries)."""
    live = await make_tenant(database, "Rolled back")
    test = await add_test_key(database, live)
    await stock(database, *(entry(e164) for e164 in LIVE_NUMBERS), entry(US_NUMBERS[10]))
    async with database.transaction() as conn:
        operator = await admin.create_operator_token(conn, "ops")
    async with running(app_on(database)) as http:
        jobs = [
            await _populate_world(http, live, LIVE_NUMBERS),
            await _populate_world(http, test, [LIVE_NUMBERS[0], TEST_ONLY_NUMBER]),
        ]
        made = await http.post(
            "/admin/v1/accounts",
            json={"name": "Made by an operator"},
            headers={"Authorization": f"Bearer {operator.secret}", "Idempotency-Key": "one"},
        )
        assert made.status_code == 201, made.text
        await _jobs_ended(database, jobs)
    for tenant in (live, test):
        async with database.transaction() as conn:
            await console.sign_in(conn, tenant.key)
    return live, test


def _reflected_rows(sync_conn: Any) -> Rows:
    """Every row of every table, as the schema the database is at has them."""
    tables = MetaData()
    tables.reflect(sync_conn)
    return {
        name: [dict(row._mapping) for row in sync_conn.execute(select(table))]
        for name, table in tables.tables.items()
    }


async def _rows(database: Database) -> Rows:
    async with database.transaction(write=False) as conn:
        return await conn.run_sync(_reflected_rows)


def _comparable(table: str, rows: list[dict[str, Any]], columns: list[str]) -> list[Any]:
    """``rows`` with only ``columns``, in an order of their own; striped counts as their
    sums by bucket."""
    if table in STRIPED:
        key = [column for column in columns if column not in {"slot", "total"}]
        sums: dict[tuple[Any, ...], int] = {}
        for row in rows:
            bucket = tuple(row[column] for column in key)
            sums[bucket] = sums.get(bucket, 0) + row["total"]
        return sorted((bucket, total) for bucket, total in sums.items() if total)
    return sorted((tuple((column, row[column]) for column in columns) for row in rows), key=repr)


def _assert_only_live_rows_kept(before: Rows, after: Rows) -> None:
    """Every table of the older schema holds exactly the live rows it held at head (in the
    columns it has), and nothing of a test world or of an operator."""
    live_accounts = {row["id"] for row in before["accounts"] if row["live_account_id"] is None}
    assert len(live_accounts) < len(before["accounts"])  # there were test worlds
    for table, rows in after.items():
        if table == "alembic_version":
            continue
        columns = list(rows[0]) if rows else None
        kept = [
            row
            for row in before[table]
            if "account_id" not in row or row["account_id"] in live_accounts
        ]
        if table == "accounts":
            kept = [row for row in kept if row["live_account_id"] is None]
        assert kept, f"{table}: the test had no live rows in it"
        columns = columns or list(kept[0])
        expected = _comparable(table, kept, [c for c in columns if c in kept[0]])
        assert _comparable(table, rows, columns) == expected, table


async def _live_answers(database: Database, tenant: Tenant) -> dict[str, Any]:
    """What the app answers the tenant's key on its lists."""
    answers = {}
    async with running(app_on(database)) as http:
        for path in ("/numbers", "/trunks", "/applications", "/webhooks"):
            response = await http.get(
                tenant.path(path), params={"per_page": 100}, headers=tenant.bearer
            )
            assert response.status_code == 200, response.text
            answers[path] = response.json()
    return answers


async def test_down_to_0007_keeps_the_live_rows_and_up_again_serves_them(
    migrated: Database,
) -> None:
    database = migrated
    live, test = await _populate(database)
    live_answers = await _live_answers(database, live)
    assert live_answers["/numbers"]["pagination"]["total"] == len(LIVE_NUMBERS)
    assert (await _live_answers(database, test))["/numbers"]["pagination"]["total"] == 2
    before = await _rows(database)
    assert [table for table, rows in before.items() if not rows] == []
    operator_keys = [
        row
        for row in before["idempotency_keys"]
        if row["account_id"] in {token["id"] for token in before["operator_tokens"]}
    ]
    assert operator_keys

    reverted = await downgrade_to(database, "0007")
    assert (reverted.before, reverted.after, reverted.steps) == (
        "0010",
        "0007",
        ("0010", "0009", "0008"),
    )
    after = await _rows(database)
    assert set(after) == {t.name for t in metadata.sorted_tables} - {
        "bulk_jobs",
        "bulk_job_items",
        "operator_tokens",
        "audit_log",
    } | {"alembic_version"}
    _assert_only_live_rows_kept(before, after)
    assert not {row["account_id"] for row in after["idempotency_keys"]} & {
        row["account_id"] for row in operator_keys
    }

    applied = await migrate_to(database, "head")
    assert applied.steps == ("0008", "0009", "0010")
    assert await _live_answers(database, live) == live_answers
    emptied = await _live_answers(database, test)
    assert emptied["/numbers"]["data"] == [] and emptied["/numbers"]["pagination"]["total"] == 0


def _differences(sync_conn: Any) -> list[Any]:
    context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_down_to_0005_then_to_base_with_data_and_up_again(migrated: Database) -> None:
    database = migrated
    await _populate(database)
    before = await _rows(database)

    await downgrade_to(database, "0005")
    at_0005 = await _rows(database)
    assert set(at_0005) == {
        "alembic_version",
        "accounts",
        "api_keys",
        "inventory_numbers",
        "numbers",
        "number_counts",
        "number_totals",
        "trunks",
        "trunk_credentials",
        "trunk_ip_acl",
        "applications",
        "events",
        "webhook_endpoints",
        "webhook_deliveries",
        "idempotency_keys",
    }
    _assert_only_live_rows_kept(before, at_0005)

    await downgrade_to(database, "base")
    assert await _rows(database) == {"alembic_version": []}
    assert await current_revision(database) is None

    await upgrade_to_head(database)
    async with database.transaction(write=False) as conn:
        assert await conn.run_sync(_differences) == []
    assert await current_revision(database) == "0010"


async def test_revisions_that_cannot_be_reached_are_refused_and_change_nothing(
    migrated: Database,
) -> None:
    database = migrated
    with pytest.raises(UnknownRevision) as unknown:
        await migrate_to(database, "0011")
    assert str(unknown.value) == (
        "unknown revision '0011': use head, base or one of "
        "0001, 0002, 0003, 0004, 0005, 0006, 0007, 0008, 0009, 0010"
    )
    assert await downgrade_to(database, "head") == Migration("0010", "0010", "none", ())
    await downgrade_to(database, "0007")
    with pytest.raises(MigrationError) as upwards:
        await downgrade_to(database, "0009")
    assert str(upwards.value) == "the database is at 0007, below 0009: nothing to downgrade"
    assert await current_revision(database) == "0007"


async def test_a_database_migrated_by_a_newer_version_is_left_alone(migrated: Database) -> None:
    database = migrated
    async with database.transaction() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '0042'"))
    try:
        for target in ("head", "0007", "base"):
            with pytest.raises(MigrationError) as newer:
                await migrate_to(database, target)
            assert str(newer.value) == (
                "the database is at revision '0042', which this version does not know "
                "(it was migrated by a newer version: migrate it with that version)"
            )
        async with database.transaction(write=False) as conn:
            assert await conn.run_sync(_differences) == []
    finally:
        async with database.transaction() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0010'"))


async def test_a_downgrade_that_fails_halfway_leaves_the_database_as_it_was(
    migrated: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = migrated
    await _populate(database)
    before = await _rows(database)
    downgrade = command.downgrade

    def _fails_after_two_steps(config: Any, revision: str) -> None:
        downgrade(config, "0008")  # 0010 and 0009 reverted, in the run's transaction
        raise RuntimeError("the third step failed")

    monkeypatch.setattr(command, "downgrade", _fails_after_two_steps)
    with pytest.raises(RuntimeError, match="the third step failed"):
        await downgrade_to(database, "0007")
    assert await current_revision(database) == "0010"
    assert await _rows(database) == before
