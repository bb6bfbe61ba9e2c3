"""``Database.schema_change``: one transaction for a schema change that commits all or
nothing; on SQLite, foreign keys off during it (a rebuilt table is dropped while others
reference it), all of them checked before the commit, and on again after it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from tests.factories import make_tenant
from voxnumbers.db.engine import Database
from voxnumbers.db.errors import ForeignKeyViolation
from voxnumbers.db.tables import api_keys, number_totals
from voxnumbers.kit.clock import utc_now

ORPHAN = {"account_id": "acc_nobody", "country": "US", "status": "active", "slot": 0, "total": 1}


async def _tables(database: Database) -> set[str]:
    def _names(sync_conn: Any) -> set[str]:
        return set(inspect(sync_conn).get_table_names())

    async with database.transaction(write=False) as conn:
        return await conn.run_sync(_names)


async def test_a_change_leaving_a_row_that_references_nothing_changes_nothing(
    database_url: str,
) -> None:
    database = Database(database_url, pool_size=1)
    try:
        tenant = await make_tenant(database)
        with pytest.raises((ForeignKeyViolation, IntegrityError)) as raised:
            async with database.schema_change() as conn:
                await conn.execute(text("CREATE TABLE scratch (id INTEGER PRIMARY KEY)"))
                await conn.execute(
                    number_totals.insert().values(**{**ORPHAN, "account_id": tenant.account_id})
                )
                await conn.execute(number_totals.insert().values(**ORPHAN))
        if database.is_sqlite:  # foreign keys off: found by the check before the commit
            assert raised.type is ForeignKeyViolation
            assert raised.value.violations == {("number_totals", "accounts"): 1}
            assert str(raised.value) == (
                "rows would reference rows that do not exist: 1 in number_totals (to accounts)"
            )
        assert "scratch" not in await _tables(database)
        async with database.transaction(write=False) as conn:
            count = select(func.count()).select_from(number_totals)
            assert (await conn.execute(count)).scalar_one() == 0
    finally:
        await database.dispose()


async def test_foreign_keys_are_enforced_again_on_the_connection_after_a_change(
    database_url: str,
) -> None:
    database = Database(database_url, pool_size=1)  # the change's connection, reused
    try:
        async with database.schema_change() as conn:
            await conn.execute(text("SELECT 1"))
        with pytest.raises(ForeignKeyViolation if database.is_sqlite else IntegrityError):
            async with database.schema_change() as conn:
                await conn.execute(number_totals.insert().values(**ORPHAN))
        now = utc_now()
        orphan_key = {
            "id": "key_orphan",
            "account_id": "acc_nobody",
            "digest": "0" * 64,
            "hint": "tvx_sk_live_…0000",
            "mode": "live",
            "created_at": now,
        }
        with pytest.raises(IntegrityError):
            async with database.transaction() as conn:
                await conn.execute(api_keys.insert().values(**orphan_key))
        if database.is_sqlite:
            async with database.transaction(write=False) as conn:
                enforced = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar_one()
            assert enforced == 1
    finally:
        await database.dispose()
