"""A request's first statement replaces a pooled connection that died (no ping at checkout)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.integration.connections import backend_of, terminate_backend
from voxnumbers.db.engine import Database
from voxnumbers.web.unitofwork import UnitOfWork


async def _kill(database: Database, backend: Any) -> None:
    """End the connection from the server's side (SQLite: close it under the pool)."""
    if database.is_sqlite:
        async with database.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert id(raw.driver_connection) == backend
            raw.driver_connection.stop()
        return
    await terminate_backend(database, backend)


@pytest.mark.parametrize("on_driver", [False, True], ids=["execute", "driver"])
@pytest.mark.parametrize(
    ("write", "snapshot"), [(False, True), (True, True), (False, False)], ids=str
)
async def test_a_dead_pooled_connection_is_replaced_by_the_first_statement(
    database_url: str, write: bool, snapshot: bool, on_driver: bool
) -> None:
    """Whichever path the first read takes: a list's, on PostgreSQL, is on the driver
    with no BEGIN before it."""
    database = Database(database_url, pool_size=1)
    try:
        unit = UnitOfWork(database, write=write, snapshot=snapshot)
        before = await unit.first_statement(lambda conn: backend_of(conn, database, on_driver))
        await unit.finish(200)
        await _kill(database, before)

        unit = UnitOfWork(database, write=write, snapshot=snapshot)
        after = await unit.first_statement(lambda conn: backend_of(conn, database, on_driver))
        assert after != before
        assert (await (await unit.connection()).execute(text("SELECT 1"))).scalar_one() == 1
        await unit.finish(200)
    finally:
        await database.dispose()


async def test_other_errors_of_the_first_statement_are_not_retried(database: Database) -> None:
    calls = 0

    async def failing(conn: AsyncConnection) -> None:
        nonlocal calls
        calls += 1
        await conn.execute(text("SELECT * FROM no_such_table"))

    unit = UnitOfWork(database, write=False)
    with pytest.raises(DBAPIError) as raised:
        await unit.first_statement(failing)
    assert calls == 1 and not raised.value.connection_invalidated
    await unit.rollback(raised.value)


async def _rows_seen_twice(database: Database, snapshot: bool) -> tuple[int, int]:
    """Rows of a table seen by a reader before and after another transaction adds one."""
    async with database.transaction() as conn:
        await conn.execute(text("CREATE TABLE seen (x INTEGER)"))
    try:
        reader = UnitOfWork(database, write=False, snapshot=snapshot)
        count = text("SELECT count(*) FROM seen")
        first = (await reader.first_statement(lambda conn: conn.execute(count))).scalar_one()
        async with database.transaction() as conn:
            await conn.execute(text("INSERT INTO seen VALUES (1)"))
        second = (await (await reader.connection()).execute(count)).scalar_one()
        await reader.finish(200)
        return first, second
    finally:
        async with database.transaction() as conn:
            await conn.execute(text("DROP TABLE seen"))


async def test_a_read_in_a_snapshot_sees_one_moment(database_url: str) -> None:
    database = Database(database_url)
    try:
        assert await _rows_seen_twice(database, snapshot=True) == (0, 0)
    finally:
        await database.dispose()


async def test_a_read_without_snapshot_on_postgresql_reads_each_statement_afresh(
    database_url: str, backend: str
) -> None:
    """No transaction: each statement sees what was committed before it. (On SQLite the
    reader stays in its snapshot: there a BEGIN costs no round trip to spare.)"""
    database = Database(database_url)
    try:
        seen = await _rows_seen_twice(database, snapshot=False)
    finally:
        await database.dispose()
    assert seen == ((0, 1) if backend == "postgresql" else (0, 0))
