"""Rate limiting by GCRA (the generic cell rate algorithm), in process or shared through Redis.

GCRA is a token bucket kept as one number per key, the *theoretical arrival time* (TAT): the
moment the key would have caught up with its sustained rate. A request is allowed when, after
counting it, the key is at most ``burst`` requests ahead of that rate; refused requests cost
nothing, so a client that waits as told always gets through. One number per key makes the
shared version a single atomic Lua script in Redis.

Everything here is integer microseconds so that Python and Lua compute the same thing, and
each store only answers one question, the key's *debt*: how far ahead of its sustained rate the
key would be with this request counted. :func:`decide` turns a debt into a :class:`Decision`.

Nothing here knows HTTP or any feature; ``voxnumbers.web.ratelimit`` wires it to the API.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import structlog
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = structlog.get_logger("voxnumbers.ratelimit")

_MICROS = 1_000_000
Clock = Callable[[], int]
"""Current time in microseconds; only differences matter."""


def monotonic_micros() -> int:
    return time.monotonic_ns() // 1000


@dataclass(frozen=True, slots=True)
class Quota:
    """``per_minute`` requests a minute on average, ``burst`` of them at once."""

    per_minute: int
    burst: int

    def __post_init__(self) -> None:
        if self.per_minute < 1 or self.burst < 1:
            raise ValueError("a quota needs at least 1 request per minute and a burst of 1")

    @property
    def interval(self) -> int:
        """Microseconds between two requests at the sustained rate."""
        return max(1, round(60 * _MICROS / self.per_minute))

    @property
    def capacity(self) -> int:
        """The largest debt allowed: ``burst`` requests' worth of intervals."""
        return self.interval * self.burst


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one request.

    ``remaining``: requests the key may make right now after this one. ``reset_seconds``: time
    until that number grows again (during it the key can make no more than ``remaining``).
    ``retry_after_seconds``: for a refused request, when to retry (equal to ``reset_seconds``).
    """

    allowed: bool
    remaining: int
    reset_seconds: int
    retry_after_seconds: int = 0


def decide(quota: Quota, debt: int) -> Decision:
    """The decision for a request whose counting would leave the key ``debt`` microseconds
    ahead of its sustained rate."""
    if debt > quota.capacity:
        wait = _whole_seconds(debt - quota.capacity)
        return Decision(False, remaining=0, reset_seconds=wait, retry_after_seconds=wait)
    available = quota.capacity - debt
    until_more = quota.interval - available % quota.interval
    return Decision(True, available // quota.interval, _whole_seconds(until_more))


def _whole_seconds(micros: int) -> int:
    """Seconds rounded up, at least 1: never tell a client to retry before it may."""
    return max(1, math.ceil(micros / _MICROS))


class Store(Protocol):
    """Where the TATs live."""

    async def debt(self, key: str, quota: Quota) -> int:
        """Count a request for ``key`` if the quota allows it; the debt either way."""
        ...

    async def aclose(self) -> None:
        """Release connections, if any."""
        ...


class MemoryStore:
    """TATs in a dict: limits per process. Atomic because nothing awaits inside ``debt``."""

    _SWEEP_EVERY = 4096

    def __init__(self, clock: Clock = monotonic_micros) -> None:
        self._clock = clock
        self._tats: dict[str, int] = {}
        self._calls = 0

    async def debt(self, key: str, quota: Quota) -> int:
        now = self._clock()
        self._sweep(now)
        debt = max(self._tats.get(key, now), now) + quota.interval - now
        if debt <= quota.capacity:
            self._tats[key] = now + debt
        return debt

    async def aclose(self) -> None:
        return None

    def __len__(self) -> int:
        return len(self._tats)

    def _sweep(self, now: int) -> None:
        """Forget keys that have caught up with their rate (a fresh key is the same)."""
        self._calls += 1
        if self._calls % self._SWEEP_EVERY == 0:
            self._tats = {key: tat for key, tat in self._tats.items() if tat > now}


# The same arithmetic as MemoryStore.debt, in Redis's clock, in one atomic step. The key
# expires when the TAT is reached, so idle keys cost no memory.
_GCRA_LUA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local debt = tat + interval - now
if debt <= capacity then
  redis.call('SET', KEYS[1], string.format('%.0f', tat + interval),
             'PX', math.ceil(debt / 1000))
end
return debt
"""


