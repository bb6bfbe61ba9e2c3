"""``fetch_all`` reads on the driver and answers what ``conn.execute(...).all()`` answers:
the same rows, the same errors, in the same transaction, seen by the same listeners."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Table,
    bindparam,
    event,
    func,
    literal,
    select,
    text,
    tuple_,
)
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from tests.factories import make_tenant
from tests.integration.connections import backend_of, terminate_backend
from tests.integration.numbers.test_deep_pages import owned_rows
from voxnumbers.db.direct import fetch_all
from voxnumbers.db.engine import Database
from voxnumbers.db.errors import is_connection_lost, is_unavailable
from voxnumbers.db.inline import InlineConnection as Inline
from voxnumbers.db.tables import number_totals, numbers
from voxnumbers.db.types import Timestamp
from voxnumbers.numbers import repository
from voxnumbers.web.unitofwork import UnitOfWork

c = numbers.c
LISTED = [literal("active"), literal("pending")]
WHEN = datetime(2026, 2, 1, tzinfo=UTC)

# Statements with what a page of numbers has: typed parameters (Timestamp, the capability
# mask), a parameter used twice, literal values, a correlated total, keyset bounds,
# LIMIT and OFFSET as parameters, timestamps in the result.
STATEMENTS: dict[str, tuple[Any, dict[str, Any]]] = {
    "page with its total": (
        select(
            c.e164,
            c.status,
            c.created_at,
            c.updated_at,
            select(func.coalesce(func.sum(number_totals.c.total), 0))
            .where(number_totals.c.account_id == bindparam("account_id"))
            .where(number_totals.c.status.in_(LISTED))
            .scalar_subquery()
            .label("total"),
        )
        .where(c.account_id == bindparam("account_id"), c.status.in_(LISTED))
        .order_by(c.created_at, c.e164)
        .limit(bindparam("limit"))
        .offset(bindparam("offset")),
        {"limit": 50, "offset": 20},
    ),
    "timestamp and mask parameters": (
        select(c.e164, c.created_at)
        .where(c.account_id == bindparam("account_id"))
        .where(c.created_at >= bindparam("since", type_=Timestamp()))
        .where(c.capabilities.op("&")(bindparam("mask", type_=c.capabilities.type)) == 1)
        .order_by(c.created_at.desc(), c.e164.desc()),
        {"since": WHEN, "mask": 1},
    ),
    "after a keyset position": (
        select(c.e164, c.created_at)
        .where(c.account_id == bindparam("account_id"))
        .where(
            tuple_(c.created_at, c.e164)
            > tuple_(bindparam("after", type_=Timestamp()), bindparam("after_e164"))
        )
        .order_by(c.created_at, c.e164)
        .limit(30),
        {"after": WHEN, "after_e164": "+4930"},
    ),
    "aggregate by month": (
        select(func.count(), func.min(c.created_at), func.max(c.updated_at))
        .where(c.account_id == bindparam("account_id"))
        .group_by(c.country)
        .order_by(c.country),
        {},
    ),
    "nothing found": (
        select(c.e164).where(c.account_id == bindparam("account_id"), c.e164 == "+0"),
        {},
    ),
}


async def _account_with_numbers(database: Database) -> str:
    tenant = await make_tenant(database)
    async with database.transaction() as conn:
        await repository.insert_numbers(conn, owned_rows(tenant.account_id, 300))
    return tenant.account_id


def _plain(rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in rows]


@pytest.mark.parametrize("snapshot", [True, False], ids=["snapshot", "no-snapshot"])
async def test_rows_are_those_sqlalchemy_returns(database: Database, snapshot: bool) -> None:
    account_id = await _account_with_numbers(database)
    for name, (query, parameters) in STATEMENTS.items():
        parameters = {"account_id": account_id, **parameters}
        async with database.transaction(write=False, snapshot=snapshot) as conn:
            expected = _plain((await conn.execute(query, parameters)).all())
            got = _plain(await fetch_all(conn, query, parameters))
        assert got == expected, name
        assert name == "nothing found" or got, name
        for row in got:  # decoded as SQLAlchemy decodes them: aware UTC datetimes
            assert all(v.tzinfo is UTC for v in row if isinstance(v, datetime)), name


async def test_a_page_of_numbers_reads_the_same_through_either_path(database: Database) -> None:
    """The repository's own statements (every list request's), against SQLAlchemy's path."""
    account_id = await _account_with_numbers(database)
    where = repository.NumberFilter(country="US")
    shape = repository._shape(where)
    query = repository._page_query(
        shape, repository.DEFAULT_ORDER, after=False, since=False, until=False
    )
    parameters = {**repository._parameters(account_id, where), "limit": 100, "offset": 5}
    async with database.transaction(write=False, snapshot=False) as conn:
        expected = _plain((await conn.execute(query, parameters)).all())
        got = _plain(await fetch_all(conn, query, parameters))
    assert got == expected and len(got) > 10


