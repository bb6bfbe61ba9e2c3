"""Two ``vox serve`` processes on two ports, one PostgreSQL and one Redis, as behind a load
balancer: buyers racing for the same numbers through both get exactly one winner per number,
and one API key has one rate-limit budget whichever process it talks to.

Needs a Redis: ``VOX_TEST_REDIS_URL`` (``CI=true`` defaults it to redis://127.0.0.1:6379/0
and then requires it). Each test writes only under a key prefix of its own and deletes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import asyncpg
import httpx
import pytest
import redis
from bench.fault.scenario import Deployment
from bench.fault.server import ServerProcess

from tests.api.support import assert_error
from tests.conftest import IN_CI
from tests.faults.support import ownership

REDIS_URL = os.environ.get("VOX_TEST_REDIS_URL") or ("redis://127.0.0.1:6379/0" if IN_CI else "")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.skipif(
        not REDIS_URL,
        reason="set VOX_TEST_REDIS_URL=redis://host:6379/0 (or CI=true) to run these",
    ),
]

PURCHASE = "/numbers/purchase-from-inventory"


@contextlib.contextmanager
def two_servers(deployment: Deployment, **settings: object) -> Iterator[list[ServerProcess]]:
    """Two server processes on the deployment's database sharing a Redis under a prefix of
    their own (deleted afterwards), started side by side."""
    prefix = f"voxtest:{uuid.uuid4().hex}:"
    shared = {"redis_url": REDIS_URL, "redis_key_prefix": prefix, "redis_timeout_seconds": 5}
    servers = [deployment.server(**shared, **settings) for _ in range(2)]
    store = redis.Redis.from_url(REDIS_URL)
    try:
        store.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {REDIS_URL.rsplit('@', 1)[-1]} is not reachable: {exc}")
    try:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(ServerProcess.start, servers))
        yield servers
    finally:
        for server in servers:
            server.kill()
        keys = list(store.scan_iter(match=f"{prefix}*"))
        if keys:
            store.delete(*keys)
        store.close()


async def test_fifty_buyers_on_two_processes_get_one_winner_per_number(
    deployment: Deployment,
) -> None:
    numbers = deployment.stock(10)
    tenants = deployment.tenants
    with two_servers(deployment, rate_limit_per_minute=6000, rate_limit_burst=1000) as servers:
        clients = [httpx.AsyncClient(base_url=s.base_url, timeout=60) for s in servers]
        try:

            async def buy(buyer: int) -> tuple[str, str, httpx.Response]:
                e164, country = numbers[buyer % 10]
                tenant = tenants[buyer // 2 % 2]
                response = await clients[buyer % 2].post(
                    tenant.path(PURCHASE),
                    json={"e164": e164, "country": country},
                    headers=tenant.headers,
                )
                return e164, tenant.account_id, response

            answers = await asyncio.gather(*(buy(buyer) for buyer in range(50)))
        finally:
            for client in clients:
                await client.aclose()

    by_number: dict[str, list[int]] = defaultdict(list)
    winners: dict[str, str] = {}
    for e164, account_id, response in answers:
        by_number[e164].append(response.status_code)
        if response.status_code == 201:
            winners[e164] = account_id
        else:
            assert_error(response, 409)
    assert {e164: sorted(codes) for e164, codes in by_number.items()} == {
        e164: [201, 409, 409, 409, 409] for e164, _ in numbers
    }
    for e164, _ in numbers:
        owners, for_sale, events = await ownership(deployment.cluster.dsn, e164)
        assert (owners, for_sale, events) == ([winners[e164]], 0, 1)


def test_one_key_has_one_rate_limit_budget_across_both_processes(
    deployment: Deployment,
) -> None:
    per_minute, burst = 30, 5  # one request back every 2 s
    tenant = deployment.tenants[1]
    with two_servers(deployment, rate_limit_per_minute=per_minute, rate_limit_burst=burst) as (
        one,
        two,
    ):
        started = time.monotonic()
        answers = []
        for n in range(2 * burst + 2):  # alternating, as a round-robin balancer sends them
            server = one if n % 2 == 0 else two
            answers.append(
                (
                    server,
                    httpx.get(
                        f"{server.base_url}{tenant.path('/numbers')}",
                        headers=tenant.headers,
                        timeout=60,
                    ),
                )
            )
        seconds = time.monotonic() - started

    allowed = [r for _, r in answers if r.status_code == 200]
    refused = [(s, r) for s, r in answers if r.status_code == 429]
    assert len(allowed) + len(refused) == len(answers), [r.status_code for _, r in answers]
    # One budget: the burst plus what refilled meanwhile, far below the two budgets' sum.
    refilled = math.ceil(seconds * per_minute / 60)
    assert burst <= len(allowed) <= burst + refilled, (len(allowed), seconds)
    assert len(allowed) < 2 * burst
    assert {server.port for server, _ in refused} == {one.port, two.port}
    for _, response in refused:
        assert_error(response, 429)
        assert response.headers["retry-after"].isdigit()
    # The second process's first answer already counts the first process's request.
    remaining = [int(r.headers["ratelimit"].split("r=")[1].split(";")[0]) for _, r in answers]
    assert remaining[:2] == [burst - 1, burst - 2], remaining


async def test_thirty_two_purchasers_in_one_account_on_two_processes_all_succeed(
    deployment: Deployment,
) -> None:
    """One account's concurrent writers do not queue on one row: every purchase of distinct
    numbers succeeds (no 500, no 503 while the database is up), and the account's listed
    total equals a count of its rows."""
    buyers = 32
    numbers = deployment.stock(buyers)
    tenant = deployment.tenants[0]
    settings = {"rate_limit_per_minute": 60000, "rate_limit_burst": 10000, "db_pool_size": 4}
    with two_servers(deployment, **settings) as servers:
        clients = [httpx.AsyncClient(base_url=s.base_url, timeout=60) for s in servers]
        try:
            before = (await clients[0].get(tenant.path("/numbers"), headers=tenant.headers)).json()

            async def buy(buyer: int) -> httpx.Response:
                e164, country = numbers[buyer]
                return await clients[buyer % 2].post(
                    tenant.path(PURCHASE),
                    json={"e164": e164, "country": country},
                    headers=tenant.headers,
                )

            answers = await asyncio.gather(*(buy(buyer) for buyer in range(buyers)))
            after = (await clients[1].get(tenant.path("/numbers"), headers=tenant.headers)).json()
        finally:
            for client in clients:
                await client.aclose()

    assert [a.status_code for a in answers] == [201] * buyers, [a.text for a in answers]
    assert after["pagination"]["total"] == before["pagination"]["total"] + buyers
    connection = await asyncpg.connect(deployment.cluster.dsn)
    try:
        scanned = await connection.fetchval(
            "SELECT count(*) FROM numbers WHERE account_id = $1 AND status <> 'released'",
            tenant.account_id,
        )
        kept = await connection.fetchval(
            "SELECT sum(total) FROM number_totals WHERE account_id = $1 AND status <> 'released'",
            tenant.account_id,
        )
        slots = await connection.fetchval(
            "SELECT count(DISTINCT slot) FROM number_totals WHERE account_id = $1",
            tenant.account_id,
        )
    finally:
        await connection.close()
    assert kept == scanned == after["pagination"]["total"]
    assert slots > 1  # the writers' counts were spread, not queued on one row
