"""Upkeep of the exact counts the lists answer from: ``number_totals`` (per account, country
and status) and ``number_counts`` (the same by month of purchase).

Every change of an owned number's account, country or status tells this module
(``adjust_count``, called by ``numbers/repository.py``); the transaction's changes are
summed per bucket and written just before it commits (``write_pending_counts``), striped
over slots on PostgreSQL. Maintenance folds the slots back (``fold_count_slots``). The
design: docs/architecture.md, "Numbers, inventory and counts".
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.db.dialects import insert_for
from voxnumbers.db.engine import before_commit, transaction_local
from voxnumbers.db.tables import number_counts, number_totals

_PENDING_COUNTS = "numbers.pending_counts"
# Slots each count is striped over on PostgreSQL (SQLite's writers are serial: one slot).
COUNT_SLOTS = 16


async def adjust_count(
    conn: AsyncConnection, account_id: str, country: str, status: str, month: int, delta: int
) -> None:
    """Add ``delta`` to the count of a bucket (and of its month) when the transaction commits.

    The changes of a transaction are summed per bucket and written just before its commit
    (``write_pending_counts``): the count rows every write of an account touches are then
    locked for the commit alone, in one order, and never by a transaction still working."""
    local = transaction_local(conn)
    pending: Counter[tuple[str, str, str, int]] | None = local.get(_PENDING_COUNTS)
    if pending is None:
        pending = local[_PENDING_COUNTS] = Counter()
        before_commit(conn, write_pending_counts)
    pending[(account_id, country, status, month)] += delta


async def settle_counts(conn: AsyncConnection) -> None:
    """Write the transaction's pending count changes now, before it reads counts (a
    transaction sees its own changes)."""
    if _PENDING_COUNTS in transaction_local(conn):
        await write_pending_counts(conn)


async def write_pending_counts(conn: AsyncConnection) -> None:
    """Write the transaction's count changes: one upsert per count table, into one slot
    drawn at random, buckets in key order (two transactions lock the rows they share in the
    same order: they may queue, never deadlock)."""
    pending: Counter[tuple[str, str, str, int]] = transaction_local(conn).pop(
        _PENDING_COUNTS, Counter()
    )
    slot = 0 if conn.dialect.name == "sqlite" else random.randrange(COUNT_SLOTS)
    by_month = sorted((key, delta) for key, delta in pending.items() if delta)
    totals: Counter[tuple[str, str, str]] = Counter()
    for (account_id, country, status, _month), delta in by_month:
        totals[(account_id, country, status)] += delta
    await _upsert_counts(
        conn,
        number_totals,
        [
            {"account_id": a, "country": c, "status": s, "slot": slot, "total": delta}
            for (a, c, s), delta in sorted(totals.items())
            if delta
        ],
    )
    await _upsert_counts(
        conn,
        number_counts,
        [
            {"account_id": a, "country": c, "status": s, "month": m, "slot": slot, "total": delta}
            for (a, c, s, m), delta in by_month
        ],
    )


async def _upsert_counts(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Add each row's ``total`` to the row of the same key (created at first use)."""
    if not rows:
        return
    statement = insert_for(conn, table).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=list(table.primary_key.columns),
        set_={"total": table.c.total + statement.excluded.total},
    )
    await conn.execute(statement)


async def fold_count_slots(conn: AsyncConnection, limit: int = 5000) -> int:
    """Fold up to ``limit`` rows of slots other than 0 into slot 0, in key order (a count read
    then sums fewer rows); returns how many rows were folded. Run periodically."""
    folded = 0
    for table in (number_totals, number_counts):
        key = [column for column in table.primary_key.columns if column.name != "slot"]
        query = (
            select(*key, table.c.slot, table.c.total)
            .where(table.c.slot != 0)
            .order_by(*table.primary_key.columns)
            .limit(limit)
            .with_for_update()
        )
        rows = (await conn.execute(query)).all()
        if not rows:
            continue
        sums: Counter[tuple[Any, ...]] = Counter()
        for row in rows:
            sums[tuple(row[: len(key)])] += row.total
        moved = tuple_(*key, table.c.slot).in_([tuple(row[: len(key) + 1]) for row in rows])
        await conn.execute(delete(table).where(moved))
        names = [column.name for column in key]
        await _upsert_counts(
            conn,
            table,
            [
                {**dict(zip(names, bucket, strict=True)), "slot": 0, "total": total}
                for bucket, total in sorted(sums.items())
            ],
        )
        folded += len(rows)
    return folded


def month_of(moment: datetime) -> int:
    """The ``number_counts`` month of a purchase time: 2026-03-15 -> 202603."""
    moment = moment.astimezone(UTC)
    return moment.year * 100 + moment.month


def next_month(month: int) -> int:
    """202612 -> 202701."""
    return month + 89 if month % 100 == 12 else month + 1


def month_start(month: int) -> datetime:
    """The first instant of a ``number_counts`` month."""
    return datetime(month // 100, month % 100, 1, tzinfo=UTC)
