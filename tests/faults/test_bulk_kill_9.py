"""A bulk job survives ``kill -9`` of the server running it: another server resumes it,
and no number is changed twice (one event per changed number)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import httpx
import pytest
from bench.fault.scenario import Deployment
from bench.fault.server import Tenant

from tests.faults.support import api, serving, wait_until_blocked

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.postgres]

NUMBERS = 120
BLOCKED_AT = 60  # the job's numbers go in e164 order: it blocks halfway
# Short, so that the next server resumes the job soon after the kill.
JOB_SETTINGS = {"job_batch_size": 10, "job_lease_seconds": 2, "job_poll_seconds": 0.1}
JOB_BOUND = 60.0  # a correctness bound (the job ends), not a speed


def job_of(client: httpx.Client, job_id: str) -> dict[str, Any]:
    response = client.get(f"/jobs/{job_id}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_job_killed_mid_way_is_resumed_by_another_server_and_changes_each_number_once(
    deployment: Deployment, tenant: Tenant
) -> None:
    stocked = dict(deployment.stock(NUMBERS))
    numbers = sorted(stocked)
    with serving(deployment, **JOB_SETTINGS) as first, api(first, tenant) as client:
        for e164 in numbers:
            bought = client.post(
                "/numbers/purchase-from-inventory", json={"e164": e164, "country": stocked[e164]}
            )
            assert bought.status_code == 201, bought.text
        trunk = client.post("/trunks", json={"name": "new carrier", "auth_type": "ip"})
        assert trunk.status_code == 201, trunk.text
        trunk_id = trunk.json()["id"]

        # The test holds one number of the job's second half: the job blocks on it, its
        # first half committed, its batch in hand open, and the server is killed then.
        lock = await asyncpg.connect(deployment.cluster.dsn)
        held = lock.transaction()
        await held.start()
        await lock.execute("SELECT 1 FROM numbers WHERE e164 = $1 FOR UPDATE", numbers[BLOCKED_AT])
        try:
            created = client.post(
                "/numbers/bulk",
                json={"action": "assign_trunk", "trunk_id": trunk_id, "numbers": numbers},
            )
            assert created.status_code == 202, created.text
            job_id = created.json()["id"]
            await wait_until_blocked(deployment.cluster.dsn)
            before = job_of(client, job_id)
            first.kill()
        finally:
            await held.rollback()
            await lock.close()
    assert before["status"] == "running"
    assert 0 < before["processed"] < NUMBERS

    with serving(deployment, **JOB_SETTINGS) as second, api(second, tenant) as client:
        deadline = time.monotonic() + JOB_BOUND
        job = job_of(client, job_id)
        while job["status"] not in ("succeeded", "failed", "cancelled"):
            assert time.monotonic() < deadline, job
            await asyncio.sleep(0.2)
            job = job_of(client, job_id)
        results = client.get(
            f"/jobs/{job_id}/results", params={"outcome": "changed", "per_page": 1}
        )

    assert job["status"] == "succeeded", job
    assert (job["matched"], job["processed"], job["changed"]) == (NUMBERS, NUMBERS, NUMBERS)
    assert results.json()["pagination"]["total"] == NUMBERS
    connection = await asyncpg.connect(deployment.cluster.dsn)
    try:
        events = await connection.fetch(
            "SELECT e164, count(*) AS n FROM events WHERE type = 'number.routing_changed'"
            " AND e164 = ANY($1::text[]) GROUP BY e164",
            numbers,
        )
        routed = await connection.fetchval(
            "SELECT count(*) FROM numbers WHERE e164 = ANY($1::text[]) AND trunk_id = $2",
            numbers,
            trunk_id,
        )
        finished = await connection.fetchval(
            "SELECT count(*) FROM events WHERE type = 'job.finished'"
            " AND data -> 'job' ->> 'id' = $1",
            job_id,
        )
    finally:
        await connection.close()
    assert {row["e164"]: row["n"] for row in events} == dict.fromkeys(numbers, 1)
    assert routed == NUMBERS
    assert finished == 1