async def test_a_missing_parameter_is_refused_as_sqlalchemy_refuses_it(database: Database) -> None:
    query = select(c.e164).where(c.account_id == bindparam("account_id"))
    async with database.transaction(write=False) as conn:
        with pytest.raises(StatementError, match="account_id"):
            await conn.execute(query, {})
    async with database.transaction(write=False) as conn:
        with pytest.raises(StatementError, match="account_id"):
            await fetch_all(conn, query, {})


async def test_an_expanding_in_is_refused_before_it_runs(database: Database) -> None:
    query = select(c.e164).where(c.status.in_(["active", "pending"]))
    async with database.transaction(write=False) as conn:
        with pytest.raises(ValueError, match="expanding IN"):
            await fetch_all(conn, query, {})


async def test_listeners_see_the_statement_and_its_parameters(database: Database) -> None:
    seen: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    query = select(c.e164).where(c.account_id == bindparam("account_id"))
    event.listen(database.engine.sync_engine, "before_cursor_execute", note)
    try:
        async with database.transaction(write=False, snapshot=False) as conn:
            await fetch_all(conn, query, {"account_id": "acc_seen"})
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", note)
    selects = [(s, list(p)) for s, p in seen if s.startswith("SELECT")]
    assert selects == [(str(query.compile(dialect=database.engine.dialect)), ["acc_seen"])]


# --- errors ------------------------------------------------------------------------------

_MISSING = Table("no_such_table", MetaData(), Column("x", Integer))


def _outcome(exc: BaseException) -> tuple[Any, ...]:
    """What callers read of an error: whether it is a DBAPIError, an outage, a lost
    connection, and the driver's code for it."""
    assert isinstance(exc, DBAPIError), repr(exc)
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorcode", None)
    return (is_unavailable(exc), is_connection_lost(exc), code)


@pytest.mark.parametrize(
    "query",
    [select(_MISSING.c.x), select(func.pg_sleep(2))],
    ids=["missing table", "statement timeout (PostgreSQL)"],
)
@pytest.mark.parametrize("snapshot", [True, False], ids=["snapshot", "no-snapshot"])
async def test_errors_are_raised_as_sqlalchemy_raises_them(
    database_url: str, query: Any, snapshot: bool
) -> None:
    database = Database(database_url, statement_timeout=0.2)
    outcomes = []
    try:
        for read in (lambda conn: conn.execute(query), lambda conn: fetch_all(conn, query, {})):
            with pytest.raises(DBAPIError) as raised:
                async with database.transaction(write=False, snapshot=snapshot) as conn:
                    await conn.execute(select(1))  # not the first statement: on the driver
                    await read(conn)
            outcomes.append(_outcome(raised.value))
    finally:
        await database.dispose()
    assert outcomes[0] == outcomes[1]
    assert not outcomes[1][1]  # the connection is not lost