class RedisStore:
    """TATs in Redis, shared by every instance using the same URL and prefix."""

    def __init__(self, url: str, prefix: str, *, timeout_seconds: float = 0.25) -> None:
        # No retries and short timeouts: a request never waits long on Redis; RateLimiter
        # falls back to its local store and tries again later.
        self._redis: Redis = Redis.from_url(
            url,
            socket_connect_timeout=timeout_seconds,
            socket_timeout=timeout_seconds,
            retry=Retry(NoBackoff(), 0),
        )
        self._script = self._redis.register_script(_GCRA_LUA)
        self._prefix = prefix

    def key_name(self, key: str) -> str:
        """The Redis key holding ``key``'s TAT."""
        return f"{self._prefix}ratelimit:{key}"

    async def debt(self, key: str, quota: Quota) -> int:
        result = await self._script(
            keys=[self.key_name(key)], args=[quota.interval, quota.capacity]
        )
        return int(result)

    async def aclose(self) -> None:
        await self._redis.aclose()


class RateLimiter:
    """Decisions for keys under one quota: from the shared store when there is one and it
    answers, from the local (per-process) store otherwise.

    Fails open: when Redis errs or is slow, requests are limited per process instead, never
    refused for it. Redis is then left alone for a short, growing pause (so a dead Redis costs
    one failed attempt per pause, not one per request) and tried again by the next request
    after it; a warning is logged when it goes away (then at most once a minute while it
    stays away, with the count of failures) and a note when it is back.
    """

    WARN_EVERY_SECONDS = 60.0
    FIRST_PAUSE_SECONDS = 0.5
    LONGEST_PAUSE_SECONDS = 5.0

    def __init__(
        self,
        quota: Quota,
        shared: Store | None = None,
        local: MemoryStore | None = None,
        clock: Clock = monotonic_micros,
    ) -> None:
        self.quota = quota
        self._shared = shared
        self._local = local or MemoryStore(clock)
        self._clock = clock
        self._shared_down = False
        self._pause = self.FIRST_PAUSE_SECONDS
        self._retry_shared_at = 0
        self._warned_at: int | None = None
        self._failures_unreported = 0

    @property
    def shared_is_down(self) -> bool:
        """Whether decisions currently come from the local store for want of Redis."""
        return self._shared_down

    async def check(self, key: str) -> Decision:
        """Count a request for ``key`` if its quota allows; the decision either way."""
        return decide(self.quota, await self._debt(key))

    async def aclose(self) -> None:
        if self._shared is not None:
            await self._shared.aclose()

    async def _debt(self, key: str) -> int:
        if self._shared is None or self._clock() < self._retry_shared_at:
            return await self._local.debt(key, self.quota)
        try:
            debt = await self._shared.debt(key, self.quota)
        except (RedisError, OSError) as exc:
            self._shared_failed(exc)
            return await self._local.debt(key, self.quota)
        if self._shared_down:
            self._shared_back()
        return debt

    def _shared_failed(self, exc: BaseException) -> None:
        now = self._clock()
        self._failures_unreported += 1
        if self._shared_down and now < self._retry_shared_at:
            return  # an attempt made before the last failure was noted: already counted
        if self._shared_down:
            self._pause = min(self._pause * 2, self.LONGEST_PAUSE_SECONDS)
        self._shared_down = True
        self._retry_shared_at = now + int(self._pause * _MICROS)
        if self._warned_at is None or now - self._warned_at >= self.WARN_EVERY_SECONDS * _MICROS:
            log.warning(
                "redis unreachable: rate limits are per process until it is back",
                error=type(exc).__name__,
                failures=self._failures_unreported,
            )
            self._warned_at = now
            self._failures_unreported = 0

    def _shared_back(self) -> None:
        log.info("redis reachable again: rate limits are shared")
        self._shared_down = False
        self._pause = self.FIRST_PAUSE_SECONDS
        self._warned_at = None
        self._failures_unreported = 0
