"""Alembic migrations, run in process by ``vox migrate`` and ``vox serve`` (SQLite)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from voxnumbers.kit.db import Database

_HERE = Path(__file__).parent


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    return config


async def upgrade_to_head(database: Database) -> None:
    """Apply every migration not yet applied, in one transaction."""

    def _upgrade(sync_conn: Any) -> None:
        config = alembic_config()
        config.attributes["connection"] = sync_conn
        command.upgrade(config, "head")

    async with database.transaction() as conn:
        await conn.run_sync(_upgrade)


async def pending_migrations(database: Database) -> list[str]:
    """Revisions not yet applied (empty when the schema is at head)."""

    def _pending(sync_conn: Any) -> list[str]:
        current = MigrationContext.configure(sync_conn).get_current_heads()
        script = ScriptDirectory.from_config(alembic_config())
        applied: set[str] = set()
        for head in current:
            applied.update(rev.revision for rev in script.iterate_revisions(head, "base"))
        return [rev.revision for rev in script.walk_revisions() if rev.revision not in applied]

    async with database.transaction(write=False) as conn:
        return await conn.run_sync(_pending)
