"""GCRA rate limiting: the arithmetic, the in-process store, and failing open when the shared
store is unreachable (no Redis needed here; the Redis store is in tests/integration)."""

from __future__ import annotations

import warnings

import pytest
import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from structlog.testing import capture_logs

from voxnumbers.kit.ratelimit import (
    Decision,
    MemoryStore,
    Quota,
    RateLimiter,
    RedisStore,
    decide,
)

SECOND = 1_000_000


class FakeClock:
    """Microseconds that move only when told."""

    def __init__(self) -> None:
        self.now = 1_000 * SECOND

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += round(seconds * SECOND)


class FlakyStore:
    """A shared store that fails while ``down`` and otherwise counts like a MemoryStore."""

    def __init__(self, clock: FakeClock) -> None:
        self.down = True
        self.attempts = 0
        self._inner = MemoryStore(clock)

    async def debt(self, key: str, quota: Quota) -> int:
        self.attempts += 1
        if self.down:
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")
        return await self._inner.debt(key, quota)

    async def aclose(self) -> None:
        return None


@pytest.fixture(autouse=True)
def quiet_logs():
    """Structlog as it is by default, captured: an app made by an earlier test may have
    configured a level filter and a stderr that pytest has since closed."""
    before = structlog.get_config()
    structlog.reset_defaults()
    with capture_logs():
        yield
    structlog.configure(**before)


async def decisions(store: MemoryStore, key: str, quota: Quota, n: int) -> list[Decision]:
    return [decide(quota, await store.debt(key, quota)) for _ in range(n)]


# --- the arithmetic -------------------------------------------------------------------------


def test_a_quota_is_an_interval_and_a_capacity():
    quota = Quota(per_minute=600, burst=100)
    assert quota.interval == SECOND // 10
    assert quota.capacity == 10 * SECOND


@pytest.mark.parametrize(("per_minute", "burst"), [(0, 10), (-1, 10), (60, 0)])
def test_a_quota_that_allows_nothing_is_refused(per_minute, burst):
    with pytest.raises(ValueError):
        Quota(per_minute=per_minute, burst=burst)


def test_a_fresh_key_has_its_burst_less_this_request():
    quota = Quota(per_minute=60, burst=5)
    assert decide(quota, quota.interval) == Decision(True, remaining=4, reset_seconds=1)


