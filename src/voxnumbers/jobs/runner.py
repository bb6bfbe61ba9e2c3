"""The bulk job runner: a background task of every server process (and of tests).

Each of its ``job_concurrency`` slots claims the oldest runnable job with a lease (one job
of an account at a time, in creation order; jobs of other accounts in parallel), then works
through it one committed batch at a time (``service.run_batch``), extending the lease with
each. A process killed mid-job loses only the batch in hand, which rolled back with its
outcomes: when the lease runs out, any instance claims the job and carries on with the
numbers that have no outcome yet, so none is changed twice.

A job gives way to requests: after a batch during which requests kept the process busy
(``BUSY_SHARE_TO_REST``), the slot rests so that batches take at most
``job_share_when_busy`` of its time (``rest_after``); beside no more than a status poll now
and then, a job never rests.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta

import structlog

from voxnumbers.db.engine import Database
from voxnumbers.jobs import service
from voxnumbers.jobs.schemas import JobRecord
from voxnumbers.kit.activity import RequestActivity
from voxnumbers.kit.actors import SYSTEM, Actor, acting_as
from voxnumbers.kit.ids import new_id
from voxnumbers.settings import Settings

log = structlog.get_logger("voxnumbers.jobs")
# Longest wait for the batches in hand when the runner stops; past it they are cancelled
# (rolled back) and resumed later.
STOP_TIMEOUT_SECONDS = 10.0


async def run_pending(database: Database, settings: Settings) -> int:
    """Run every runnable job to its end, one after another, in this task; returns how many
    were run. For commands and tests; servers run ``JobRunner``."""
    runner = JobRunner(database, settings)
    count = 0
    while (job := await runner.claim()) is not None:
        await runner.run(job)
        count += 1
    return count


# A batch during which requests were in flight at least this share of the time (summed
# over them) rests; a status poll now and then does not make a job rest.
BUSY_SHARE_TO_REST = 0.5


def rest_after(batch_seconds: float, share: float, *, busy_seconds: float) -> float:
    """Seconds to rest after a batch that took ``batch_seconds``, while requests took
    ``busy_seconds`` of the process's time (summed over them): when they kept it busy at
    least ``BUSY_SHARE_TO_REST`` of the batch's time, enough for the batch to be ``share``
    of the time; otherwise none."""
    if share >= 1 or batch_seconds <= 0 or busy_seconds < batch_seconds * BUSY_SHARE_TO_REST:
        return 0.0
    return batch_seconds * (1 - share) / share


class JobRunner:
    """Claims and runs bulk jobs until stopped; ``activity``, the process's time spent on
    requests, makes its batches give way to them (without it they never rest)."""

    def __init__(
        self, database: Database, settings: Settings, activity: RequestActivity | None = None
    ) -> None:
        self.database = database
        self.settings = settings
        self.activity = activity
        self.rested_seconds = 0.0
        self.owner = new_id("run")
        self.lease = timedelta(seconds=settings.job_lease_seconds)
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Run the slots as tasks of the running event loop."""
        self._tasks = [
            asyncio.create_task(self._slot(), name=f"bulk-jobs-{index}")
            for index in range(self.settings.job_concurrency)
        ]

    def wake(self) -> None:
        """Look for a job now rather than at the next poll (a job was just created)."""
        self._wake.set()

    async def stop(self) -> None:
        """End the slots after their current batch; the jobs they held are given back."""
        self._stopping.set()
        self._wake.set()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT_SECONDS)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _slot(self) -> None:
        while not self._stopping.is_set():
            try:
                job = await self.claim()
            except Exception:
                log.warning("claiming a bulk job failed; retrying", exc_info=True)
                job = None
            if job is not None:
                await self.run(job)
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.job_poll_seconds)

    async def claim(self) -> JobRecord | None:
        """Lease the oldest runnable job, if there is one."""
        return await self.database.run(lambda conn: service.claim_job(conn, self.owner, self.lease))

    async def run(self, job: JobRecord) -> None:
        """Batches of the job until it ends, the runner stops, or the database fails."""
        after: str | None = None
        log.info("bulk job started", job=job.id, account=job.account_id, action=job.action)
        try:
            while not self._stopping.is_set():
                started, busy = time.monotonic(), self._busy_seconds()
                # The job's changes are audited as made by the key that created it.
                with acting_as(Actor("key", job.created_by) if job.created_by else SYSTEM):
                    result, after = await self.database.run(
                        lambda conn, after=after: service.run_batch(  # type: ignore[misc]
                            conn, job.seq, self.owner, self.settings, after=after, lease=self.lease
                        ),
                        background=True,
                    )
                if result.finished is not None:
                    log.info("bulk job ended", job=job.id, status=result.finished)
                    return
                await self._rest(
                    rest_after(
                        time.monotonic() - started,
                        self.settings.job_share_when_busy,
                        busy_seconds=self._busy_seconds() - busy,
                    )
                )
        except Exception:
            log.warning("bulk job batch failed; it will be resumed", job=job.id, exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.settings.job_poll_seconds)
        # Stopping (or failed): give the job back, so that any runner resumes it at once
        # rather than when the lease runs out.
        with contextlib.suppress(Exception):
            await self.database.run(lambda conn: service.release_lease(conn, job.seq, self.owner))

    def _busy_seconds(self) -> float:
        return self.activity.busy_seconds if self.activity is not None else 0.0

    async def _rest(self, seconds: float) -> None:
        """Wait ``seconds``, or less if the runner is stopped meanwhile."""
        if seconds <= 0:
            return
        self.rested_seconds += seconds
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
