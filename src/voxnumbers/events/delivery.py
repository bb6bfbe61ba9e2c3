"""The webhook delivery worker: sends queued deliveries, signed, retried with backoff.

Each pass (``run_once``) leases the due deliveries in one short write transaction, sends
them concurrently, and records each result in its own short transaction. Several workers
(the task inside every ``vox serve`` process, ``vox worker`` processes) can run at once:

- a lease (``locked_until``) makes a claim exclusive; PostgreSQL claims with
  ``FOR UPDATE SKIP LOCKED``, SQLite under its write lock. A worker that dies mid-send
  leaves a lease that runs out, and the delivery is sent again (at least once).
- a result is written only while the worker still holds the lease it claimed with, so a
  worker that outlived its lease cannot overwrite what another worker recorded.
- only the oldest pending delivery of each (endpoint, number) can be claimed, so the events
  of one number reach an endpoint in the order they happened.

A failed attempt is retried after an exponential backoff with full jitter; once the event is
older than the maximum age, a failed attempt marks the delivery ``failed`` for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import structlog

from voxnumbers.db.engine import Database
from voxnumbers.events import repository
from voxnumbers.events.schemas import Delivery
from voxnumbers.events.signing import signature_headers
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.jsonc import encode_json
from voxnumbers.settings import Settings

USER_AGENT = "voxnumbers-webhooks"

log = structlog.get_logger("voxnumbers.webhooks")


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How deliveries are sent and retried."""

    timeout_seconds: float = 10.0
    """Whole-request limit for one attempt (connect, send, answer)."""
    backoff_base_seconds: float = 2.0
    backoff_cap_seconds: float = 3600.0
    max_age: timedelta = timedelta(hours=24)
    """After a failed attempt on an event older than this, the delivery is ``failed``."""
    batch_size: int = 20
    """Deliveries leased, and sent concurrently, per pass."""
    lease: timedelta = field(default=timedelta(seconds=0))
    """How long a claim lasts; 0 means twice the timeout plus 30 s."""
    jitter: Callable[[], float] = random.random
    """Uniform in [0, 1): the random share of each backoff ceiling (fixed in tests)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            timeout_seconds=settings.webhook_timeout_seconds,
            max_age=timedelta(hours=settings.webhook_max_age_hours),
        )

    @property
    def lease_duration(self) -> timedelta:
        if self.lease > timedelta(0):
            return self.lease
        return timedelta(seconds=2 * self.timeout_seconds + 30)


def backoff_delay(
    attempts: int, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: "full jitter", uniform in
    ``[0, min(cap, base * 2 ** (attempts - 1)))``, so endpoints that fail together are not
    retried together."""
    ceiling = min(cap, base * 2.0 ** min(max(attempts - 1, 0), 62))
    return ceiling * rand()


async def run_once(
    database: Database,
    policy: DeliveryPolicy | None = None,
    *,
    client: httpx.AsyncClient | None = None,
    now: datetime | None = None,
) -> int:
    """One pass: lease the deliveries due at ``now`` (default: the clock), send them, record
    the results. Returns how many deliveries were attempted.

    ``now`` drives scheduling only (what is due, leases, backoff, maximum age), so tests can
    move time; signatures always carry the real clock, as receivers check it.
    """
    policy = policy or DeliveryPolicy()
    claim_time = now or utc_now()
    async with database.transaction(write=False) as conn:
        if not await repository.any_due(conn, claim_time):
            return 0
    async with database.transaction() as conn:
        claimed = await repository.claim_due(
            conn,
            claim_time,
            lease_until=claim_time + policy.lease_duration,
            limit=policy.batch_size,
        )
    if not claimed:
        return 0
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utc_now
    async with _http_client(client, policy) as http:
        results = await asyncio.gather(
            *(_deliver(database, http, delivery, policy, clock) for delivery in claimed),
            return_exceptions=True,
        )
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return len(claimed)


def new_http_client(policy: DeliveryPolicy) -> httpx.AsyncClient:
    """The client deliveries are sent with: no redirects followed, our User-Agent."""
    return httpx.AsyncClient(
        timeout=policy.timeout_seconds,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
    )