async def _kill(conn: AsyncConnection, database: Database, by: str) -> None:
    """End ``conn``'s connection: from the server's side (PostgreSQL ends the backend, which
    the driver finds out when it reads), or closed by the driver itself (as asyncpg does
    when a socket fails). SQLite: closed under the pool either way."""
    driver = (await conn.get_raw_connection()).driver_connection
    if database.is_sqlite:
        driver.stop()
    elif by == "server":
        await terminate_backend(database, await backend_of(conn, database, on_driver=True))
    else:
        driver.terminate()


@pytest.mark.parametrize("by", ["server", "driver"])
async def test_a_connection_lost_under_a_read_is_invalidated(database_url: str, by: str) -> None:
    database = Database(database_url, pool_size=1)
    try:
        with pytest.raises(DBAPIError) as raised:
            async with database.transaction(write=False, snapshot=False) as conn:
                before = await backend_of(conn, database, on_driver=True)
                await _kill(conn, database, by)
                await fetch_all(conn, select(literal(1)), {})
        assert is_connection_lost(raised.value) and is_unavailable(raised.value)
        async with database.transaction(write=False, snapshot=False) as conn:
            assert await backend_of(conn, database, on_driver=True) != before  # dropped
    finally:
        await database.dispose()


Read = Callable[[AsyncConnection], Awaitable[int]]


async def _rows_seen_twice(database: Database, snapshot: bool, first: Read) -> tuple[int, int]:
    """Rows of a table seen by a reader (its first statement ``first``, then ``fetch_all``)
    before and after another transaction adds one."""
    async with database.transaction() as conn:
        await conn.execute(text("CREATE TABLE seen (x INTEGER)"))
    count = select(func.count()).select_from(Table("seen", MetaData(), Column("x", Integer)))
    try:
        reader = UnitOfWork(database, write=False, snapshot=snapshot)
        before = await reader.first_statement(first)
        async with database.transaction() as conn:
            await conn.execute(text("INSERT INTO seen VALUES (1)"))
        after = (await fetch_all(await reader.connection(), count, {}))[0][0]
        await reader.finish(200)
        return before, after
    finally:
        async with database.transaction() as conn:
            await conn.execute(text("DROP TABLE seen"))


@pytest.mark.parametrize("first_on_driver", [True, False], ids=["driver", "sqlalchemy"])
async def test_reads_on_the_driver_stay_in_the_transaction(
    database_url: str, backend: str, first_on_driver: bool
) -> None:
    """In a snapshot, a read on the driver sees what the first read saw, whichever path
    that took (on PostgreSQL the first statement is what opens the transaction); without
    one, on PostgreSQL, each statement reads afresh."""
    count = text("SELECT count(*) FROM seen")

    async def first(conn: AsyncConnection) -> int:
        if first_on_driver:
            table = Table("seen", MetaData(), Column("x", Integer))
            return int((await fetch_all(conn, select(func.count()).select_from(table), {}))[0][0])
        return int((await conn.execute(count)).scalar_one())

    database = Database(database_url)
    try:
        assert await _rows_seen_twice(database, True, first) == (0, 0)
        fresh = await _rows_seen_twice(database, False, first)
    finally:
        await database.dispose()
    assert fresh == ((0, 1) if backend == "postgresql" else (0, 0))


async def test_another_driver_reads_through_sqlalchemy() -> None:
    """aiosqlite itself (an engine made without ``db.engine``): SQLAlchemy's path."""
    engine = create_async_engine("sqlite+aiosqlite://")
    try:
        async with engine.connect() as conn:
            assert not isinstance((await conn.get_raw_connection()).driver_connection, Inline)
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1), (2)"))
            table = Table("t", MetaData(), Column("x", Integer))
            rows = await fetch_all(conn, select(table.c.x).order_by(table.c.x), {})
    finally:
        await engine.dispose()
    assert _plain(rows) == [(1,), (2,)]
