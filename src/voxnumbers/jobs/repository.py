"""All SQL of bulk jobs and their items."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from voxnumbers.db.dialects import among
from voxnumbers.db.direct import fetch_all
from voxnumbers.db.tables import bulk_job_items, bulk_jobs
from voxnumbers.jobs.schemas import ItemError, ItemOutcome, JobRecord, JobResult

_j = bulk_jobs.c
_i = bulk_job_items.c
_UNFINISHED = ("queued", "running")
# Items inserted per statement when a listed selection is copied in.
_INSERT_CHUNK = 5000


async def insert_job(conn: AsyncConnection, **values: Any) -> int:
    """Add a job; returns its sequence number (the order of jobs)."""
    result = await conn.execute(bulk_jobs.insert().values(**values).returning(_j.seq))
    return int(result.scalar_one())


async def insert_listed_items(
    conn: AsyncConnection, job_seq: int, account_id: str, e164s: Sequence[str]
) -> None:
    """The job's selection, as listed."""
    for start in range(0, len(e164s), _INSERT_CHUNK):
        chunk = e164s[start : start + _INSERT_CHUNK]
        await conn.execute(
            bulk_job_items.insert(),
            [{"job_seq": job_seq, "e164": e164, "account_id": account_id} for e164 in chunk],
        )


async def insert_selected_items(
    conn: AsyncConnection, job_seq: int, account_id: str, selection: Select[Any]
) -> int:
    """The job's selection, as a query of ``e164``s selects it now; returns how many."""
    chosen = selection.subquery()
    rows = select(
        literal(job_seq, bulk_job_items.c.job_seq.type),
        chosen.c.e164,
        literal(account_id, bulk_job_items.c.account_id.type),
    )
    result = await conn.execute(
        insert(bulk_job_items).from_select(["job_seq", "e164", "account_id"], rows)
    )
    return int(result.rowcount)


async def set_matched(conn: AsyncConnection, job_seq: int, matched: int) -> None:
    await conn.execute(update(bulk_jobs).where(_j.seq == job_seq).values(matched=matched))


