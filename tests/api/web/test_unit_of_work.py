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
from sqlalchemy import event, literal, select
from sqlalchemy.exc import DBAPIError

from tests.api.support import (
    assert_error,
    buy,
    counted_and_scanned,
    event_count,
    for_sale,
    owners_of,
    running,
)
from tests.factories import GB_NUMBERS, US_NUMBERS, entry, make_tenant, stock
from voxnumbers.app import create_app
from voxnumbers.db.engine import DEFAULT_RETRY, Database
from voxnumbers.numbers import count_upkeep
from voxnumbers.numbers import repository as numbers_repository
from voxnumbers.settings import Settings
from voxnumbers.web.unitofwork import UnitOfWork

NUMBER = US_NUMBERS[0]


@pytest.fixture
async def one_connection(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=1, pool_timeout=1)
    yield database
    await database.dispose()


@pytest.fixture
async def client(one_connection: Database) -> AsyncIterator[httpx.AsyncClient]:
    # No bulk job runner: its polls would take the one connection now and then.
    settings = Settings(log_level="warning", run_worker=False, run_jobs=False)
    async with running(create_app(settings, one_connection)) as http:
        yield http


@pytest.fixture
async def strict_client(one_connection: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The same database behind an app allowing each key one request at a time."""
    settings = Settings(
        log_level="warning",
        run_worker=False,
        run_jobs=False,
        rate_limit_per_minute=1,
        rate_limit_burst=1,
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


async def test_a_request_runs_in_one_transaction(client, one_connection, backend):
    """The key lookup and the handler share it: one BEGIN per request, read or write; on
    PostgreSQL a list begins none (its statements run alone, below)."""
    tenant = await make_tenant(one_connection)
    await stock(one_connection, entry(NUMBER))
    begun: list[object] = []
    note = begun.append
    list_begins = 0 if backend == "postgresql" else 1
    event.listen(one_connection.engine.sync_engine, "begin", note)
    try:
        listed = await client.get(tenant.path("/numbers"), headers=tenant.bearer)
        assert (listed.status_code, len(begun)) == (200, list_begins)
        bought = await buy(client, tenant, NUMBER)
        assert (bought.status_code, len(begun)) == (201, list_begins + 1)
        got = await client.get(tenant.path(f"/numbers/{NUMBER}"), headers=tenant.bearer)
        assert (got.status_code, len(begun)) == (200, list_begins + 2)
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
        # On PostgreSQL, whether the driver runs the statement alone (its autocommit) or
        # in the transaction it began; on SQLite, the isolation level asked for, if any.
        adapter = conn.connection.dbapi_connection
        levels.append(
            ("alone" if adapter.autocommit else "in a transaction")
            if backend == "postgresql"
            else conn.get_execution_options().get("isolation_level")
        )

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
    assert listing and set(listing) == {"alone" if postgresql else None}
    assert levels and set(levels) == {"in a transaction" if postgresql else None}


# --- retries: the database gave up on the transaction ------------------------------------


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def _gave_up(sqlstate: str = "40P01") -> DBAPIError:
    """What SQLAlchemy raises for a deadlock (40P01) or a serialization failure (40001)."""
    return DBAPIError("UPDATE numbers SET …", {}, _DriverError(sqlstate))


def _failing_first(monkeypatch, times: int, sqlstate: str = "40P01") -> list[int]:
    """Make the purchase's first ``times`` runs fail as the database giving up would, after
    it changed rows (they must be rolled back); returns the count of runs."""
    runs: list[int] = []
    real = numbers_repository.insert_numbers

    async def insert_then_give_up(conn, rows):
        await real(conn, rows)
        runs.append(1)
        if len(runs) <= times:
            raise _gave_up(sqlstate)

    monkeypatch.setattr(numbers_repository, "insert_numbers", insert_then_give_up)
    return runs


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
async def test_a_transaction_the_database_gave_up_on_runs_again_whole(
    client, one_connection, monkeypatch, sqlstate
):
    tenant = await make_tenant(one_connection)
    await stock(one_connection, entry(NUMBER))
    runs = _failing_first(monkeypatch, 2, sqlstate)
    bought = await buy(client, tenant, NUMBER)
    assert bought.status_code == 201, bought.text
    assert bought.json()["e164"] == NUMBER
    assert len(runs) == 3  # the request's body was read again by each run
    assert await owners_of(one_connection, NUMBER) == [tenant.account_id]
    assert await event_count(one_connection, NUMBER) == 1
    assert await counted_and_scanned(one_connection, tenant.account_id) == (1, 1)
    assert one_connection.engine.pool.checkedout() == 0


async def test_a_transaction_that_never_succeeds_is_answered_503(
    client, one_connection, monkeypatch
):
    tenant = await make_tenant(one_connection)
    await stock(one_connection, entry(NUMBER))
    runs = _failing_first(monkeypatch, 100)
    bought = await buy(client, tenant, NUMBER)
    assert_error(bought, 503)
    assert bought.headers["retry-after"] == "1"
    assert len(runs) == DEFAULT_RETRY.attempts
    assert await owners_of(one_connection, NUMBER) == []
    assert await for_sale(one_connection, NUMBER)
    assert await event_count(one_connection) == 0
    assert one_connection.engine.pool.checkedout() == 0


async def test_an_idempotent_request_retried_stores_one_answer(client, one_connection, monkeypatch):
    tenant = await make_tenant(one_connection)
    await stock(one_connection, entry(NUMBER))
    _failing_first(monkeypatch, 1)
    headers = {**tenant.bearer, "Idempotency-Key": "buy-once"}
    body = {"e164": NUMBER, "country": "US"}
    path = tenant.path("/numbers/purchase-from-inventory")
    first = await client.post(path, json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = await client.post(path, json=body, headers=headers)
    assert (again.status_code, again.content) == (201, first.content)
    assert again.headers["idempotent-replayed"] == "true"
    assert await event_count(one_connection, NUMBER) == 1


async def test_a_retried_request_counts_once_against_the_rate_limit(one_connection, monkeypatch):
    settings = Settings(
        log_level="warning", run_worker=False, rate_limit_per_minute=60, rate_limit_burst=10
    )
    tenant = await make_tenant(one_connection)
    await stock(one_connection, entry(NUMBER))
    runs = _failing_first(monkeypatch, 2)
    async with running(create_app(settings, one_connection)) as http:
        bought = await buy(http, tenant, NUMBER)
    assert bought.status_code == 201, bought.text
    assert len(runs) == 3
    assert bought.headers["ratelimit"].split(";")[:2] == ['"default"', "r=9"]


async def test_a_commit_the_database_refuses_is_never_answered_as_a_success(
    client, one_connection, monkeypatch
):
    """The counts are written just before the commit: when that fails for good, the client
    gets ``503``, not the ``201`` the handler had prepared, and nothing is kept."""
    tenant = await make_tenant(one_connection)
    await stock(one_connection, entry(NUMBER))

    async def refuse(conn):
        raise OSError("connection reset by peer")

    monkeypatch.setattr(count_upkeep, "write_pending_counts", refuse)
    bought = await buy(client, tenant, NUMBER)
    assert_error(bought, 503)
    assert await owners_of(one_connection, NUMBER) == []
    assert await for_sale(one_connection, NUMBER)
    assert one_connection.engine.pool.checkedout() == 0


async def test_a_streams_source_is_closed_before_its_transaction_ends(one_connection):
    """A client that leaves mid-stream leaves the framework's iterator suspended: the unit
    of work closes the source it was given before it ends the transaction, so the source's
    cleanup still runs in it (and not later, from the garbage collector, without it)."""
    unit = UnitOfWork(one_connection, write=False)
    conn = await unit.connection()
    cleanup: list[int] = []

    async def source() -> AsyncIterator[bytes]:
        try:
            yield b"first"
            yield b"second"
        finally:
            cleanup.append((await conn.execute(select(literal(1)))).scalar_one())

    stream = unit.streaming(source())
    assert await anext(stream) == b"first"  # the client leaves here
    await unit.rollback()
    assert cleanup == [1]
    assert one_connection.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