@contextlib.asynccontextmanager
async def _http_client(
    client: httpx.AsyncClient | None, policy: DeliveryPolicy
) -> AsyncIterator[httpx.AsyncClient]:
    if client is not None:
        yield client
        return
    async with new_http_client(policy) as own:
        yield own


async def _deliver(
    database: Database,
    http: httpx.AsyncClient,
    delivery: Delivery,
    policy: DeliveryPolicy,
    clock: Callable[[], datetime],
) -> None:
    body = encode_json(delivery.event)
    secrets = (delivery.secret, *([delivery.previous_secret] if delivery.previous_secret else []))
    error, status = await send_signed(http, delivery.url, body, secrets, policy.timeout_seconds)
    at = clock()
    async with database.transaction() as conn:
        if error is None:
            recorded = await repository.mark_delivered(
                conn, delivery, at=at, response_status=status
            )
        else:
            deadline = delivery.event.created_at + policy.max_age
            delay = backoff_delay(
                delivery.attempts + 1,
                policy.backoff_base_seconds,
                policy.backoff_cap_seconds,
                policy.jitter,
            )
            recorded = await repository.mark_attempt_failed(
                conn,
                delivery,
                error=error,
                next_attempt_at=min(at + timedelta(seconds=delay), deadline),
                give_up=at >= deadline,
                response_status=status,
            )
    report = log.info if error is None else log.warning
    report(
        "webhook delivered" if error is None else "webhook attempt failed",
        delivery=delivery.seq,
        endpoint=delivery.endpoint_id,
        event_id=delivery.event.id,
        attempt=delivery.attempts + 1,
        error=error,
        recorded=recorded,
    )


async def send_signed(
    http: httpx.AsyncClient, url: str, body: bytes, secrets: Sequence[str], limit_seconds: float
) -> tuple[str | None, int | None]:
    """POST ``body`` signed with each of ``secrets`` (current first). Returns what went
    wrong (``None`` on a 2xx answer; never a secret nor the answer's body) and the
    answer's status (``None`` when none came)."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signature_headers(body, secrets[0], int(time.time()), *secrets[1:]),
    }
    try:
        async with asyncio.timeout(limit_seconds):
            # Streamed and never read: a receiver's answer body is not our business.
            async with http.stream("POST", url, content=body, headers=headers) as answer:
                status = answer.status_code
    except TimeoutError:
        return "Timeout", None
    except Exception as exc:  # whatever the receiver does, it is a failed attempt, not a crash
        return type(exc).__name__, None
    return (None if 200 <= status < 300 else f"HTTP {status}"), status


class DeliveryWorker:
    """``run_once`` in a loop until stopped: immediately again after a pass that sent
    something, after ``poll_seconds`` otherwise. Errors (the database away, say) are logged
    and the loop goes on."""

    def __init__(self, database: Database, policy: DeliveryPolicy, poll_seconds: float) -> None:
        self.database = database
        self.policy = policy
        self.poll_seconds = poll_seconds
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, database: Database, settings: Settings) -> DeliveryWorker:
        return cls(database, DeliveryPolicy.from_settings(settings), settings.worker_poll_seconds)

    def start(self) -> None:
        """Run the loop as a task of the running event loop."""
        self._task = asyncio.create_task(self._run(), name="webhook-delivery")

    def request_stop(self) -> None:
        """Ask the loop to end after the current pass (safe from a signal handler)."""
        self._stopping.set()

    async def wait(self) -> None:
        """Until the loop has ended."""
        if self._task is not None:
            await self._task

    async def stop(self) -> None:
        """End the loop: the current pass may finish (its sends are bounded by the timeout);
        past that it is cancelled, and its leased deliveries are sent again later."""
        self.request_stop()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), self.policy.timeout_seconds + 5)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        async with new_http_client(self.policy) as http:
            while not self._stopping.is_set():
                try:
                    attempted = await run_once(self.database, self.policy, client=http)
                except Exception:
                    log.warning("webhook delivery pass failed; retrying", exc_info=True)
                    attempted = 0
                if attempted == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), self.poll_seconds)
