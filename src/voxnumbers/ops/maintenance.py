"""Periodic upkeep run by every server process: return cooled-off numbers to inventory,
forget idempotent responses past their replay window, fold the striped counts, delete audit
entries past their retention. Its changes are the system's (``maintenance``) in the audit
log. Each step is safe to run from several processes at once (each batch is one
transaction, retried whole when the database gives up on it for a deadlock)."""

from __future__ import annotations

from voxnumbers.audit import service as audit
from voxnumbers.db.engine import Database
from voxnumbers.idempotency import service as idempotency
from voxnumbers.kit.actors import Actor, acting_as
from voxnumbers.numbers import service as numbers

MAINTENANCE = Actor("system", "maintenance")


async def run_maintenance(
    database: Database, audit_retention_days: int | None = None
) -> tuple[int, int]:
    """One pass; returns (numbers returned to inventory, idempotency keys forgotten)."""
    with acting_as(MAINTENANCE):
        returned = await return_cooled_off_numbers(database)
        forgotten = await database.run(idempotency.forget_expired)
        await fold_counts(database)
        if audit_retention_days is not None:
            await prune_audit_log(database, audit_retention_days)
    return returned, forgotten


async def prune_audit_log(database: Database, retention_days: int) -> int:
    """Delete every audit entry older than ``retention_days``, in batches."""
    pruned = 0
    while batch := await database.run(lambda conn: audit.prune(conn, retention_days)):
        pruned += batch
    return pruned


async def return_cooled_off_numbers(database: Database) -> int:
    """Move every number whose cooling-off is over back to inventory, in batches."""
    returned = 0
    while swept := await database.run(numbers.sweep_expired_releases):
        returned += swept
    return returned


async def fold_counts(database: Database) -> int:
    """Fold every striped count into its slot 0, in batches; returns the rows folded."""
    folded = 0
    while batch := await database.run(numbers.fold_count_slots):
        folded += batch
    return folded
