"""What ``db/direct.py`` takes from SQLAlchemy beyond its public API, checked as it uses it.

``fetch_all`` compiles a statement once and runs it on the driver itself. For that it reads
a compiled statement's ``positiontup`` (the bound names in the driver's order), its
``binds`` (``key``, ``required``, ``effective_value``), ``post_compile_params`` and
``literal_execute_params``; the types' dialect processors; the connection's ``dispatch``
of ``before_cursor_execute`` listeners; the pooled connection's ``driver_connection``; and,
on PostgreSQL, the asyncpg adapter's ``autocommit`` and the driver's transaction state
that SQLAlchemy opens at the first statement. An upgrade of SQLAlchemy that changes any of
these fails here, by name, rather than as wrong rows or a silent fall back to the slower
path (``test_direct.py`` compares the two paths' rows and errors).
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Dialect, Integer, bindparam, column, event, literal, select, table
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.dialects.sqlite.aiosqlite import dialect as aiosqlite_dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import POSTGRES_ADMIN_URL
from voxnumbers.db.direct import fetch_all
from voxnumbers.db.engine import Database
from voxnumbers.db.inline import InlineConnection
from voxnumbers.db.types import Timestamp

DIALECTS = {"sqlite": aiosqlite_dialect(), "postgresql": asyncpg_dialect()}
t = table("t", column("x", Integer), column("y", Integer))

# A parameter used twice, a literal, parameters in WHERE and in the select list.
QUERY = select(t.c.x, literal(7, Integer)).where(
    t.c.x == bindparam("a", type_=Integer),
    t.c.y > bindparam("b", type_=Integer),
    t.c.y < bindparam("a", type_=Integer),
)
VALUES = {"a": 11, "b": 22}


def _positional_with_values(sql: str, names: list[str], values: dict[str, Any]) -> str:
    """``sql`` with each driver placeholder (``?`` in order, or ``$n``) replaced by the
    value of the name ``positiontup`` gives it."""
    if "$" in sql:
        return re.sub(r"\$(\d+)(::\w+)?", lambda m: str(values[names[int(m[1]) - 1]]), sql)
    places = iter(names)
    return re.sub(r"\?", lambda _: str(values[next(places)]), sql)


@pytest.mark.parametrize("dialect", DIALECTS.values(), ids=DIALECTS.keys())
def test_positiontup_names_each_placeholder_in_the_drivers_order(dialect: Dialect) -> None:
    compiled = QUERY.compile(dialect=dialect)
    names = list(compiled.positiontup or ())
    assert set(names) <= set(compiled.binds)
    values = {name: compiled.binds[name].effective_value for name in names} | VALUES
    expected = QUERY.params(VALUES).compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    assert _positional_with_values(str(compiled), names, values) == str(expected)


@pytest.mark.parametrize("dialect", DIALECTS.values(), ids=DIALECTS.keys())
def test_binds_say_what_is_required_and_what_is_given(dialect: Dialect) -> None:
    query = select(t.c.x).where(
        t.c.x == bindparam("needed", type_=Integer), t.c.y == bindparam("given", 5)
    )
    binds = query.compile(dialect=dialect).binds
    assert binds["needed"].key == "needed" and binds["needed"].required
    assert binds["given"].key == "given" and not binds["given"].required
    assert binds["given"].effective_value == 5


@pytest.mark.parametrize("dialect", DIALECTS.values(), ids=DIALECTS.keys())
def test_what_the_driver_cannot_run_as_compiled_is_listed(dialect: Dialect) -> None:
    """``fetch_all`` refuses an expanding IN and a literal_execute parameter by these."""
    plain = QUERY.compile(dialect=dialect)
    assert not plain.post_compile_params and not plain.literal_execute_params
    expanding = select(t.c.x).where(t.c.x.in_(bindparam("xs", expanding=True)))
    assert expanding.compile(dialect=dialect).post_compile_params
    literal_limit = select(t.c.x).limit(bindparam("n", 3, literal_execute=True))
    assert literal_limit.compile(dialect=dialect).literal_execute_params


def test_timestamps_convert_through_the_dialect_processors_on_sqlite() -> None:
    dialect = DIALECTS["sqlite"]
    impl = Timestamp().dialect_impl(dialect)
    to_driver = impl.bind_processor(dialect)
    from_driver = impl.result_processor(dialect, None)
    moment = datetime(2026, 2, 1, 12, 30, tzinfo=UTC)
    assert to_driver is not None and from_driver is not None
    assert to_driver(moment) == int(moment.timestamp())
    assert from_driver(int(moment.timestamp())) == moment
    assert from_driver(int(moment.timestamp())).tzinfo is UTC


def test_timestamps_pass_as_asyncpg_decodes_them() -> None:
    dialect = DIALECTS["postgresql"]
    assert Timestamp().dialect_impl(dialect).result_processor(dialect, None) is None


async def test_reads_go_to_the_driver_and_listeners_see_them(database: Database) -> None:
    """The driver under the pool is the one ``fetch_all`` runs on, and the connection's
    ``dispatch`` holds the ``before_cursor_execute`` listeners it calls (with no cursor and
    no context, where SQLAlchemy's own path passes both)."""
    seen: list[tuple[Any, Any, str, Any]] = []

    def listener(
        _conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, _many: bool
    ) -> None:
        seen.append((cursor, context, statement, parameters))

    event.listen(database.engine.sync_engine, "before_cursor_execute", listener)
    query = select(literal(1, Integer), bindparam("v", type_=Integer))
    async with database.transaction(write=False) as conn:
        await conn.execute(select(literal(0)))  # the first statement: opens the transaction
        sync = conn.sync_connection
        assert sync is not None
        assert len(list(sync.dispatch.before_cursor_execute)) == 1  # the listener, wrapped
        driver = sync.connection.driver_connection
        assert isinstance(driver, InlineConnection | asyncpg.Connection)
        expected = [tuple(row) for row in (await conn.execute(query, {"v": 5})).all()]
        seen.clear()
        rows = await fetch_all(conn, query, {"v": 5})
    assert [tuple(row) for row in rows] == expected == [(1, 5)]
    [(cursor, context, statement, parameters)] = seen
    assert cursor is None and context is None  # the driver's path, not Connection.execute
    assert statement == str(query.compile(dialect=conn.dialect))
    assert list(parameters) == [1, 5] or list(parameters) == [5]  # as the driver gets them


async def _adapter_state(conn: AsyncConnection) -> tuple[Any, bool]:
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, asyncpg.Connection)
    return raw.dbapi_connection.autocommit, driver.is_in_transaction()  # type: ignore[union-attr]


