"""Alembic migrations, run in process by ``vox migrate`` and ``vox serve`` (SQLite).

Every run of migrations, up or down, is one transaction (``Database.schema_change``): it
applies all its steps or none. On SQLite that transaction runs with foreign keys off and
checks them all before it commits, as SQLite's documentation prescribes for changes that
rebuild tables; a step that would leave a row referencing nothing rolls the whole run back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from voxnumbers.db.engine import Database

_HERE = Path(__file__).parent
HEAD = "head"
BASE = "base"


class MigrationError(Exception):
    """Migrations that cannot run as asked; nothing was changed."""


class UnknownRevision(MigrationError):
    """A revision that is neither ``head``, ``base`` nor one of the migrations."""


@dataclass(frozen=True, slots=True)
class Migration:
    """What a run of migrations did: the revisions before and after (``None``: no schema),
    and the migrations applied (``up``) or reverted (``down``), in the order they ran."""

    before: str | None
    after: str | None
    direction: Literal["up", "down", "none"]  # none: the schema was at the target already
    steps: tuple[str, ...]


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    return config


def revisions() -> list[str]:
    """Every revision, oldest first (the history is one line)."""
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def resolve_revision(target: str) -> str | None:
    """The revision ``target`` names: ``head``, ``base`` (``None``) or a revision id.
    Raises ``UnknownRevision`` for anything else."""
    known = revisions()
    if target == BASE:
        return None
    if target == HEAD:
        return known[-1]
    if target in known:
        return target
    raise UnknownRevision(
        f"unknown revision {target!r}: use {HEAD}, {BASE} or one of {', '.join(known)}"
    )


async def upgrade_to_head(database: Database) -> None:
    """Apply every migration not yet applied, in one transaction."""
    await migrate_to(database, HEAD)


async def downgrade_to(database: Database, revision: str) -> Migration:
    """Revert every migration applied after ``revision`` (``base``: all of them), in one
    transaction. Reverting a migration deletes the data only its schema could hold (see
    ``docs/operations.md``, "Rolling back a release"). A ``revision`` above the database's
    is refused (``MigrationError``): this never upgrades."""
    target = resolve_revision(revision)
    return await _run(database, target, down_only=True)


async def migrate_to(database: Database, revision: str = HEAD) -> Migration:
    """Bring the schema to ``revision`` (``head``, ``base`` or a revision id), applying or
    reverting migrations as needed, in one transaction."""
    target = resolve_revision(revision)
    return await _run(database, target, down_only=False)


async def _run(database: Database, target: str | None, *, down_only: bool) -> Migration:
    # Most runs (every start of ``vox serve`` on SQLite) find the schema at its target:
    # they need no write lock, and no check of every foreign key of the database.
    if await current_revision(database) == target:
        return Migration(target, target, "none", ())

    def _migrate(sync_conn: Any) -> Migration:
        order = revisions()
        before = _current_revision(sync_conn, order)
        now, wanted = _position(order, before), _position(order, target)
        config = alembic_config()
        config.attributes["connection"] = sync_conn
        if wanted > now:
            if down_only:
                raise MigrationError(
                    f"the database is at {before or BASE}, below {target}: nothing to downgrade"
                )
            command.upgrade(config, target or BASE)
            return Migration(before, target, "up", tuple(order[now + 1 : wanted + 1]))
        if wanted < now:
            command.downgrade(config, target or BASE)
            reverted = tuple(reversed(order[wanted + 1 : now + 1]))
            return Migration(before, target, "down", reverted)
        return Migration(before, target, "none", ())

    async with database.schema_change() as conn:
        return await conn.run_sync(_migrate)


def _position(order: list[str], revision: str | None) -> int:
    return -1 if revision is None else order.index(revision)


def _current_revision(sync_conn: Any, order: list[str]) -> str | None:
    heads = MigrationContext.configure(sync_conn).get_current_heads()
    if len(heads) > 1:  # pragma: no cover - the history is one line
        raise RuntimeError(f"the database has several heads: {', '.join(heads)}")
    current = heads[0] if heads else None
    if current is not None and current not in order:
        raise MigrationError(
            f"the database is at revision {current!r}, which this version does not know "
            "(it was migrated by a newer version: migrate it with that version)"
        )
    return current


async def current_revision(database: Database) -> str | None:
    """The revision the database's schema is at (``None``: no schema yet)."""

    def _current(sync_conn: Any) -> str | None:
        return _current_revision(sync_conn, revisions())

    async with database.transaction(write=False) as conn:
        return await conn.run_sync(_current)


async def pending_migrations(database: Database) -> list[str]:
    """Revisions not yet applied (empty when the schema is at head), oldest first.
    ``MigrationError`` for a database at a revision this version does not know."""

    def _pending(sync_conn: Any) -> list[str]:
        order = revisions()
        current = _current_revision(sync_conn, order)  # refuses a revision it does not know
        return order[_position(order, current) + 1 :]

    async with database.transaction(write=False) as conn:
        return await conn.run_sync(_pending)
