"""What the fault tests share: bounds, a client on a server process, timing a request,
and reading ownership straight from the database."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import asyncpg
import httpx
import pytest
from bench.fault.scenario import SERVER_SETTINGS, Deployment, ScenarioResult
from bench.fault.server import ServerProcess, Tenant

POOL_TIMEOUT = float(SERVER_SETTINGS["db_pool_timeout_seconds"])  # type: ignore[arg-type]
CONNECT_TIMEOUT = float(SERVER_SETTINGS["db_connect_timeout_seconds"])  # type: ignore[arg-type]
# How long any request may take while the database is down or out of connections: the pool
# wait and the connection attempt, plus 2 s of slack for a loaded 2-core CI machine. It is a
# correctness bound (no hang), not a benchmark: the measured answers take milliseconds.
ANSWER_BOUND = POOL_TIMEOUT + CONNECT_TIMEOUT + 2.0
# How soon after PostgreSQL is back a write must succeed again, with no restart.
RECOVERY_BOUND = 10.0


@contextlib.contextmanager
def serving(deployment: Deployment, **settings: object) -> Iterator[ServerProcess]:
    """A started ``vox serve --no-demo`` on the deployment's database; killed afterwards."""
    server = deployment.server(**settings)
    try:
        server.start()
        yield server
    finally:
        server.kill()


def api(server: ServerProcess, tenant: Tenant) -> httpx.Client:
    """A client of ``tenant``'s part of the API on ``server``."""
    return httpx.Client(
        base_url=f"{server.base_url}/v1/account/{tenant.account_id}",
        headers=tenant.headers,
        timeout=60,
    )


def timed(call: object, *args: object, **kwargs: object) -> tuple[httpx.Response, float]:
    """The response of ``call(*args, **kwargs)`` and how many seconds it took."""
    started = time.monotonic()
    response = call(*args, **kwargs)  # type: ignore[operator]
    return response, time.monotonic() - started


async def ownership(dsn: str, e164: str) -> tuple[list[str], int, int]:
    """(accounts owning ``e164``, whether it is for sale, its ``number.purchased`` events)."""
    connection = await asyncpg.connect(dsn)
    try:
        owners = await connection.fetch("SELECT account_id FROM numbers WHERE e164 = $1", e164)
        for_sale = await connection.fetchval(
            "SELECT count(*) FROM inventory_numbers WHERE e164 = $1", e164
        )
        events = await connection.fetchval(
            "SELECT count(*) FROM events WHERE type = 'number.purchased' AND e164 = $1", e164
        )
    finally:
        await connection.close()
    return [row["account_id"] for row in owners], for_sale, events


async def wait_until_blocked(dsn: str, seconds: float = 20.0) -> None:
    """Until a statement of the service waits on a lock (held by the test)."""
    connection = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            waiting = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = 'voxnumbers' AND wait_event_type = 'Lock'"
            )
            if waiting:
                return
            await asyncio.sleep(0.05)
    finally:
        await connection.close()
    pytest.fail("no request of the service ever waited on the test's lock")


def assert_nothing_acknowledged_was_lost(result: ScenarioResult) -> None:
    """What every load under faults must show: the faults hit the load, nothing but 201 and
    503 (and retryable refusals) was answered, 503s came at once, every purchase was
    acknowledged in the end, the service recovered from each fault by itself, and the
    database and the API agree with what was acknowledged."""
    load = result.load
    assert load.statuses["503"] + load.statuses["no answer"] > 0, (
        f"the faults never reached the writers: {load.statuses}"
    )
    assert load.server_errors == [], f"5xx other than 503: {load.server_errors[:5]}"
    assert load.unexpected == [], f"unexpected answers: {load.unexpected[:5]}"
    assert load.slowest_503 <= ANSWER_BOUND, f"a 503 took {load.slowest_503:.2f} s"
    for fault in result.faults:
        assert fault.recovery_seconds is not None, f"no write succeeded after {fault.kind}"
        assert fault.recovery_seconds <= RECOVERY_BOUND, fault
    assert [p.e164 for p in load.unacknowledged] == [], "a retried purchase never completed"
    assert result.audit.problems == [], result.audit.problems[:20]
    assert result.audit.lost == 0
    assert result.audit.owned == len(load.acknowledged)
    assert result.audit.totals_checked > 0
