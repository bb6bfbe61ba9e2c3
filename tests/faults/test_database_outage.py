"""PostgreSQL stopped under the service (``pg_ctl stop -m immediate``, a crash as far as
clients can tell, and ``-m fast``), a pool with no free connection, and writes under load
while the database goes away and comes back.

Every request answers ``503 SERVICE_UNAVAILABLE`` with ``Retry-After`` within a bound (never
a 500, never a hang); ``/readyz`` says 503 and ``/healthz`` 200; once PostgreSQL is back the
same server process serves writes again by itself; and nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable

import asyncpg
import httpx
import pytest
from bench.fault.relay import Relay
from bench.fault.scenario import Deployment, run_scenario
from bench.fault.server import ServerProcess, Tenant

from tests.api.support import assert_error
from tests.faults.support import (
    ANSWER_BOUND,
    POOL_TIMEOUT,
    RECOVERY_BOUND,
    api,
    assert_nothing_acknowledged_was_lost,
    ownership,
    serving,
    timed,
    wait_until_blocked,
)

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.postgres]

PURCHASE = "/numbers/purchase-from-inventory"


def assert_unavailable(response: httpx.Response, seconds: float) -> None:
    assert_error(response, 503)
    assert response.headers["retry-after"].isdigit(), response.headers
    assert seconds <= ANSWER_BOUND, f"answered after {seconds:.2f} s"


@pytest.mark.parametrize("mode", ["immediate", "fast"])
def test_a_stopped_database_is_503_at_once_and_the_server_heals_by_itself(
    deployment: Deployment, server: ServerProcess, tenant: Tenant, mode: str
) -> None:
    [(e164, country)] = deployment.stock(1)
    purchase = {"e164": e164, "country": country}
    key = {"Idempotency-Key": f"outage-{mode}-{e164}"}
    pid = server.pid
    with api(server, tenant) as client:
        assert client.get("/numbers").status_code == 200  # pooled connections to be broken

        deployment.cluster.stop(mode)  # type: ignore[arg-type]
        try:
            for _ in range(2):  # a pooled connection that died, then a refused reconnect
                assert_unavailable(*timed(client.get, "/numbers"))
                assert_unavailable(*timed(client.get, "/inventory/numbers"))
                assert_unavailable(*timed(client.get, "/events"))
                assert_unavailable(*timed(client.post, PURCHASE, json=purchase, headers=key))
            ready, seconds = timed(httpx.get, f"{server.base_url}/readyz", timeout=60)
            assert_unavailable(ready, seconds)
            assert httpx.get(f"{server.base_url}/healthz").status_code == 200
        finally:
            deployment.cluster.start()

        back = time.monotonic()
        while True:
            response = client.post(PURCHASE, json=purchase, headers=key)
            if response.status_code != 503 or time.monotonic() - back > RECOVERY_BOUND:
                break
            time.sleep(0.1)
        assert response.status_code == 201, response.text
        assert response.json()["e164"] == e164
    assert httpx.get(f"{server.base_url}/readyz").status_code == 200
    assert server.pid == pid and server.process is not None and server.process.poll() is None


async def test_a_full_pool_and_a_statement_timeout_answer_503(
    deployment: Deployment, tenant: Tenant
) -> None:
    """One connection, held by a purchase waiting on a row the test locked: the next
    request waits for the pool as long as ``VOX_DB_POOL_TIMEOUT_SECONDS``, then is 503; the
    purchase itself is cancelled at ``VOX_DB_STATEMENT_TIMEOUT_SECONDS``, 503 too, and
    succeeds once the row is free."""
    [(e164, country)] = deployment.stock(1)
    body = {"e164": e164, "country": country}
    statement_timeout = POOL_TIMEOUT + 2
    with serving(
        deployment, db_pool_size=1, db_statement_timeout_seconds=statement_timeout,
        run_worker="false",
    ) as server:  # fmt: skip
        lock = await asyncpg.connect(deployment.cluster.dsn)
        try:
            held = lock.transaction()
            await held.start()
            await lock.execute("SELECT 1 FROM inventory_numbers WHERE e164 = $1 FOR UPDATE", e164)
            async with httpx.AsyncClient(
                base_url=f"{server.base_url}{tenant.path()}", headers=tenant.headers, timeout=60
            ) as client:
                started = time.monotonic()
                slow = asyncio.create_task(client.post(PURCHASE, json=body))
                await wait_until_blocked(deployment.cluster.dsn)

                response, seconds = await timed_async(client.get("/numbers"))
                assert_unavailable(response, seconds)
                assert seconds >= POOL_TIMEOUT * 0.9, "refused before waiting for the pool"
                assert seconds <= POOL_TIMEOUT + 2.0

                cancelled = await slow
                assert_unavailable(cancelled, time.monotonic() - started - statement_timeout)
                assert time.monotonic() - started >= statement_timeout * 0.9

                await held.rollback()
                bought = await client.post(PURCHASE, json=body)
            assert bought.status_code == 201, bought.text
        finally:
            await lock.close()
    owners, for_sale, events = await ownership(deployment.cluster.dsn, e164)
    assert (owners, for_sale, events) == ([tenant.account_id], 0, 1)


async def test_an_unresponsive_database_is_503_within_the_timeouts(
    deployment: Deployment, tenant: Tenant
) -> None:
    """A network partition: the database neither answers nor refuses. Requests on frozen
    pooled connections give up at the statement timeout (+5 s, asyncpg's command timeout),
    new connections at the connect timeout, a full pool at the pool timeout: 503 within
    their sum, never a hang; once the network heals, the same process serves again."""
    [(e164, country)] = deployment.stock(1)
    statement_timeout = 2.0
    bound = POOL_TIMEOUT + statement_timeout + 5 + 2.0
    with (
        Relay(deployment.cluster.port) as relay,
        serving(
            deployment, database_url=relay.url(), db_statement_timeout_seconds=statement_timeout
        ) as server,
    ):
        async with httpx.AsyncClient(
            base_url=f"{server.base_url}{tenant.path()}", headers=tenant.headers, timeout=60
        ) as client:
            assert (await client.get("/numbers")).status_code == 200
            relay.partition()
            try:
                answers = await asyncio.gather(
                    timed_async(client.get("/numbers")),
                    timed_async(client.post(PURCHASE, json={"e164": e164, "country": country})),
                    timed_async(client.get(f"{server.base_url}/readyz")),
                )
                for response, seconds in answers:
                    assert_error(response, 503)
                    assert seconds <= bound, f"answered after {seconds:.2f} s"
            finally:
                relay.heal()

            back = time.monotonic()
            while True:
                bought = await client.post(PURCHASE, json={"e164": e164, "country": country})
                if bought.status_code != 503 or time.monotonic() - back > RECOVERY_BOUND:
                    break
                await asyncio.sleep(0.1)
            assert bought.status_code == 201, bought.text


async def timed_async(request: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await request
    return response, time.monotonic() - started


async def test_acknowledged_writes_survive_database_restarts_under_load(
    deployment: Deployment, server: ServerProcess
) -> None:
    """4 writers buying distinct numbers (retrying 503s and lost connections with the same
    Idempotency-Key) while PostgreSQL crashes (immediate) and later shuts down (fast)."""
    result = await run_scenario(deployment, [server], ["db-immediate", "db-fast"])

    assert_nothing_acknowledged_was_lost(result)
