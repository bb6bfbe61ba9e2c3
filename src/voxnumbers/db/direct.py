"""The hottest reads straight on the driver, inside the unit of work's transaction.

``conn.execute(query)`` costs more in SQLAlchemy than in the database for the statements
every list request makes: a page of 100 numbers takes about 400 µs through
``Connection.execute`` and ``Result.all()`` (execution context, cursor wrapper, a greenlet
switch for each driver call, result metadata), against 220 µs for the same statement on
the driver itself. ``fetch_all`` runs a ``SELECT`` on the connection's driver
(``db.inline.InlineConnection`` or ``asyncpg``) with what SQLAlchemy would have done
around it and nothing more:

- the statement compiled once per dialect, with its bound parameters in the driver's order
  and each parameter's and column's type conversions (``Timestamp`` to and from SQLite's
  integers, say);
- the same transaction: the statement runs on the unit of work's connection. On
  PostgreSQL, SQLAlchemy's asyncpg adapter opens the transaction at its first statement,
  so until one has run (and outside ``AUTOCOMMIT``) the read goes through SQLAlchemy, as
  it does on a connection asyncpg knows is closed;
- the same errors: a driver error is raised as SQLAlchemy's ``DBAPIError`` for it, and a
  connection the error closed is invalidated first, so ``db.errors.is_unavailable`` and
  ``is_connection_lost`` (and the unit of work's retry on a dead connection) read it as
  they read SQLAlchemy's own.

Any other driver (SQLAlchemy's own aiosqlite connection, say) takes SQLAlchemy's path.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache, partial
from typing import Any, NamedTuple, NoReturn

import asyncpg
from sqlalchemy import Dialect, Select, literal, select
from sqlalchemy.exc import InvalidRequestError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import PoolProxiedConnection

from voxnumbers.db.errors import as_sqlalchemy_raises
from voxnumbers.db.inline import InlineConnection

Processors = tuple[tuple[int, Callable[[Any], Any]], ...]


class _Statement(NamedTuple):
    """A ``SELECT`` compiled for one dialect."""

    sql: str
    keys: tuple[str, ...]  # the bound parameters, in the driver's order
    defaults: tuple[Any, ...]  # their values in the statement (None where one is required)
    required: frozenset[str]
    bind_processors: Processors  # by position in ``keys``
    result_processors: Processors  # by column

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        if not self.required <= parameters.keys():
            missing = min(self.required - parameters.keys())
            problem = InvalidRequestError(f"A value is required for bind parameter {missing!r}")
            raise StatementError(str(problem), self.sql, dict(parameters), problem)
        values = [
            parameters.get(key, default)
            for key, default in zip(self.keys, self.defaults, strict=True)
        ]
        for index, process in self.bind_processors:
            values[index] = process(values[index])
        return values

    def rows(self, fetched: list[Any]) -> Sequence[Sequence[Any]]:
        if not self.result_processors:
            return fetched
        converted = []
        for fetched_row in fetched:
            row = list(fetched_row)
            for index, process in self.result_processors:
                row[index] = process(row[index])
            converted.append(row)
        return converted


@lru_cache(maxsize=512)
def _compiled(query: Select[Any], dialect: Dialect) -> _Statement:
    compiled = query.compile(dialect=dialect)
    if compiled.post_compile_params or compiled.literal_execute_params:
        raise ValueError(
            "fetch_all needs a statement the driver can run as compiled: no expanding "
            "IN (use a list of literal() values) and no literal_execute parameters"
        )
    binds = [compiled.binds[name] for name in compiled.positiontup or ()]
    return _Statement(
        sql=str(compiled),
        keys=tuple(bind.key for bind in binds),
        defaults=tuple(None if bind.required else bind.effective_value for bind in binds),
        required=frozenset(bind.key for bind in binds if bind.required),
        bind_processors=_processors(
            bind.type.dialect_impl(dialect).bind_processor(dialect) for bind in binds
        ),
        result_processors=_processors(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in query.selected_columns
        ),
    )


def _processors(found: Any) -> Processors:
    return tuple((index, process) for index, process in enumerate(found) if process is not None)


async def fetch_all(
    conn: AsyncConnection,
    query: Select[Any],
    parameters: Mapping[str, Any],
    *,
    many: bool = False,
) -> Sequence[Sequence[Any]]:
    """The rows of ``query`` with ``parameters``, as ``(await conn.execute(query,
    parameters)).all()`` returns them (by position), read on the driver when it can be.
    ``many``: a read of many rows (thousands), which SQLite runs on a worker thread rather
    than on the event loop.

    ``query`` is compiled once and remembered (the last 512): pass statements built once,
    with ``bindparam`` for what changes (module constants, ``lru_cache``d builders).

    Listeners of ``before_cursor_execute`` still see the statement and its parameters as
    the driver receives them (with no cursor and no execution context)."""
    statement = _compiled(query, conn.dialect)  # refuses what it cannot run, on any path
    sync = conn.sync_connection
    pooled = sync.connection if sync is not None else None
    driver = pooled.driver_connection if pooled is not None else None
    run: Callable[[str, list[Any]], Awaitable[list[Any]]]
    if isinstance(driver, InlineConnection):
        run = partial(driver.fetch_all, on_thread=many)
    elif (
        isinstance(driver, asyncpg.Connection)
        and not driver.is_closed()  # SQLAlchemy's path tells the pool of a closed one
        and (driver.is_in_transaction() or _autocommit(pooled))
    ):
        run = partial(_fetch_asyncpg, driver)
    else:
        rows: Sequence[Sequence[Any]] = (await conn.execute(query, parameters)).all()
        return rows
    assert sync is not None and pooled is not None
    arguments = statement.arguments(parameters)
    for listener in sync.dispatch.before_cursor_execute:
        listener(sync, None, statement.sql, arguments, None, False)
    try:
        fetched = await run(statement.sql, arguments)
    except Exception as exc:
        await _raise_as_sqlalchemy(conn, pooled, statement.sql, arguments, exc)
    return statement.rows(fetched)


# ``copy_out``: output that arrives in pieces smaller than this is left to gather this long
# in the socket before the next piece is taken (6 times fewer pieces for an export, a third
# less CPU in process; a ``COPY`` that fits in one piece ends a millisecond later).
COPY_PIECE_BYTES = 64 * 1024
COPY_GATHER_SECONDS = 0.001


async def copy_out(
    conn: AsyncConnection, query: Select[Any], parameters: Mapping[str, Any], **options: Any
) -> list[bytes]:
    """What ``COPY (query) TO STDOUT`` with ``options`` (asyncpg's ``copy_from_query``
    keywords: ``format="csv"``, ``delimiter``…) writes, in the chunks it arrived in, the
    parameters' values written into the statement (``inline_arguments``). PostgreSQL
    (asyncpg) only.

    The rows are read into memory before anything is returned: a ``COPY`` that waited for
    a slow reader of its output would hold its statement (and ``statement_timeout``) open
    for as long; bound the rows with ``LIMIT`` or a key range instead. Inside the
    connection's transaction (opened through SQLAlchemy first when no statement has opened
    it yet), with errors raised as ``fetch_all`` raises them."""
    statement = _compiled(query, conn.dialect)
    sync = conn.sync_connection
    pooled = sync.connection if sync is not None else None
    driver = pooled.driver_connection if pooled is not None else None
    if not isinstance(driver, asyncpg.Connection):
        raise TypeError("copy_out needs a PostgreSQL connection on asyncpg")
    assert sync is not None and pooled is not None
    if not driver.is_in_transaction() and not _autocommit(pooled):
        await conn.execute(select(literal(1)))  # SQLAlchemy's adapter opens the transaction
    arguments = statement.arguments(parameters)
    for listener in sync.dispatch.before_cursor_execute:
        listener(sync, None, statement.sql, arguments, None, False)
    chunks: list[bytes] = []

    async def keep(chunk: bytes) -> None:
        chunks.append(chunk)
        if len(chunk) < COPY_PIECE_BYTES:
            # Let the output gather in the socket before taking more: asyncpg spends a
            # future, timers and a callback on each piece it hands over, and the database
            # writes 8 KB at a time, so taking each as it comes costs a third of an export.
            await asyncio.sleep(COPY_GATHER_SECONDS)

    inlined = inline_arguments(statement.sql, arguments)
    try:
        if inlined is not None:
            await driver.copy_from_query(inlined, output=keep, **options)
        else:
            await driver.copy_from_query(statement.sql, *arguments, output=keep, **options)
    except Exception as exc:
        await _raise_as_sqlalchemy(conn, pooled, statement.sql, arguments, exc)
    return chunks


def inline_arguments(sql: str, arguments: Sequence[Any]) -> str | None:
    """``sql`` with its ``$n`` parameters written in as SQL literals (``COPY`` takes no
    parameters), or ``None`` when a value is of a type this does not write.

    asyncpg inlines them itself with two round trips to the database (one to learn the
    parameters' types, one to have each value quoted), each of which waits for the event
    loop's turn: a ``COPY`` read ahead while the service writes out a batch started only
    when that batch was done. Strings are escape strings (``E'…'``), which read the same
    whatever ``standard_conforming_strings`` says; times are aware ``datetime`` values in
    ISO 8601; integers and booleans as they are."""
    literals = []
    for value in arguments:
        literal = _sql_literal(value)
        if literal is None:
            return None
        literals.append(literal)
    return _PARAMETER.sub(lambda found: literals[int(found[1]) - 1], sql)


_PARAMETER = re.compile(r"\$(\d+)\b")


def _sql_literal(value: Any) -> str | None:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.isoformat()
    if isinstance(value, str) and "\x00" not in value:
        return "E'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return None


async def _raise_as_sqlalchemy(
    conn: AsyncConnection,
    pooled: PoolProxiedConnection,
    sql: str,
    arguments: Sequence[Any],
    exc: Exception,
) -> NoReturn:
    """Raise the driver's ``exc`` as SQLAlchemy's own path would have raised it, the
    connection invalidated first when it is lost."""
    error, lost = as_sqlalchemy_raises(conn.dialect, pooled, sql, arguments, exc)
    if lost:
        await conn.invalidate(exc)
    if error is exc:
        raise exc
    raise error from exc


def _autocommit(pooled: PoolProxiedConnection | None) -> bool:
    """Whether SQLAlchemy's asyncpg adapter runs this connection in ``AUTOCOMMIT`` (no
    transaction to open before a statement). The adapter's ``autocommit`` is not part of
    the typed DB-API protocol; a test checks it is still there and means that."""
    return pooled is not None and bool(getattr(pooled.dbapi_connection, "autocommit", False))


async def _fetch_asyncpg(driver: asyncpg.Connection, sql: str, arguments: list[Any]) -> list[Any]:
    rows: list[Any] = await driver.fetch(sql, *arguments)
    return rows
