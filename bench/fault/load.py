"""A bounded write load, as careful clients make it: buyers of distinct numbers that retry.

Each writer buys its own numbers one after the other, each purchase under an
``Idempotency-Key`` of its own. A ``503``, a ``429``, a ``409`` about the key (the first
attempt is still running somewhere) or no answer at all (connection refused or reset: the
server is down) is retried with the *same* key, after a short pause, until the purchase is
acknowledged (``201``, replayed or not). Everything else is final and recorded: the audit
(``bench.fault.audit``) decides what was allowed.

When ``stop`` is set, writers start no new purchase; the one in flight is retried until it
is acknowledged or ``finish_within`` seconds have passed.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
import phonenumbers

from bench.fault.server import Tenant

RETRY_PAUSE = 0.1  # seconds; short, so recovery is measured to a tenth of a second
REQUEST_TIMEOUT = 60.0  # far above any bound asserted: a request that long is a hang


@dataclass(frozen=True)
class Attempt:
    """One HTTP request of a purchase."""

    status: int | None  # None: no HTTP answer (refused, reset, timed out)
    seconds: float
    at: float  # time.monotonic() when the answer (or the failure) came
    replayed: bool = False
    code: str = ""  # the error envelope's code, if any
    field: str = ""  # the first detail's field, if any


@dataclass
class Purchase:
    """One number one writer means to buy, and every attempt at it."""

    tenant: Tenant
    e164: str
    country: str
    key: str
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return any(attempt.status == 201 for attempt in self.attempts)

    @property
    def acknowledged_at(self) -> float | None:
        return next((a.at for a in self.attempts if a.status == 201), None)


@dataclass
class LoadResult:
    """What the writers sent and what they were answered."""

    purchases: list[Purchase]
    seconds: float

    @property
    def attempts(self) -> list[Attempt]:
        return [attempt for purchase in self.purchases for attempt in purchase.attempts]

    @property
    def sent(self) -> int:
        return len(self.attempts)

    @property
    def acknowledged(self) -> list[Purchase]:
        return [purchase for purchase in self.purchases if purchase.acknowledged]

    @property
    def unacknowledged(self) -> list[Purchase]:
        return [purchase for purchase in self.purchases if not purchase.acknowledged]

    @property
    def statuses(self) -> Counter[str]:
        return Counter(str(a.status) if a.status else "no answer" for a in self.attempts)

    @property
    def server_errors(self) -> list[Attempt]:
        """5xx answers other than ``503``: a bug whenever there is one."""
        return [a for a in self.attempts if a.status and a.status >= 500 and a.status != 503]

    @property
    def unexpected(self) -> list[Attempt]:
        """Answers a buyer of a number nobody else wants must never get."""
        return [a for a in self.attempts if a.status is not None and not _expected(a)]

    @property
    def replays(self) -> int:
        return sum(1 for a in self.attempts if a.replayed)

    @property
    def slowest_503(self) -> float:
        return max((a.seconds for a in self.attempts if a.status == 503), default=0.0)

    @property
    def slowest_answer(self) -> float:
        return max((a.seconds for a in self.attempts if a.status is not None), default=0.0)

    def first_acknowledged_after(self, moment: float) -> float | None:
        """Seconds from ``moment`` to the first purchase acknowledged after it."""
        times = [a.at for a in self.attempts if a.status == 201 and a.at >= moment]
        return min(times) - moment if times else None


def _expected(attempt: Attempt) -> bool:
    if attempt.status in (201, 503, 429):
        return True
    # The same key while its first request still runs (e.g. on a server killed mid-request
    # whose transaction PostgreSQL has not yet rolled back): retry later.
    return attempt.status == 409 and attempt.field == "Idempotency-Key"


def _retryable(attempt: Attempt) -> bool:
    return attempt.status is None or (attempt.status != 201 and _expected(attempt))


_PLANS = (("+1415555", "US"), ("+44207946", "GB"), ("+1212555", "US"))


def numbers_for_sale(count: int, *, start: int = 0) -> list[tuple[str, str]]:
    """Numbers ``start`` to ``start + count - 1`` of a fixed list of valid, distinct US and
    GB numbers, as (e164, country) pairs (distinct ranges never share a number)."""
    if start + count > 10_000 * len(_PLANS):
        raise ValueError(f"at most {10_000 * len(_PLANS):,} numbers")
    pairs = []
    for index in range(start, start + count):
        prefix, country = _PLANS[index % len(_PLANS)]
        e164 = f"{prefix}{index // len(_PLANS):04d}"
        assert phonenumbers.is_valid_number(phonenumbers.parse(e164)), e164
        pairs.append((e164, country))
    return pairs


async def buy(
    client: httpx.AsyncClient,
    purchase: Purchase,
    *,
    stop: asyncio.Event,
    finish_within: float,
) -> None:
    """Attempt ``purchase`` until it is acknowledged or answered finally; once ``stop`` is
    set, for at most ``finish_within`` more seconds."""
    body = {"e164": purchase.e164, "country": purchase.country}
    headers = {**purchase.tenant.headers, "Idempotency-Key": purchase.key}
    path = purchase.tenant.path("/numbers/purchase-from-inventory")
    deadline: float | None = None
    while True:
        started = time.monotonic()
        try:
            response = await client.post(path, json=body, headers=headers)
            attempt = _attempt_of(response, started)
        except httpx.TransportError:
            attempt = Attempt(None, time.monotonic() - started, time.monotonic())
        purchase.attempts.append(attempt)
        if not _retryable(attempt):
            return
        if stop.is_set() and deadline is None:
            deadline = time.monotonic() + finish_within
        if deadline is not None and time.monotonic() >= deadline:
            return
        await asyncio.sleep(RETRY_PAUSE)


def _attempt_of(response: httpx.Response, started: float) -> Attempt:
    now = time.monotonic()
    code = detail = ""
    if response.status_code >= 400:
        try:
            error = response.json()["error"]
            code = error.get("code", "")
            detail = (error.get("details") or [{}])[0].get("field", "")
        except (ValueError, KeyError, TypeError, IndexError):
            code = "NOT AN ENVELOPE"
    return Attempt(
        response.status_code,
        now - started,
        now,
        replayed=response.headers.get("idempotent-replayed") == "true",
        code=code,
        field=detail,
    )


class WriteLoad:
    """Writers buying numbers until ``stop``; ``result`` fills in as they go (so faults can
    be timed against it while the load runs)."""

    def __init__(
        self,
        base_urls: Sequence[str],
        plan: Sequence[tuple[Tenant, Sequence[tuple[str, str]]]],
        *,
        finish_within: float = 30.0,
        pace: float = 0.0,
    ) -> None:
        """One writer per item of ``plan`` (a tenant and the numbers it buys, in order),
        writer ``i`` talking to ``base_urls[i % len(base_urls)]``."""
        self.base_urls = list(base_urls)
        self.plan = plan
        self.finish_within = finish_within
        self.pace = pace
        self.stop = asyncio.Event()
        self.finished = asyncio.Event()
        self.result = LoadResult([], 0.0)
        self._run = uuid.uuid4().hex[:8]

    async def run(self) -> LoadResult:
        """Run every writer until ``stop`` is set (or its numbers are all bought)."""
        started = time.monotonic()
        try:
            await asyncio.gather(*(self._writer(i, *item) for i, item in enumerate(self.plan)))
        finally:
            self.result.seconds = time.monotonic() - started
            self.finished.set()
        return self.result

    async def _writer(self, index: int, tenant: Tenant, numbers: Sequence[tuple[str, str]]) -> None:
        base_url = self.base_urls[index % len(self.base_urls)]
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(
            base_url=base_url, timeout=REQUEST_TIMEOUT, limits=limits
        ) as client:
            for e164, country in numbers:
                if self.stop.is_set():
                    return
                purchase = Purchase(tenant, e164, country, key=f"fault-{self._run}-{e164}")
                self.result.purchases.append(purchase)
                await buy(client, purchase, stop=self.stop, finish_within=self.finish_within)
                if self.pace:
                    await asyncio.sleep(self.pace)
