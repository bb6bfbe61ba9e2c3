"""Upkeep of the exact counts lists answer from."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.numbers import count_upkeep


async def fold_count_slots(conn: AsyncConnection) -> int:
    """Fold a batch of the counts' striped rows back into one row per bucket (reads then
    sum fewer rows); returns how many were folded, 0 when none are left."""
    return await count_upkeep.fold_count_slots(conn)
