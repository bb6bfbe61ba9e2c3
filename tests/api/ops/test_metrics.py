"""``GET /metrics``: Prometheus text, requests counted by route template and status."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from tests.api.support import running
from tests.factories import US_NUMBERS, entry, make_tenant, stock
from voxnumbers.app import create_app
from voxnumbers.db.engine import Database
from voxnumbers.settings import Settings


async def test_requests_are_counted_by_route_template_not_raw_path(client, database):
    tenant = await make_tenant(database)
    await client.get(tenant.path("/numbers"), headers=tenant.bearer)
    await client.get(tenant.path(f"/numbers/{US_NUMBERS[0]}"), headers=tenant.bearer)
    await client.get("/no/such/route")
    r = await client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert (
        'voxnumbers_requests_total{method="GET",route="/v1/account/{account_id}/numbers",'
        'status="200"} 1.0' in text
    )
    assert 'route="/v1/account/{account_id}/numbers/{e164}",status="404"' in text
    assert 'route="unmatched",status="404"' in text
    assert "voxnumbers_request_duration_seconds_bucket" in text
    assert tenant.account_id not in text and US_NUMBERS[0] not in text


async def scrape(client) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return response.text


def value(text: str, series: str) -> float:
    """The value of one series line (``name{labels}``) of the exposition."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no series {series} in the exposition")


async def test_one_charset_and_no_created_series(client):
    response = await client.get("/metrics")
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "_created" not in response.text


async def test_process_and_python_runtime_are_exposed(client):
    text = await scrape(client)
    assert value(text, "process_resident_memory_bytes") > 0
    assert value(text, "process_cpu_seconds_total") > 0
    assert 'python_info{implementation="CPython"' in text
    assert "python_gc_collections_total{generation=" in text


async def test_the_pool_in_use_is_exposed(client, database):
    async with database.transaction(write=False):
        # The app's background work (the job runner, maintenance) may be opening a
        # connection of its own at that moment, which counts as waiting while it lasts.
        for _ in range(100):
            held = await scrape(client)
            if value(held, "voxnumbers_db_pool_waiting") == 0:
                break
            await asyncio.sleep(0.05)
    assert value(held, "voxnumbers_db_pool_connections_in_use") >= 1
    assert value(held, "voxnumbers_db_pool_waiting") == 0


async def test_requests_waiting_for_the_pool_are_counted(database_url):
    from voxnumbers.ops.metrics import Metrics

    small = Database(database_url, pool_size=1, pool_timeout=30)
    metrics = Metrics(small)
    try:
        async with small.transaction(write=False):
            waiter = asyncio.create_task(_open_a_transaction(small))
            for _ in range(1000):  # until the task waits for the pool
                if small.connections_waiting:
                    break
                await asyncio.sleep(0.01)
            metrics.observe("GET", "/x", 200, 0.01)
            assert metrics.registry.get_sample_value("voxnumbers_db_pool_waiting") == 1
            assert metrics.registry.get_sample_value("voxnumbers_db_pool_connections_in_use") >= 1
        await waiter
        metrics.observe("GET", "/x", 200, 0.01)
        assert metrics.registry.get_sample_value("voxnumbers_db_pool_waiting") == 0
    finally:
        await small.dispose()


async def _open_a_transaction(database: Database) -> None:
    async with database.transaction(write=False):
        pass


async def test_the_webhook_backlog_is_counted(client, database):
    tenant = await make_tenant(database)
    created = await client.post(
        tenant.path("/webhooks"), json={"url": "https://hooks.example.com/x"}, headers=tenant.bearer
    )
    assert created.status_code == 201
    assert value(await scrape(client), 'voxnumbers_webhook_deliveries{state="pending"}') == 0
    for e164 in US_NUMBERS[:2]:
        await stock(database, entry(e164))
        bought = await client.post(
            tenant.path("/numbers/purchase-from-inventory"),
            json={"e164": e164, "country": "US"},
            headers=tenant.bearer,
        )
        assert bought.status_code == 201
    text = await scrape(client)
    assert value(text, 'voxnumbers_webhook_deliveries{state="pending"}') == 2
    assert value(text, 'voxnumbers_webhook_deliveries{state="failed"}') == 0


async def test_rate_limit_rejections_are_counted(database):
    tenant = await make_tenant(database)
    settings = Settings(
        log_level="warning", run_worker=False, rate_limit_per_minute=1, rate_limit_burst=2
    )
    async with running(create_app(settings, database)) as client:
        statuses = [
            (await client.get(tenant.path("/numbers"), headers=tenant.bearer)).status_code
            for _ in range(4)
        ]
        text = await scrape(client)
    assert statuses == [200, 200, 429, 429]
    series = 'voxnumbers_rate_limited_requests_total{route="/v1/account/{account_id}/numbers"}'
    assert value(text, series) == 2


WORKER = """
import sys
from voxnumbers.ops.metrics import Metrics
metrics = Metrics()
for _ in range(int(sys.argv[1])):
    metrics.observe("GET", "/v1/account/{account_id}/numbers", 200, 0.002)
metrics.observe("GET", "/v1/account/{account_id}/numbers", 429, 0.001)
"""

SCRAPER = """
import asyncio
from voxnumbers.ops.metrics import Metrics
print(asyncio.run(Metrics().render()).decode())
"""


def test_worker_processes_are_summed_in_any_scrape(tmp_path):
    """Two worker processes count into the shared directory; a third, answering the
    scrape, reports the sum."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for count in ("3", "4"):
        subprocess.run([sys.executable, "-c", WORKER, count], env=env, check=True, timeout=60)
    text = subprocess.run(
        [sys.executable, "-c", SCRAPER],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    route = 'route="/v1/account/{account_id}/numbers"'
    assert value(text, f'voxnumbers_requests_total{{method="GET",{route},status="200"}}') == 7
    assert value(text, f"voxnumbers_rate_limited_requests_total{{{route}}}") == 2
    assert value(text, f'voxnumbers_request_duration_seconds_count{{method="GET",{route}}}') == 9
    assert (
        len([line for line in text.splitlines() if "voxnumbers_worker_cpu_seconds{" in line]) == 3
    )
    assert "_created" not in text
