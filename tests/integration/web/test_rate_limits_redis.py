"""Rate limits shared through Redis: atomic across clients and app instances, expiring when
idle, and surviving Redis going away and coming back (fail open, reconnect by itself).

Needs a Redis: ``VOX_TEST_REDIS_URL`` (``CI=true`` defaults it to redis://127.0.0.1:6379/0
and then requires it). Each test writes only under its own key prefix and deletes its keys.
The machine's Redis is never stopped: outages are made by cutting a TCP relay in front of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis

from tests.api.support import running
from tests.factories import Tenant, make_tenant
from voxnumbers.app import create_app
from voxnumbers.kit.ratelimit import Quota, RedisStore, decide
from voxnumbers.settings import Settings

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REDIS_URL = os.environ.get("VOX_TEST_REDIS_URL") or ("redis://127.0.0.1:6379/0" if IN_CI else "")

pytestmark = pytest.mark.skipif(
    not REDIS_URL,
    reason="Redis rate-limit tests SKIPPED: set VOX_TEST_REDIS_URL=redis://host:6379/0 "
    "(or CI=true, which uses redis://127.0.0.1:6379/0) to run them",
)


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """A client on the test Redis, which must answer (in CI it is required, never skipped)."""
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        pytest.fail(f"Redis at {REDIS_URL.rsplit('@', 1)[-1]} is not reachable: {exc}")
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(redis: Redis) -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    mine = f"voxtest:{uuid.uuid4().hex}:"
    yield mine
    keys = [key async for key in redis.scan_iter(match=f"{mine}*")]
    if keys:
        await redis.delete(*keys)


def shared_settings(prefix: str, url: str = REDIS_URL, **changes) -> Settings:
    # A generous timeout: these tests are about sharing, not about a slow Redis.
    values = {
        "log_level": "warning",
        "rate_limit_per_minute": 1,
        "rate_limit_burst": 4,
        "redis_timeout_seconds": 5.0,
    }
    return Settings(redis_url=url, redis_key_prefix=prefix, **(values | changes))


def numbers(client: httpx.AsyncClient, tenant: Tenant) -> object:
    return client.get(tenant.path("/numbers"), headers=tenant.bearer)


# --- the store ------------------------------------------------------------------------------


async def test_redis_decides_like_the_in_process_store(redis, prefix):
    store = RedisStore(REDIS_URL, prefix)
    quota = Quota(per_minute=1, burst=3)
    try:
        answers = [decide(quota, await store.debt("key_a", quota)) for _ in range(5)]
    finally:
        await store.aclose()
    assert [d.allowed for d in answers] == [True, True, True, False, False]
    assert [d.remaining for d in answers] == [2, 1, 0, 0, 0]
    assert 55 <= answers[-1].retry_after_seconds <= 60
    assert await redis.exists(f"{prefix}ratelimit:key_a")


async def test_an_idle_key_expires_from_redis(redis, prefix):
    store = RedisStore(REDIS_URL, prefix)
    quota = Quota(per_minute=600, burst=5)  # a request every 100 ms
    try:
        await store.debt("key_a", quota)
        ttl = await redis.pttl(f"{prefix}ratelimit:key_a")
        assert 0 < ttl <= 100
        await asyncio.sleep(0.25)
        assert not await redis.exists(f"{prefix}ratelimit:key_a")
    finally:
        await store.aclose()


async def test_concurrent_requests_through_separate_clients_never_exceed_the_burst(prefix):
    """The check-and-count is one atomic script: 60 requests at once, from three clients,
    get exactly the burst through."""
    stores = [RedisStore(REDIS_URL, prefix) for _ in range(3)]
    quota = Quota(per_minute=1, burst=10)
    try:
        debts = await asyncio.gather(*(stores[n % 3].debt("key_a", quota) for n in range(60)))
    finally:
        for store in stores:
            await store.aclose()
    assert sum(decide(quota, debt).allowed for debt in debts) == 10


# --- instances ------------------------------------------------------------------------------


async def test_two_instances_share_one_limit(database, prefix):
    tenant = await make_tenant(database)
    settings = shared_settings(prefix)
    async with (
        running(create_app(settings, database)) as one,
        running(create_app(settings, database)) as two,
    ):
        answers = [await numbers(one if n % 2 else two, tenant) for n in range(6)]
    assert [r.status_code for r in answers] == [200, 200, 200, 200, 429, 429]
    assert [r.headers["ratelimit"].split(";")[1] for r in answers] == [
        "r=3",
        "r=2",
        "r=1",
        "r=0",
        "r=0",
        "r=0",
    ]


async def test_instances_on_other_prefixes_do_not_share(database, prefix):
    tenant = await make_tenant(database)
    async with (
        running(create_app(shared_settings(prefix + "a:"), database)) as one,
        running(create_app(shared_settings(prefix + "b:"), database)) as two,
    ):
        assert [(await numbers(one, tenant)).status_code for _ in range(5)] == [200] * 4 + [429]
        assert (await numbers(two, tenant)).status_code == 200


# --- Redis going away and coming back -------------------------------------------------------


class Relay:
    """A TCP relay to the test Redis that can be cut and restored on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Stop accepting and drop every live connection, as a dead Redis would."""
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        self._writers |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


def redis_host_port() -> tuple[str, int]:
    address = REDIS_URL.split("://", 1)[1].rsplit("@", 1)[-1].split("/", 1)[0]
    host, _, port = address.partition(":")
    return host or "127.0.0.1", int(port or 6379)


async def test_redis_going_away_fails_open_and_coming_back_is_noticed(
    database, redis, prefix, capfd
):
    tenant = await make_tenant(database)
    relay = Relay(*redis_host_port())
    await relay.start()
    db_number = REDIS_URL.rsplit("/", 1)[-1] if REDIS_URL.count("/") > 2 else "0"
    settings = shared_settings(
        prefix,
        url=f"redis://127.0.0.1:{relay.port}/{db_number}",
        rate_limit_per_minute=1,  # each request adds a minute to the key's life in Redis
        rate_limit_burst=200,
        log_level="info",
    )
    tat_key = f"{prefix}ratelimit:{tenant.key_id}"
    async with running(create_app(settings, database)) as client:
        assert (await numbers(client, tenant)).status_code == 200
        counted_while_up = await redis.get(tat_key)
        assert counted_while_up is not None

        await relay.cut()
        during = [await numbers(client, tenant) for _ in range(20)]
        assert {r.status_code for r in during} == {200}  # fail open
        assert all("ratelimit" in r.headers for r in during)  # limited per process
        assert await redis.get(tat_key) == counted_while_up  # nothing reached Redis

        await relay.start()
        for _ in range(100):  # the limiter retries Redis by itself within a few seconds
            await asyncio.sleep(0.1)
            assert (await numbers(client, tenant)).status_code == 200
            if await redis.get(tat_key) != counted_while_up:
                break
        assert await redis.get(tat_key) != counted_while_up, "never reconnected"
    await relay.cut()
    logged = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line[:1] == "{"]
    events = [entry["event"] for entry in logged if "redis" in entry["event"]]
    assert events == [
        "redis unreachable: rate limits are per process until it is back",
        "redis reachable again: rate limits are shared",
    ]
