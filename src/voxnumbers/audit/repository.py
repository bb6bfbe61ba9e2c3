"""All SQL of the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.audit.schemas import AuditActor, AuditEntry, AuditFilter, AuditObject
from voxnumbers.db.dialects import as_json, random_id
from voxnumbers.db.tables import audit_log
from voxnumbers.kit.worlds import is_live, public_id_of

_a = audit_log.c


async def insert_entries(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(audit_log.insert(), rows)


async def insert_entries_from(
    conn: AsyncConnection, source: Select[Any], entry: Mapping[str, Any]
) -> None:
    """One entry per row of ``source`` (its ``object_id`` and its ``changes`` as JSON), in
    ``object_id`` order, each with an id the database makes and ``entry``'s other columns:
    the rows go from the source to the log without passing through Python."""
    given = source.subquery()
    fixed = list(entry)
    rows = (
        select(
            random_id(conn, "aud", 20),
            *(literal(entry[name], audit_log.c[name].type) for name in fixed),
            given.c.object_id,
            as_json(conn, given.c.changes),
        )
        .select_from(given)
        .order_by(given.c.object_id)
    )
    await conn.execute(audit_log.insert().from_select(["id", *fixed, "object_id", "changes"], rows))


async def list_entries(
    conn: AsyncConnection, where: AuditFilter, *, limit: int
) -> list[tuple[int, AuditEntry]]:
    """Up to ``limit`` entries matching ``where``, newest first, each with its sequence."""
    query = select(audit_log).order_by(_a.seq.desc()).limit(limit)
    if where.account_id is not None:
        query = query.where(_a.account_id == where.account_id)
    if where.object_type is not None:
        query = query.where(_a.object_type == where.object_type)
    if where.object_id is not None:
        query = query.where(_a.object_id == where.object_id)
    if where.actor_id is not None:
        query = query.where(_a.actor_id == where.actor_id)
    if where.since is not None:
        query = query.where(_a.at >= where.since)
    if where.before_seq is not None:
        query = query.where(_a.seq < where.before_seq)
    rows = await conn.execute(query)
    return [(row.seq, _entry(row)) for row in rows]


async def delete_older_than(conn: AsyncConnection, cutoff: datetime, limit: int) -> int:
    """Delete up to ``limit`` of the oldest entries written before ``cutoff``."""
    oldest = select(_a.seq).where(_a.at < cutoff).order_by(_a.seq).limit(limit)
    seqs = [row.seq for row in await conn.execute(oldest)]
    if seqs:
        await conn.execute(delete(audit_log).where(_a.seq.in_(seqs)))
    return len(seqs)


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        # The public account, and which of its worlds (``kit/worlds.py``) the change was in.
        account_id=public_id_of(row.account_id) if row.account_id else None,
        livemode=is_live(row.account_id) if row.account_id else None,
        actor=AuditActor(type=row.actor_type, id=row.actor_id),
        action=row.action,
        object=AuditObject(type=row.object_type, id=row.object_id),
        request_id=row.request_id,
        ip=row.ip,
        changes=_public_changes(row.changes),
    )


def _public_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """A number's owner shows as the public account, whichever world owns it."""
    owner = changes.get("account_id")
    if not isinstance(owner, list):
        return changes
    public = [public_id_of(v) if isinstance(v, str) else v for v in owner]
    return {**changes, "account_id": public}
