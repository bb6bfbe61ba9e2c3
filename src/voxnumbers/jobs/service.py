"""Rules of bulk operations: validating a request, its dry run, creating, reading and
cancelling jobs, and changing one batch of a job's numbers (the runner calls that).

Each number changes through the single-number service of its action
(``numbers.service``), so the rules, fees and events are exactly theirs; the dry run
applies the same rule functions to the numbers as stored, changing nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.audit import service as audit
from voxnumbers.errors import ApiError, Conflict, NotFound, ValidationFailed
from voxnumbers.events.service import record_event
from voxnumbers.jobs import repository
from voxnumbers.jobs.schemas import (
    BulkFilter,
    BulkPlan,
    BulkRequest,
    ItemOutcome,
    Job,
    JobPage,
    JobRecord,
    JobResultPage,
)
from voxnumbers.jobs.schemas import Conflict as PlannedConflict
from voxnumbers.kit.actors import current_actor
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.e164 import parse_e164
from voxnumbers.kit.ids import is_well_formed, new_id
from voxnumbers.kit.jsonc import to_json_data
from voxnumbers.kit.money import CURRENCY, cents_to_decimal
from voxnumbers.kit.pagination import read_page
from voxnumbers.kit.views import view_of
from voxnumbers.numbers import service as numbers
from voxnumbers.settings import Settings

# Conflicts a dry run lists (it counts them all).
PLANNED_CONFLICTS_SHOWN = 100
# Numbers a dry run reads per statement.
_PLAN_BATCH = 1000
_TARGET_FIELD: dict[str, numbers.RoutingField] = {
    "assign_trunk": "trunk_id",
    "assign_application": "application_id",
}


@dataclass(frozen=True, slots=True)
class Selection:
    """Which numbers a request names: a list (canonical, without repeats) or a filter."""

    listed: list[str] | None
    where: numbers.NumberFilter | None


# --- the request ---------------------------------------------------------------------------


def _target(request: BulkRequest) -> str | None:
    """The trunk or application the action assigns (``400`` where it is missing or given
    to an action that takes none)."""
    wanted = _TARGET_FIELD.get(request.action)
    for field in ("trunk_id", "application_id"):
        given = getattr(request, field)
        if field == wanted and given is msgspec.UNSET:
            raise ValidationFailed.on(field, f"is required for {request.action}")
        if field != wanted and given is not msgspec.UNSET:
            raise ValidationFailed.on(field, f"is not taken by {request.action}")
    return None if wanted is None else str(getattr(request, wanted))


def _selection(request: BulkRequest) -> Selection:
    """The numbers or the filter, exactly one of them (``400`` naming the field)."""
    has_numbers = request.numbers is not msgspec.UNSET
    has_filter = request.filter is not msgspec.UNSET
    if has_numbers and has_filter:
        raise ValidationFailed.on("filter", "cannot be combined with numbers")
    if isinstance(request.filter, BulkFilter):
        return Selection(listed=None, where=_filter(request.filter))
    if not isinstance(request.numbers, list):
        raise ValidationFailed.on("numbers", "either numbers or filter is required")
    listed: dict[str, None] = {}
    for index, raw in enumerate(request.numbers):
        listed[parse_e164(raw, f"numbers[{index}]")] = None
    return Selection(listed=list(listed), where=None)


def _filter(given: BulkFilter) -> numbers.NumberFilter:
    """The list filter of the request, validated as the list validates its query (``400``
    naming ``filter.<field>``)."""
    try:
        return numbers.number_filter(
            numbers.ListFilters(
                country=_given(given.country),
                status=given.status.value if given.status is not None else None,
                trunk_id=_given(given.trunk_id),
                application_id=_given(given.application_id),
                routed=_given(given.routed),
                type=_given(given.type),
                region=_given(given.region),
                capabilities=tuple(given.capability or ()),
                contains=_given(given.contains),
                created_after=_given(given.created_after),
                created_before=_given(given.created_before),
                updated_since=_given(given.updated_since),
            )
        )
    except ValidationFailed as error:
        problem = error.details[0]
        raise ValidationFailed.on(f"filter.{problem.field}", problem.reason) from None


def _given(value: Any) -> Any:
    return None if value is msgspec.UNSET else value


async def _check_target(conn: AsyncConnection, account_id: str, action: str, target: str) -> None:
    field = _TARGET_FIELD[action]
    exists = await numbers.routing_target_exists(
        conn, account_id, numbers.Destination(field, target)
    )
    if not exists:
        raise ValidationFailed.on(field, "does not exist in this account")


# --- creating a job, or its dry run ---------------------------------------------------------


async def start_bulk(
    conn: AsyncConnection, account_id: str, request: BulkRequest, settings: Settings
) -> Job | BulkPlan:
    """A dry run's plan, or the job created (queued) for the runner. Bad input is ``400``
    naming the field, and nothing is started."""
    target = _target(request)
    selection = _selection(request)
    if target is not None:
        await _check_target(conn, account_id, request.action, target)
    if request.dry_run:
        return await _plan(conn, account_id, request.action, target, selection, settings)
    now = utc_now()
    job_id = new_id("job")
    seq = await repository.insert_job(
        conn,
        id=job_id,
        account_id=account_id,
        action=request.action,
        target_id=target,
        status="queued",
        matched=len(selection.listed) if selection.listed is not None else 0,
        created_at=now,
        created_by=current_actor().id,
    )
    if selection.listed is not None:
        await repository.insert_listed_items(conn, seq, account_id, selection.listed)
    else:
        assert selection.where is not None
        chosen = numbers.matching_numbers(account_id, selection.where)
        matched = await repository.insert_selected_items(conn, seq, account_id, chosen)
        await repository.set_matched(conn, seq, matched)
    job = await repository.find_job(conn, account_id, job_id)
    assert job is not None
    await audit.record(
        conn,
        action="job.created",
        object_id=job_id,
        account_id=account_id,
        changes={"status": (None, "queued"), "action": (None, request.action)},
    )
    return job_view(job)


async def _plan(
    conn: AsyncConnection,
    account_id: str,
    action: str,
    target: str | None,
    selection: Selection,
    settings: Settings,
) -> BulkPlan:
    now = utc_now()
    matched = would_change = unchanged = conflict_count = fee = 0
    conflicts: list[PlannedConflict] = []
    async for e164, record in _selected_records(conn, account_id, selection):
        matched += 1
        try:
            changes, cost = planned_change(action, target, record, now, settings)
        except ApiError as error:
            conflict_count += 1
            if len(conflicts) < PLANNED_CONFLICTS_SHOWN:
                conflicts.append(PlannedConflict(e164=e164, code=error.code, message=error.message))
            continue
        would_change += changes
        unchanged += not changes
        fee += cost
    return BulkPlan(
        action=action,  # type: ignore[arg-type]
        dry_run=True,
        matched=matched,
        would_change=would_change,
        unchanged=unchanged,
        conflict_count=conflict_count,
        conflicts=conflicts,
        early_termination_fee_total=cents_to_decimal(fee),
        currency=CURRENCY,
    )


async def _selected_records(
    conn: AsyncConnection, account_id: str, selection: Selection
) -> AsyncIterator[tuple[str, numbers.NumberRecord | None]]:
    """Each selected number with its stored record (``None``: not the account's)."""
    if selection.listed is not None:
        for start in range(0, len(selection.listed), _PLAN_BATCH):
            chunk = selection.listed[start : start + _PLAN_BATCH]
            found = await numbers.find_records(conn, account_id, chunk)
            for e164 in chunk:
                yield e164, found.get(e164)
        return
    assert selection.where is not None
    after = None
    while True:
        records = await numbers.matching_records(
            conn, account_id, selection.where, after, _PLAN_BATCH
        )
        for record in records:
            yield record.e164, record
        if len(records) < _PLAN_BATCH:
            return
        after = records[-1].e164


def planned_change(
    action: str,
    target: str | None,
    stored: numbers.NumberRecord | None,
    now: datetime,
    settings: Settings,
) -> tuple[bool, int]:
    """Whether ``action`` would change the number, and the fee it would cost in cents, by
    the rules of its single-number endpoint; raises the error that endpoint would answer."""
    record = numbers.actionable(stored, now, cooled_off=action == "cancel_release")
    if action == "assign_trunk":
        return numbers.routing_change(record, target, None), 0
    if action == "assign_application":
        return numbers.routing_change(record, None, target), 0
    if action == "unassign":
        return numbers.unrouting_change(record), 0
    if action == "release":
        numbers.release_status(record)
        return True, numbers.early_termination_fee(record, settings)
    numbers.cancellation_status(record, now)
    return True, 0


# --- reading and cancelling -----------------------------------------------------------------


def job_view(job: JobRecord) -> Job:
    """The job as the API shows it (a ``Job`` of its own: a record would show its extra
    fields)."""
    return view_of(Job, job)


async def _owned_job(
    conn: AsyncConnection, account_id: str, job_id: str, *, for_update: bool = False
) -> JobRecord:
    job = (
        await repository.find_job(conn, account_id, job_id, for_update=for_update)
        if is_well_formed(job_id, "job")
        else None
    )
    if job is None:
        raise NotFound("No such job in this account.")
    return job


async def get_job(conn: AsyncConnection, account_id: str, job_id: str) -> Job:
    """One of the account's jobs; another account's is not found."""
    return job_view(await _owned_job(conn, account_id, job_id))


async def list_jobs(
    conn: AsyncConnection, account_id: str, *, status: str | None, page: int, per_page: int
) -> JobPage:
    """A page of the account's jobs, newest first, with the exact total."""
    total = await repository.count_jobs(conn, account_id, status)
    jobs, paging = await read_page(
        partial(repository.list_jobs, conn, account_id, status), total, page, per_page
    )
    return JobPage(data=[job_view(job) for job in jobs], pagination=paging)


async def list_results(
    conn: AsyncConnection,
    account_id: str,
    job_id: str,
    *,
    outcome: str | None,
    page: int,
    per_page: int,
) -> JobResultPage:
    """A page of what the job did to each number it has processed, in its order."""
    job = await _owned_job(conn, account_id, job_id)
    total = await repository.count_results(conn, job.seq, outcome)
    items, paging = await read_page(
        partial(repository.list_results, conn, job.seq, outcome), total, page, per_page
    )
    return JobResultPage(data=items, pagination=paging)


async def cancel_job(conn: AsyncConnection, account_id: str, job_id: str) -> Job:
    """Stop a job after the batch in hand (that batch's changes stand): ``cancelled`` with
    its final counts. Cancelling a cancelled job answers it again; a job that ended
    otherwise is ``409``."""
    job = await _owned_job(conn, account_id, job_id, for_update=True)
    if job.status == "cancelled":
        return job_view(job)
    if job.is_finished:
        raise Conflict(f"The job has already {job.status}; there is nothing to cancel.")
    return job_view(await _finish(conn, job, "cancelled"))


async def _finish(conn: AsyncConnection, job: JobRecord, status: str) -> JobRecord:
    """End the job with ``status`` and record ``job.finished``, in one transaction."""
    now = utc_now()
    await repository.finish_job(conn, job.seq, status, now)
    ended = await repository.lock_job(conn, job.seq)
    assert ended is not None
    await record_event(
        conn, job.account_id, "job.finished", None, {"job": to_json_data(job_view(ended))}
    )
    await audit.record(
        conn,
        action="job.finished",
        object_id=job.id,
        account_id=job.account_id,
        changes={"status": (job.status, status)},
    )
    return ended


# --- running a job (called by the runner, one batch per transaction) --------------------------

Change = Callable[[AsyncConnection, JobRecord, str, Settings], Awaitable[bool]]


async def _release(conn: AsyncConnection, job: JobRecord, e164: str, settings: Settings) -> bool:
    await numbers.release_number(conn, job.account_id, e164, settings)
    return True


async def _cancel_release(conn: AsyncConnection, job: JobRecord, e164: str, _: Settings) -> bool:
    await numbers.cancel_release(conn, job.account_id, e164)
    return True


CHANGES: dict[str, Change] = {
    "release": _release,
    "cancel_release": _cancel_release,
}


Batched = Callable[[AsyncConnection, JobRecord, list[str]], Awaitable[dict[str, bool | ApiError]]]


def _destination(job: JobRecord) -> numbers.Destination:
    """The trunk or application an assign job routes its numbers to."""
    assert job.target_id is not None
    return numbers.Destination(_TARGET_FIELD[job.action], job.target_id)


async def _assign_batch(
    conn: AsyncConnection, job: JobRecord, e164s: list[str]
) -> dict[str, bool | ApiError]:
    return await numbers.route_numbers(conn, job.account_id, e164s, _destination(job))


async def _unassign_batch(
    conn: AsyncConnection, job: JobRecord, e164s: list[str]
) -> dict[str, bool | ApiError]:
    return await numbers.unroute_numbers(conn, job.account_id, e164s)


BATCHED: dict[str, Batched] = {
    "assign_trunk": _assign_batch,
    "assign_application": _assign_batch,
    "unassign": _unassign_batch,
}
# Numbers changed one by one between two turns given to the process's other work.
YIELD_EVERY = 20


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What one batch did: numbers processed, and whether the job is over (and how)."""

    processed: int
    finished: str | None = None


async def run_batch(
    conn: AsyncConnection,
    job_seq: int,
    owner: str,
    settings: Settings,
    *,
    after: str | None = None,
    lease: timedelta,
) -> tuple[BatchResult, str | None]:
    """One batch of a job the runner holds the lease of, in the caller's transaction: the
    job is locked, its next numbers are changed each by its single-number service, each
    outcome is recorded beside its change, and the counts are added. The job ends
    (``succeeded``, or ``failed`` when its routing target is gone) when nothing is left.
    Returns the result and the last number handled (where the next batch starts)."""
    job = await repository.lock_job(conn, job_seq)
    if job is None or job.status != "running" or job.lease_owner != owner:
        return BatchResult(processed=0, finished=job.status if job else "cancelled"), after
    if job.target_id is not None and not await numbers.routing_target_exists(
        conn, job.account_id, _destination(job)
    ):
        await _finish(conn, job, "failed")
        return BatchResult(processed=0, finished="failed"), after
    pending = await repository.pending_items(conn, job.seq, after, settings.job_batch_size)
    if not pending:
        if after is not None:  # the cursor may have skipped nothing: look from the start
            pending = await repository.pending_items(conn, job.seq, None, settings.job_batch_size)
        if not pending:
            await _finish(conn, job, "succeeded")
            return BatchResult(processed=0, finished="succeeded"), after
    outcomes = await _apply_batch(conn, job, pending, settings)
    await repository.record_outcomes(conn, job.seq, outcomes)
    counted = {outcome: 0 for outcome in ("changed", "unchanged", "failed")}
    for item in outcomes:
        counted[item.outcome] += 1
    await repository.advance_job(conn, job.seq, **counted, lease_until=utc_now() + lease)
    return BatchResult(processed=len(outcomes)), pending[-1]


async def _apply_batch(
    conn: AsyncConnection, job: JobRecord, e164s: list[str], settings: Settings
) -> list[ItemOutcome]:
    """Each number of a batch changed as its single-number endpoint would: the routing
    actions by their services' batch form (a few statements for the whole batch, the same
    rules), the others number by number."""
    if job.action in BATCHED:
        answers = await BATCHED[job.action](conn, job, e164s)
        return [_outcome(e164, answers[e164]) for e164 in e164s]
    outcomes = []
    for index, e164 in enumerate(e164s):
        outcomes.append(await _apply(conn, job, e164, settings))
        if index % YIELD_EVERY == YIELD_EVERY - 1:
            # On SQLite statements run on the event loop's thread: let the process's
            # requests have their turn now and then.
            await asyncio.sleep(0)
    return outcomes


def _outcome(e164: str, answer: bool | ApiError) -> ItemOutcome:
    if isinstance(answer, ApiError):
        return ItemOutcome(
            e164=e164, outcome="failed", error_code=answer.code, error_message=answer.message[:500]
        )
    return ItemOutcome(e164=e164, outcome="changed" if answer else "unchanged")


async def _apply(
    conn: AsyncConnection, job: JobRecord, e164: str, settings: Settings
) -> ItemOutcome:
    """One number changed by its single-number service; its refusal is its outcome. The
    services check everything before they write, so a refused number wrote nothing."""
    try:
        changed = await CHANGES[job.action](conn, job, e164, settings)
    except ApiError as error:
        return _outcome(e164, error)
    return _outcome(e164, changed)


async def claim_job(conn: AsyncConnection, owner: str, lease: timedelta) -> JobRecord | None:
    """Lease the oldest runnable job (see ``repository.claim_job``)."""
    now = utc_now()
    return await repository.claim_job(conn, now, owner, now + lease)


async def release_lease(conn: AsyncConnection, job_seq: int, owner: str) -> None:
    await repository.release_lease(conn, job_seq, owner)
