"""One transaction per request (``web/unitofwork.py``): whatever ends a request, refused by a
guard or the shape check or failed in its handler, its transaction is closed and its
connection back in the pool.

The app runs on a pool of ONE connection with a short pool timeout: a single request that
left its transaction open would keep that connection (and on SQLite, for a write, the write
lock) until the garbage collector dropped it, and every later request would wait for it.
So after each response, the pool must have its connection back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import event

from tests.api.support import assert_error, buy, running
from tests.factories import GB_NUMBERS, US_NUMBERS, entry, make_tenant, stock
from voxnumbers.app import create_app
from voxnumbers.kit.db import Database
from voxnumbers.settings import Settings

NUMBER = US_NUMBERS[0]


@pytest.fixture
async def one_connection(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=1, pool_timeout=1)
    yield database
    await database.dispose()


@pytest.fixture
async def client(one_connection: Database) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(log_level="warning", run_worker=False)
    async with running(create_app(settings, one_connection)) as http:
        yield http


@pytest.fixture
async def strict_client(one_connection: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The same database behind an app allowing each key one request at a time."""
    settings = Settings(
        log_level="warning", run_worker=False, rate_limit_per_minute=1, rate_limit_burst=1
    )
    async with running(create_app(settings, one_connection)) as http:
        yield http


async def test_no_way_a_request_ends_leaves_its_transaction_open(
    client, strict_client, one_connection
):
    tenant = await make_tenant(one_connection, "Acme")
    other = await make_tenant(one_connection, "Other")
    limited = await make_tenant(one_connection, "Busy")
    await stock(one_connection, entry(NUMBER), entry(GB_NUMBERS[0]))
    bad_key = {"Authorization": "Bearer tvx_sk_live_" + "x" * 40}

    refusals = [
        (401, client.get(tenant.path("/numbers"), headers=bad_key)),
        (401, client.post(tenant.path("/trunks"), json={}, headers=bad_key)),
        (403, client.get(other.path("/numbers"), headers=tenant.bearer)),
        (403, client.post(other.path("/trunks"), json={}, headers=tenant.bearer)),
        (400, client.get(tenant.path("/numbers?colour=red"), headers=tenant.bearer)),
        (
            415,
            client.post(
                tenant.path("/trunks"),
                content=b"name=x",
                headers={**tenant.bearer, "Content-Type": "text/plain"},
            ),
        ),
        (404, client.get(tenant.path("/numbers/+14155550000"), headers=tenant.bearer)),
        (404, buy(client, tenant, US_NUMBERS[1])),  # not for sale: the handler raises
        (400, client.post(tenant.path("/trunks"), json={"name": ""}, headers=tenant.bearer)),
    ]
    pool = one_connection.engine.pool
    for status, request in refusals:
        assert_error(await request, status)
        assert pool.checkedout() == 0, status
    assert (await strict_client.get(limited.path("/numbers"), headers=limited.bearer)).is_success
    for _ in range(2):
        assert_error(await strict_client.get(limited.path("/numbers"), headers=limited.bearer), 429)
        assert pool.checkedout() == 0
        assert_error(
            await strict_client.post(limited.path("/trunks"), json={}, headers=limited.bearer), 429
        )
        assert pool.checkedout() == 0

    # The one connection is free, and so is the write lock: a read and a write go through.
    listed = await client.get(tenant.path("/numbers"), headers=tenant.bearer)
    assert listed.status_code == 200, listed.text
    bought = await buy(client, tenant, NUMBER)
    assert bought.status_code == 201, bought.text
    bought = await buy(client, tenant, GB_NUMBERS[0])
    assert bought.status_code == 201, bought.text


async def test_a_request_runs_in_one_transaction(client, one_connection):
    """The key lookup and the handler share it: one BEGIN per request, read or write."""
    tenant = await make_tenant(one_connection)
    await stock(one_connection, entry(NUMBER))
    begun: list[object] = []
    note = begun.append
    event.listen(one_connection.engine.sync_engine, "begin", note)
    try:
        listed = await client.get(tenant.path("/numbers"), headers=tenant.bearer)
        assert (listed.status_code, len(begun)) == (200, 1)
        bought = await buy(client, tenant, NUMBER)
        assert (bought.status_code, len(begun)) == (201, 2)
        got = await client.get(tenant.path(f"/numbers/{NUMBER}"), headers=tenant.bearer)
        assert (got.status_code, len(begun)) == (200, 3)
    finally:
        event.remove(one_connection.engine.sync_engine, "begin", note)


async def test_a_list_reads_without_a_snapshot_and_other_reads_in_one(
    client, one_connection, backend
):
    """A list's page and total come from one statement: on PostgreSQL it runs without a
    transaction (two round trips fewer); other reads keep their snapshot."""
    tenant = await make_tenant(one_connection)
    levels: list[object] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        levels.append(conn.get_execution_options().get("isolation_level"))

    event.listen(one_connection.engine.sync_engine, "before_cursor_execute", note)
    try:
        listed = await client.get(tenant.path("/numbers"), headers=tenant.bearer)
        assert listed.status_code == 200
        listing, levels[:] = list(levels), []
        got = await client.get(tenant.path(f"/numbers/{NUMBER}"), headers=tenant.bearer)
        assert got.status_code == 404
    finally:
        event.remove(one_connection.engine.sync_engine, "before_cursor_execute", note)
    postgresql = backend == "postgresql"
    assert listing and set(listing) == {"AUTOCOMMIT" if postgresql else None}
    assert levels and set(levels) == {"REPEATABLE READ" if postgresql else None}
