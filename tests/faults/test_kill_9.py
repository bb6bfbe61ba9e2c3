"""The API server killed with SIGKILL (every process of it, at once: nothing flushed, no
transaction finished, no connection closed politely) while clients write, then started again.

What was acknowledged is there; what was in flight either completes on the client's retry
with the same Idempotency-Key or is replayed; nothing is bought twice.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
import httpx
import pytest
from bench.fault.scenario import Deployment, run_scenario
from bench.fault.server import ServerProcess, Tenant

from tests.faults.support import (
    RECOVERY_BOUND,
    api,
    assert_nothing_acknowledged_was_lost,
    ownership,
    wait_until_blocked,
)

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.postgres]

PURCHASE = "/numbers/purchase-from-inventory"


async def test_acknowledged_writes_survive_kill_9_under_load(
    deployment: Deployment, server: ServerProcess
) -> None:
    result = await run_scenario(deployment, [server], ["kill-9"])

    assert_nothing_acknowledged_was_lost(result)


def retry_until_answered(client: httpx.Client, body: dict[str, str], key: str) -> httpx.Response:
    """Retry as a careful client does: same key, while the answer is "not now"."""
    deadline = time.monotonic() + RECOVERY_BOUND
    while True:
        response = client.post(PURCHASE, json=body, headers={"Idempotency-Key": key})
        busy = response.status_code == 409 and "Idempotency-Key" in response.text
        if not (busy or response.status_code == 503) or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


async def test_a_purchase_in_flight_when_killed_completes_once_on_retry(
    deployment: Deployment, server: ServerProcess, tenant: Tenant
) -> None:
    """The purchase is held mid-transaction (its inventory row is locked by the test) when
    the server dies; its transaction can never commit. The retry with the same key, on the
    new server, buys the number: once, with one event."""
    [(e164, country)] = deployment.stock(1)
    body, key = {"e164": e164, "country": country}, f"in-flight-{e164}"
    lock = await asyncpg.connect(deployment.cluster.dsn)
    try:
        held = lock.transaction()
        await held.start()
        await lock.execute("SELECT 1 FROM inventory_numbers WHERE e164 = $1 FOR UPDATE", e164)
        async with httpx.AsyncClient(
            base_url=f"{server.base_url}{tenant.path()}", headers=tenant.headers, timeout=60
        ) as client:
            in_flight = asyncio.create_task(
                client.post(PURCHASE, json=body, headers={"Idempotency-Key": key})
            )
            await wait_until_blocked(deployment.cluster.dsn)
            server.kill()
            with pytest.raises(httpx.TransportError):
                await in_flight
        await held.rollback()
    finally:
        await lock.close()
    server.start()

    with api(server, tenant) as client:
        response = retry_until_answered(client, body, key)
        assert response.status_code == 201, response.text
        assert "idempotent-replayed" not in response.headers, "nothing was committed before"
        again = retry_until_answered(client, body, key)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.content == response.content
    owners, for_sale, events = await ownership(deployment.cluster.dsn, e164)
    assert (owners, for_sale, events) == ([tenant.account_id], 0, 1)


async def test_an_acknowledged_purchase_is_replayed_after_kill_9(
    deployment: Deployment, server: ServerProcess, tenant: Tenant
) -> None:
    [(e164, country)] = deployment.stock(1)
    body, key = {"e164": e164, "country": country}, f"acknowledged-{e164}"
    with api(server, tenant) as client:
        bought = client.post(PURCHASE, json=body, headers={"Idempotency-Key": key})
    assert bought.status_code == 201, bought.text

    server.kill()
    server.start()

    with api(server, tenant) as client:
        replayed = retry_until_answered(client, body, key)
        other_key = client.post(PURCHASE, json=body, headers={"Idempotency-Key": f"x-{key}"})
    assert replayed.status_code == 201, replayed.text
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.content == bought.content
    assert other_key.status_code == 409, other_key.text  # bought already: not bought twice
    owners, for_sale, events = await ownership(deployment.cluster.dsn, e164)
    assert (owners, for_sale, events) == ([tenant.account_id], 0, 1)