@pytest.mark.skipif(not POSTGRES_ADMIN_URL, reason="asyncpg's adapter (CI=true runs it)")
@pytest.mark.parametrize("backend", ["postgresql"])
async def test_asyncpg_opens_the_transaction_at_the_first_statement(database: Database) -> None:
    """On PostgreSQL ``fetch_all`` reads on the driver only inside a transaction SQLAlchemy
    has opened, or in ``AUTOCOMMIT``, which the adapter's ``autocommit`` says."""
    async with database.transaction(write=False) as conn:
        assert await _adapter_state(conn) == (False, False)
        await conn.execute(select(literal(1)))
        assert await _adapter_state(conn) == (False, True)
    async with database.transaction(write=False, snapshot=False) as conn:
        assert await _adapter_state(conn) == (True, False)
        await conn.execute(select(literal(1)))  # SQLAlchemy's path begins nothing in the driver
        assert await _adapter_state(conn) == (True, False)
        assert conn.in_transaction()  # SQLAlchemy's own, ended with the block


@pytest.mark.skipif(not POSTGRES_ADMIN_URL, reason="asyncpg's adapter (CI=true runs it)")
@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_read_without_snapshot_leaves_the_connection_as_it_found_it(
    database_url: str,
) -> None:
    """The read without a transaction sets the adapter's ``autocommit`` for its block only:
    the pooled connection goes back to the pool without it, whether the block ended well
    or not, and the next unit of work on it opens its transaction as usual."""
    database = Database(database_url, pool_size=1)
    try:
        for fails in (False, True):
            with contextlib.suppress(ZeroDivisionError):
                async with database.transaction(write=False, snapshot=False) as conn:
                    await conn.execute(select(literal(1)))
                    if fails:
                        raise ZeroDivisionError
            async with database.transaction(write=False) as conn:
                assert await _adapter_state(conn) == (False, False)
                await conn.execute(select(literal(1)))
                assert await _adapter_state(conn) == (False, True)
    finally:
        await database.dispose()
