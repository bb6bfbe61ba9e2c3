"""Periodic upkeep run by every server process: return cooled-off numbers to inventory and
forget idempotent responses past their replay window. Each step is safe to run from several
processes at once (each batch is one transaction)."""

from __future__ import annotations

from voxnumbers.idempotency import service as idempotency
from voxnumbers.kit.db import Database
from voxnumbers.numbers import service as numbers


async def run_maintenance(database: Database) -> tuple[int, int]:
    """One pass; returns (numbers returned to inventory, idempotency keys forgotten)."""
    returned = await return_cooled_off_numbers(database)
    async with database.transaction() as conn:
        forgotten = await idempotency.forget_expired(conn)
    return returned, forgotten


async def return_cooled_off_numbers(database: Database) -> int:
    """Move every number whose cooling-off is over back to inventory, in batches."""
    returned = 0
    while True:
        async with database.transaction() as conn:
            swept = await numbers.sweep_expired_releases(conn)
        returned += swept
        if not swept:
            return returned
