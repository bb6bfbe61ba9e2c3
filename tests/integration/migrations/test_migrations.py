"""Migrations produce exactly ``db/tables.py`` on both databases, and go down and up again."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from voxnumbers.db.engine import Database
from voxnumbers.db.tables import metadata
from voxnumbers.migrations import alembic_config, pending_migrations, upgrade_to_head


def _differences(sync_conn: Any) -> list[Any]:
    context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_migrated_schema_is_exactly_the_declared_schema(database: Database) -> None:
    async with database.transaction(write=False) as conn:
        differences = await conn.run_sync(_differences)
    assert differences == []
    assert await pending_migrations(database) == []


async def test_every_migration_goes_down_and_up_again(database: Database) -> None:
    def _downgrade(sync_conn: Any) -> None:
        config = alembic_config()
        config.attributes["connection"] = sync_conn
        command.downgrade(config, "base")

    async with database.transaction() as conn:
        await conn.run_sync(_downgrade)
    assert len(await pending_migrations(database)) >= 2
    await upgrade_to_head(database)
    async with database.transaction(write=False) as conn:
        assert await conn.run_sync(_differences) == []