async def find_job(
    conn: AsyncConnection, account_id: str, job_id: str, *, for_update: bool = False
) -> JobRecord | None:
    query = select(bulk_jobs).where(_j.id == job_id, _j.account_id == account_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return JobRecord(**row._mapping) if row else None


async def lock_job(conn: AsyncConnection, job_seq: int) -> JobRecord | None:
    """The job, locked until commit (the runner's batch, a cancellation)."""
    query = select(bulk_jobs).where(_j.seq == job_seq).with_for_update()
    row = (await conn.execute(query)).first()
    return JobRecord(**row._mapping) if row else None


async def list_jobs(
    conn: AsyncConnection, account_id: str, status: str | None, *, limit: int, offset: int
) -> list[JobRecord]:
    """A page of the account's jobs, newest first."""
    query = select(bulk_jobs).where(_j.account_id == account_id)
    if status is not None:
        query = query.where(_j.status == status)
    query = query.order_by(_j.seq.desc()).limit(limit).offset(offset)
    return [JobRecord(**row._mapping) for row in await conn.execute(query)]


async def count_jobs(conn: AsyncConnection, account_id: str, status: str | None) -> int:
    query = select(func.count()).select_from(bulk_jobs).where(_j.account_id == account_id)
    if status is not None:
        query = query.where(_j.status == status)
    return int((await conn.execute(query)).scalar_one())


async def claim_job(
    conn: AsyncConnection, now: datetime, owner: str, lease_until: datetime
) -> JobRecord | None:
    """Lease the oldest runnable job: queued or running with an expired lease, with no
    unfinished job of the same account before it (jobs of one account run one at a time,
    in order). PostgreSQL skips jobs another claimer holds; SQLite claims under its write
    lock."""
    earlier = aliased(bulk_jobs)
    query = (
        select(bulk_jobs)
        .where(
            _j.status.in_(_UNFINISHED),
            (_j.locked_until.is_(None)) | (_j.locked_until < now),
            ~exists().where(
                and_(
                    earlier.c.account_id == _j.account_id,
                    earlier.c.seq < _j.seq,
                    earlier.c.status.in_(_UNFINISHED),
                )
            ),
        )
        .order_by(_j.seq)
        .limit(1)
        .with_for_update(skip_locked=True, of=bulk_jobs)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    job = JobRecord(**row._mapping)
    started = job.started_at or now
    await conn.execute(
        update(bulk_jobs)
        .where(_j.seq == job.seq)
        .values(status="running", started_at=started, lease_owner=owner, locked_until=lease_until)
    )
    job.status, job.started_at, job.lease_owner, job.locked_until = (
        "running",
        started,
        owner,
        lease_until,
    )
    return job


async def pending_items(
    conn: AsyncConnection, job_seq: int, after: str | None, limit: int
) -> list[str]:
    """The next numbers of the job not processed yet, in order."""
    parameters = {"job_seq": job_seq, "after": after or "", "limit": limit}
    return [row[0] for row in await fetch_all(conn, _PENDING_ITEMS, parameters)]


# On the driver (``db.direct``): a batch's 500 numbers, read without SQLAlchemy's rows. No
# e164 is empty, so ``after`` is ``''`` from the start.
_PENDING_ITEMS = (
    select(_i.e164)
    .where(_i.job_seq == bindparam("job_seq"), _i.outcome.is_(None), _i.e164 > bindparam("after"))
    .order_by(_i.e164)
    .limit(bindparam("limit"))
)


async def record_outcomes(
    conn: AsyncConnection, job_seq: int, outcomes: Sequence[ItemOutcome]
) -> None:
    """Each number's outcome (in the transaction of the changes themselves): one statement
    for the numbers of each outcome alike (a batch's are mostly ``changed``)."""
    alike: dict[tuple[str, str | None, str | None], list[str]] = {}
    for item in outcomes:
        key = (item.outcome, item.error_code, item.error_message)
        alike.setdefault(key, []).append(item.e164)
    for (outcome, code, message), e164s in alike.items():
        await conn.execute(
            update(bulk_job_items)
            .where(_i.job_seq == job_seq, among(conn, _i.e164, e164s))
            .values(outcome=outcome, error_code=code, error_message=message)
        )


async def advance_job(
    conn: AsyncConnection,
    job_seq: int,
    *,
    changed: int,
    unchanged: int,
    failed: int,
    lease_until: datetime,
) -> None:
    """Add a batch's counts to the job and extend its lease."""
    await conn.execute(
        update(bulk_jobs)
        .where(_j.seq == job_seq)
        .values(
            processed=_j.processed + changed + unchanged + failed,
            changed=_j.changed + changed,
            unchanged=_j.unchanged + unchanged,
            failed=_j.failed + failed,
            locked_until=lease_until,
        )
    )


async def finish_job(conn: AsyncConnection, job_seq: int, status: str, now: datetime) -> None:
    await conn.execute(
        update(bulk_jobs)
        .where(_j.seq == job_seq)
        .values(status=status, finished_at=now, lease_owner=None, locked_until=None)
    )


async def release_lease(conn: AsyncConnection, job_seq: int, owner: str) -> None:
    """Give the job back (a runner stopping): another claimer may take it at once."""
    await conn.execute(
        update(bulk_jobs)
        .where(_j.seq == job_seq, _j.lease_owner == owner, _j.status == "running")
        .values(lease_owner=None, locked_until=None)
    )


def _results_filtered(query: Select[Any], job_seq: int, outcome: str | None) -> Select[Any]:
    query = query.where(_i.job_seq == job_seq)
    if outcome is None:
        return query.where(_i.outcome.is_not(None))
    return query.where(_i.outcome == outcome)


async def list_results(
    conn: AsyncConnection, job_seq: int, outcome: str | None, *, limit: int, offset: int
) -> list[JobResult]:
    """A page of the numbers the job has processed, in the order it processed them."""
    query = _results_filtered(
        select(_i.e164, _i.outcome, _i.error_code, _i.error_message), job_seq, outcome
    )
    rows = await conn.execute(query.order_by(_i.e164).limit(limit).offset(offset))
    return [
        JobResult(
            e164=row.e164,
            outcome=row.outcome,
            error=(
                ItemError(code=row.error_code, message=row.error_message or "")
                if row.error_code
                else None
            ),
        )
        for row in rows
    ]


async def count_results(conn: AsyncConnection, job_seq: int, outcome: str | None) -> int:
    query = _results_filtered(select(func.count()).select_from(bulk_job_items), job_seq, outcome)
    return int((await conn.execute(query)).scalar_one())
