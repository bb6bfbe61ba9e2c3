"""Audit entries are kept ``audit_retention_days``; maintenance deletes older ones, as the
system (``maintenance``) acting, and its own changes are recorded as such."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from tests.api.support import own
from tests.factories import make_tenant
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import audit_log
from voxnumbers.kit.clock import utc_now
from voxnumbers.ops.maintenance import run_maintenance


async def test_maintenance_deletes_entries_past_their_retention(database: Database) -> None:
    tenant = await make_tenant(database)  # two entries: account.created, key.created
    async with database.transaction() as conn:
        await conn.execute(
            update(audit_log)
            .where(audit_log.c.action == "account.created")
            .values(at=utc_now() - timedelta(days=31))
        )

    await run_maintenance(database, audit_retention_days=30)

    async with database.transaction(write=False) as conn:
        kept = [row.action for row in await conn.execute(select(audit_log.c.action))]
    assert kept == ["key.created"]
    assert tenant.account_id


async def test_numbers_returned_by_maintenance_are_the_systems(database: Database) -> None:
    tenant = await make_tenant(database)
    await own(
        database,
        tenant,
        "+14155550199",
        status="released",
        available_after=utc_now() - timedelta(seconds=1),
    )

    await run_maintenance(database, audit_retention_days=30)

    async with database.transaction(write=False) as conn:
        [row] = (
            await conn.execute(
                select(audit_log).where(audit_log.c.action == "number.returned_to_inventory")
            )
        ).all()
    assert (row.actor_type, row.actor_id, row.object_id) == (
        "system",
        "maintenance",
        "+14155550199",
    )
    assert row.changes == {
        "account_id": [tenant.account_id, None],
        "status": ["released", None],
    }
    assert row.request_id is None