def test_over_capacity_is_refused_with_the_wait_rounded_up():
    quota = Quota(per_minute=60, burst=5)
    refused = decide(quota, quota.capacity + SECOND // 4)
    assert refused == Decision(False, remaining=0, reset_seconds=1, retry_after_seconds=1)
    refused = decide(quota, quota.capacity + 2 * SECOND + 1)
    assert (refused.retry_after_seconds, refused.reset_seconds) == (3, 3)


def test_reset_is_the_time_until_one_more_request_is_available():
    quota = Quota(per_minute=6, burst=3)  # one request every 10 s
    # 2.5 intervals of debt: 0.5 interval available now (0 requests), 1 more in 5 s.
    assert decide(quota, 25 * SECOND) == Decision(True, remaining=0, reset_seconds=5)


# --- the in-process store -------------------------------------------------------------------


async def test_a_burst_is_allowed_then_the_next_is_refused_until_its_time():
    clock = FakeClock()
    store, quota = MemoryStore(clock), Quota(per_minute=60, burst=3)
    answers = await decisions(store, "key_a", quota, 4)
    assert [d.allowed for d in answers] == [True, True, True, False]
    assert [d.remaining for d in answers] == [2, 1, 0, 0]
    assert answers[-1].retry_after_seconds == 1
    clock.advance(0.999)
    assert not decide(quota, await store.debt("key_a", quota)).allowed
    clock.advance(0.001)
    assert decide(quota, await store.debt("key_a", quota)).allowed


async def test_refused_requests_cost_nothing():
    """A client hammering while refused is not pushed further back."""
    clock = FakeClock()
    store, quota = MemoryStore(clock), Quota(per_minute=60, burst=1)
    await decisions(store, "key_a", quota, 1)
    refused = await decisions(store, "key_a", quota, 50)
    assert not any(d.allowed for d in refused)
    clock.advance(1)
    assert decide(quota, await store.debt("key_a", quota)).allowed


async def test_the_sustained_rate_is_the_quota_per_minute():
    clock = FakeClock()
    store, quota = MemoryStore(clock), Quota(per_minute=120, burst=10)
    allowed = 0
    for _ in range(60 * 20 + 1):  # a request every 50 ms for a minute, both ends included
        allowed += decide(quota, await store.debt("key_a", quota)).allowed
        clock.advance(0.05)
    assert allowed == 120 + 10  # the rate, plus the burst the idle key started with


async def test_keys_are_limited_independently():
    clock = FakeClock()
    store, quota = MemoryStore(clock), Quota(per_minute=60, burst=2)
    assert [d.allowed for d in await decisions(store, "key_a", quota, 3)] == [True, True, False]
    assert [d.allowed for d in await decisions(store, "key_b", quota, 2)] == [True, True]


async def test_keys_that_caught_up_are_forgotten():
    clock = FakeClock()
    store, quota = MemoryStore(clock), Quota(per_minute=60, burst=2)
    for n in range(100):
        await store.debt(f"key_{n}", quota)
    assert len(store) == 100
    clock.advance(2)
    for _ in range(MemoryStore._SWEEP_EVERY):
        await store.debt("key_busy", quota)
    assert len(store) == 1


# --- failing open ---------------------------------------------------------------------------


async def test_an_unreachable_shared_store_falls_back_to_per_process_limits():
    clock = FakeClock()
    shared = FlakyStore(clock)
    limiter = RateLimiter(Quota(per_minute=60, burst=3), shared, clock=clock)
    answers = [await limiter.check("key_a") for _ in range(5)]
    # Served, and still limited, from the local store.
    assert [d.allowed for d in answers] == [True, True, True, False, False]
    assert limiter.shared_is_down
    # One attempt, then Redis is left alone for a pause instead of failing every request.
    assert shared.attempts == 1


async def test_the_shared_store_is_tried_again_after_a_growing_pause_and_used_when_back():
    clock = FakeClock()
    shared = FlakyStore(clock)
    limiter = RateLimiter(Quota(per_minute=600, burst=100), shared, clock=clock)
    await limiter.check("key_a")
    clock.advance(RateLimiter.FIRST_PAUSE_SECONDS)
    await limiter.check("key_a")
    assert shared.attempts == 2
    clock.advance(RateLimiter.FIRST_PAUSE_SECONDS)  # the pause has doubled: not yet
    await limiter.check("key_a")
    assert shared.attempts == 2
    clock.advance(RateLimiter.FIRST_PAUSE_SECONDS)
    shared.down = False
    await limiter.check("key_a")
    assert shared.attempts == 3
    assert not limiter.shared_is_down
    await limiter.check("key_a")
    assert shared.attempts == 4  # every request goes to the shared store again


async def test_the_pause_never_grows_past_its_ceiling():
    clock = FakeClock()
    shared = FlakyStore(clock)
    limiter = RateLimiter(Quota(per_minute=600, burst=100), shared, clock=clock)
    for _ in range(20):
        await limiter.check("key_a")
        clock.advance(RateLimiter.LONGEST_PAUSE_SECONDS)
    assert shared.attempts == 20


async def test_an_outage_is_logged_once_a_minute_not_once_a_request():
    clock = FakeClock()
    shared = FlakyStore(clock)
    limiter = RateLimiter(Quota(per_minute=6000, burst=1000), shared, clock=clock)
    with capture_logs() as logs:
        for _ in range(600):  # two minutes of requests, one every 200 ms, Redis down throughout
            await limiter.check("key_a")
            clock.advance(0.2)
    warnings = [entry for entry in logs if entry["log_level"] == "warning"]
    assert [w["event"] for w in warnings] == [
        "redis unreachable: rate limits are per process until it is back"
    ] * 2
    # The error's type, never its text (a URL in it may hold a password).
    assert warnings[0]["error"] == "ConnectionError"
    assert "127.0.0.1" not in repr(logs)
    # The second warning counts the failures since the first (about one per 5 s pause).
    assert 10 <= warnings[1]["failures"] < shared.attempts
    shared.down = False
    clock.advance(RateLimiter.LONGEST_PAUSE_SECONDS)
    with capture_logs() as logs:
        await limiter.check("key_a")
        await limiter.check("key_a")
    assert [entry["event"] for entry in logs] == ["redis reachable again: rate limits are shared"]


async def test_the_redis_store_is_made_without_a_warning() -> None:
    """Its client retries with the asyncio ``Retry`` (a synchronous one makes redis warn on
    every start). Nothing connects until the first decision, so no Redis is needed here."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store = RedisStore("redis://127.0.0.1:9/0", "vox:")
        await store.aclose()
