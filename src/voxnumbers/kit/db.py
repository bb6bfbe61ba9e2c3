"""Database plumbing: engine per settings, one transaction per unit of work, portable types.

The same code runs on SQLite (WAL, foreign keys on; SQLAlchemy's aiosqlite dialect over the
inline connection of ``kit.sqlite_inline`` for database files) and PostgreSQL (asyncpg).
A unit of work is a transaction: callers (a request, a CLI command) own it; it commits when
the block ends normally and rolls back on any exception. When the database cannot start or
commit it (unreachable, restarting, out of connections), ``DatabaseUnavailable`` is raised,
whatever the driver said; errors raised inside the block pass through unchanged and
``is_unavailable`` tells an outage from a bug. Callers answer "retry later" for the first,
never ``500``.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    DateTime,
    Dialect,
    bindparam,
    event,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.types import TypeDecorator

from voxnumbers.kit.direct import as_sqlalchemy_raises
from voxnumbers.kit.jsonc import decode_json, encode_json_text
from voxnumbers.kit.sqlite_inline import InlineConnection, inline_connector

_WRITE = "vox_write"
T = TypeVar("T")

# SQLSTATE classes that mean "not now" rather than "never": connection exception (08),
# insufficient resources (53: too many connections, disk full), operator intervention
# (57: shutting down, starting up, statement timeout, cancelled).
_UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "57"})


# SQLSTATEs of a transaction the database gave up on so that another could go on: deadlock
# detected, serialization failure. Nothing of it was committed; run whole again, it succeeds.
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
# SQLite's "busy" family: the write lock could not be had in time.
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")

_BEFORE_COMMIT = "vox_before_commit"


class DatabaseUnavailable(Exception):
    """The database cannot serve this unit of work now: it is unreachable, restarting, out of
    connections or too slow. Nothing was committed unless the commit itself was acknowledged
    by the database; retrying later (with the same Idempotency-Key) is safe."""


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` is the database being unavailable (retry later) rather than a bug.

    At connect time asyncpg raises plain ``OSError``s (refused, reset, unreachable,
    ``TimeoutError``) that SQLAlchemy passes on untranslated; a lost connection shows as an
    invalidated ``DBAPIError``; a server that is shutting down, starting up or cancelling a
    statement as one with a SQLSTATE of class 08, 53 or 57; a full pool as ``PoolTimeout``.
    A transaction the database gave up on (``is_retryable``) that still failed after its
    retries is "not now" too.
    """
    if isinstance(exc, DatabaseUnavailable | PoolTimeout | OperationalError | OSError):
        return True
    if isinstance(exc, DBAPIError):
        sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
        return (
            exc.connection_invalidated
            or sqlstate[:2] in _UNAVAILABLE_SQLSTATE_CLASSES
            or sqlstate in _RETRYABLE_SQLSTATES
        )
    return False


def is_connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection it ran on had died (the server restarted or ended
    it): the pool has dropped that connection, and work that had not started can start again
    on another one."""
    if isinstance(exc, DatabaseUnavailable):
        exc = exc.__cause__ or exc
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def is_retryable(exc: BaseException) -> bool:
    """Whether ``exc`` ended a transaction that, run again from its start, can succeed: a
    deadlock or serialization failure (PostgreSQL 40P01, 40001), SQLite's write lock busy.
    The transaction was rolled back; nothing of it was committed."""
    for error in (exc, exc.__cause__):
        if not isinstance(error, DBAPIError):
            continue
        if str(getattr(error.orig, "sqlstate", None) or "") in _RETRYABLE_SQLSTATES:
            return True
        if isinstance(error.orig, sqlite3.OperationalError) and str(error.orig).startswith(
            _SQLITE_BUSY
        ):
            return True
    return False


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often, and after what pauses, a transaction that ``is_retryable`` runs again:
    up to ``attempts`` runs in all, pausing a random time (full jitter) up to ``base``
    seconds doubled at each retry and capped at ``cap``, so transactions that collided do
    not collide again in step."""

    attempts: int = 5
    base: float = 0.005
    cap: float = 0.2

    def pause(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first)."""
        return random.uniform(0, min(self.cap, self.base * 2 ** (retry - 1)))


DEFAULT_RETRY = RetryPolicy()


# Per checked-out connection (each ``Database.transaction`` checks one out, so: per
# transaction); gone with the connection object. Not ``conn.info``: that outlives the
# checkout, and reading it on a connection the error of its transaction invalidated
# reconnects.
_TRANSACTION_LOCAL: weakref.WeakKeyDictionary[AsyncConnection, dict[str, Any]] = (
    weakref.WeakKeyDictionary()
)


def transaction_local(conn: AsyncConnection) -> dict[str, Any]:
    """State that lives as long as the transaction running on ``conn``."""
    local = _TRANSACTION_LOCAL.get(conn)
    if local is None:
        local = _TRANSACTION_LOCAL[conn] = {}
    return local


def before_commit(
    conn: AsyncConnection, hook: Callable[[AsyncConnection], Awaitable[None]]
) -> None:
    """Run ``hook`` in the transaction on ``conn`` just before it commits (never when it rolls
    back); a hook registered twice runs once. Writes to rows that every transaction of an
    account touches go here: they then hold their locks only for the commit."""
    hooks: list[Callable[[AsyncConnection], Awaitable[None]]] = transaction_local(conn).setdefault(
        _BEFORE_COMMIT, []
    )
    if hook not in hooks:
        hooks.append(hook)


def _datetime_of_unix_seconds(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


class Timestamp(TypeDecorator[datetime]):
    """An aware UTC datetime: ``timestamptz`` on PostgreSQL, integer Unix seconds on SQLite
    (indexable, sortable and much cheaper to decode than SQLite's text dates)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        if dialect.name == "sqlite":
            return int(value.timestamp())
        return value

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        # A page of numbers decodes hundreds of these: on SQLite one plain function per
        # value instead of TypeDecorator's chain (impl processor, then the method below).
        if dialect.name == "sqlite":
            return _datetime_of_unix_seconds
        if dialect.driver == "asyncpg":
            return None  # asyncpg decodes ``timestamptz`` as aware UTC datetimes already
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, int):
            return datetime.fromtimestamp(value, UTC)
        moment: datetime = value
        if moment.tzinfo is UTC:  # asyncpg's timestamptz
            return moment
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def among(
    conn: AsyncConnection, column: ColumnElement[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """``column IN values`` for a long list of values (a batch of a bulk job).

    On PostgreSQL: ``column IN (SELECT unnest(:values))``, the whole list one array
    parameter. Spelt ``IN ($1, …, $500)`` (or ``= ANY($1)``), the generic plan that every
    prepared statement runs here (``plan_cache_mode``, see ``_create_engine``) cannot know
    how many rows the list selects, and it took the account's other condition for the more
    selective one: it read every number of the account and compared each with every value
    of the list, for a big account a hundred times slower than looking the values up in the
    key. A semi-join with the unnested array is planned as that lookup, one probe per
    value, whether or not the table's statistics are up to date.
    """
    if conn.dialect.name == "postgresql":
        listed = bindparam(None, list(values), type_=ARRAY(column.type))
        return column.in_(select(func.unnest(listed)))
    return column.in_(values)


class Database:
    """The engine of one database and the transactions run on it."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        pool_timeout: float = 5.0,
        statement_timeout: float = 10.0,
        connect_timeout: float | None = None,
    ) -> None:
        """``pool_timeout``: longest wait for a free connection of the pool;
        ``connect_timeout`` (default: ``pool_timeout``): longest wait for the server to
        accept a new connection; ``statement_timeout``: longest a statement may run. Together
        they bound how long a request can wait on a database that is not there."""
        self.url = make_url(url)
        self.dialect = self.url.get_backend_name()
        self.engine: AsyncEngine = _create_engine(
            url,
            pool_size=pool_size,
            pool_timeout=pool_timeout,
            statement_timeout=statement_timeout,
            connect_timeout=pool_timeout if connect_timeout is None else connect_timeout,
        )
        #: Transactions waiting for the pool to hand them a connection (``/metrics``).
        self.connections_waiting = 0

    @property
    def connections_in_use(self) -> int:
        """Connections checked out of the pool now (``/metrics``)."""
        checkedout = getattr(self.engine.sync_engine.pool, "checkedout", None)
        return int(checkedout()) if checkedout is not None else 0

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[AsyncConnection]:
        """``engine.connect()``, counted in ``connections_waiting`` until the pool answers."""
        connection = self.engine.connect()
        self.connections_waiting += 1
        try:
            await connection.start()
        finally:
            self.connections_waiting -= 1
        try:
            yield connection
        finally:
            await asyncio.shield(connection.close())

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def transaction(
        self, *, write: bool = True, snapshot: bool = True, background: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """A connection inside a transaction that commits on success and rolls back on error.

        ``write=True`` on SQLite takes the write lock at ``BEGIN`` (``BEGIN IMMEDIATE``), so a
        transaction that reads then writes never fails to upgrade its lock halfway.
        ``write=False`` reads in one snapshot, unless ``snapshot=False``: then, on
        PostgreSQL, there is no transaction at all and each statement reads a snapshot of its
        own, which spares the ``BEGIN`` and ``COMMIT`` round trips to a reader whose answer
        comes from one statement. (SQLite's ``BEGIN`` costs no round trip: it stays.)

        ``background=True`` marks long work that must not hold up requests (a bulk job's
        batch): on SQLite, whose statements otherwise run on the event loop's thread, its
        statements run on a thread of their own at a lower priority
        (``kit.sqlite_inline``). PostgreSQL's run in the server anyway.

        Errors of the database itself, while connecting or committing, raise
        ``DatabaseUnavailable`` (caused by the driver's error) when they mean the database
        cannot serve now; any error of the block passes through as it was raised, even when
        rolling back after it fails too (the connection is gone: nothing was committed).
        """
        failure: BaseException | None = None
        committing = False
        try:
            async with self._connect() as conn, _in_background(conn, background):
                if write:
                    await conn.execution_options(**{_WRITE: True})
                elif self.is_sqlite:
                    pass  # SQLite's read transactions are snapshots already
                elif snapshot:
                    # One snapshot for the whole read (a list and its total agree).
                    await conn.execution_options(
                        isolation_level="REPEATABLE READ", postgresql_readonly=True
                    )
                else:
                    await conn.execution_options(isolation_level="AUTOCOMMIT")
                try:
                    async with conn.begin():
                        try:
                            yield conn
                        except BaseException as exc:
                            failure = exc
                            raise
                        for hook in transaction_local(conn).get(_BEFORE_COMMIT, ()):
                            await hook(conn)
                        committing = True
                finally:
                    _TRANSACTION_LOCAL.pop(conn, None)
        except Exception as exc:
            if failure is None:
                _raise_unavailable(exc, connecting=not committing)
                raise
        if failure is not None:
            raise failure

    @asynccontextmanager
    async def schema_change(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction for changing the schema (migrations), which commits on
        success and rolls back on error, as ``transaction``; a failure changes nothing.

        On PostgreSQL that is all: DDL is transactional and every constraint is checked as
        the change goes. On SQLite a change that rebuilds a table (copy, drop, rename) cannot
        run with foreign keys on: dropping a table other tables reference fails, or cascades
        into them. So this follows SQLite's procedure for such changes (``ALTER TABLE``,
        "Making Other Kinds Of Table Schema Changes"): foreign keys off on this connection
        outside the transaction (inside one the pragma does nothing), the change in one
        transaction, ``PRAGMA foreign_key_check`` before the commit (a row that references
        nothing rolls everything back with ``ForeignKeyViolation``), foreign keys on again.
        A connection whose foreign keys cannot be turned on again is discarded, never
        returned to the pool."""
        if not self.is_sqlite:
            async with self.transaction() as conn:
                yield conn
            return
        failure: BaseException | None = None
        try:
            async with self._connect() as conn:
                await conn.run_sync(_set_sqlite_foreign_keys, False)
                try:
                    await conn.execution_options(**{_WRITE: True})
                    async with conn.begin():
                        try:
                            yield conn
                            violations = await conn.run_sync(_sqlite_foreign_key_check)
                            if violations:
                                raise ForeignKeyViolation(violations)
                        except BaseException as exc:
                            failure = exc
                            raise
                finally:
                    await _restore_sqlite_foreign_keys(conn)
        except Exception as exc:
            if failure is None:
                _raise_unavailable(exc, connecting=False)
                raise
        if failure is not None:
            raise failure

    async def run(
        self,
        work: Callable[[AsyncConnection], Awaitable[T]],
        *,
        write: bool = True,
        background: bool = False,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> T:
        """``work`` in a transaction of its own, run whole again (after a pause) when the
        database gave up on it for a deadlock or a serialization failure (``is_retryable``),
        at most ``retry.attempts`` times in all; the last failure is raised. For units of work
        outside a request (maintenance, workers, commands): a request's is run by
        ``web.unitofwork``, which retries the same way."""
        for attempt in range(1, retry.attempts + 1):
            try:
                async with self.transaction(write=write, background=background) as conn:
                    return await work(conn)
            except Exception as exc:
                if attempt == retry.attempts or not is_retryable(exc):
                    raise
            await asyncio.sleep(retry.pause(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    async def dispose(self) -> None:
        await self.engine.dispose()


class ForeignKeyViolation(Exception):
    """A schema change on SQLite left rows that reference rows that do not exist; it was
    rolled back. ``violations``: how many such rows, by (table, referenced table)."""

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        self.violations: dict[tuple[str, str], int] = {}
        for table, parent in rows:
            self.violations[table, parent] = self.violations.get((table, parent), 0) + 1
        broken = ", ".join(
            f"{count} in {table} (to {parent})"
            for (table, parent), count in sorted(self.violations.items())
        )
        super().__init__(f"rows would reference rows that do not exist: {broken}")


def _set_sqlite_foreign_keys(sync_conn: Connection, on: bool) -> None:
    """``PRAGMA foreign_keys`` of this connection, outside any transaction: checked after,
    because inside one SQLite ignores it without a word. On the driver's connection, not
    through ``Connection.execute``, which would begin a transaction first."""
    cursor = sync_conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
        cursor.execute("PRAGMA foreign_keys")
        row = cursor.fetchone()
    finally:
        cursor.close()
    if row is None or bool(row[0]) != on:
        raise RuntimeError(f"SQLite refused PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _sqlite_foreign_key_check(sync_conn: Connection) -> list[tuple[str, str]]:
    """(table, referenced table) of every row whose foreign key references nothing."""
    rows = sync_conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    return [(str(row[0]), str(row[2])) for row in rows]


async def _restore_sqlite_foreign_keys(conn: AsyncConnection) -> None:
    try:
        await conn.run_sync(_set_sqlite_foreign_keys, True)
    except Exception:
        # Never hand a connection without foreign keys to the next unit of work.
        await conn.invalidate()


@asynccontextmanager
async def _in_background(conn: AsyncConnection, background: bool) -> AsyncIterator[None]:
    """Mark the SQLite connection's statements as background work while the block runs."""
    driver = None
    if background:
        driver = (await conn.get_raw_connection()).driver_connection
    if not isinstance(driver, InlineConnection):
        yield
        return
    driver.background = True
    try:
        yield
    finally:
        driver.background = False


def _raise_unavailable(exc: Exception, *, connecting: bool) -> None:
    """Raise ``DatabaseUnavailable`` from ``exc`` if the database cannot serve now: whatever
    the driver said while connecting (the request never reached the database), and errors
    that mean "not now" while committing."""
    if isinstance(exc, DatabaseUnavailable):
        return
    if is_unavailable(exc) or (connecting and isinstance(exc, DBAPIError)):
        raise DatabaseUnavailable(f"database unavailable: {type(exc).__name__}") from exc


def _create_engine(
    url: str,
    *,
    pool_size: int,
    pool_timeout: float,
    statement_timeout: float,
    connect_timeout: float,
) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        extra: dict[str, Any] = {}
        if parsed.database and parsed.database != ":memory:":
            extra["async_creator"] = inline_connector(parsed.database)
        engine = create_async_engine(
            url,
            **extra,
            json_serializer=encode_json_text,
            json_deserializer=decode_json,
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=pool_timeout,
            connect_args={"timeout": 30},
        )
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        json_serializer=encode_json_text,
        json_deserializer=decode_json,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=pool_timeout,
        # No ``pool_pre_ping``: a round trip at every checkout. A connection the server
        # dropped (restart, failover) is found out by the first statement of the request that
        # draws it, which starts again on a new one (``web.unitofwork``).
        connect_args={
            "timeout": connect_timeout,
            "command_timeout": statement_timeout + 5,
            "server_settings": {
                "statement_timeout": str(int(statement_timeout * 1000)),
                "application_name": "voxnumbers",
                # Dates as text (the export's plain COPY) in ISO form whatever the server's
                # default.
                "DateStyle": "ISO",
                # asyncpg prepares every statement. Left to choose, PostgreSQL plans a
                # prepared list statement afresh at every run for a big account (a custom
                # plan looks cheaper than the generic one by its row estimates) and reuses
                # the generic plan for small ones: the big account paid the planning, as
                # much as the statement's execution, on every request. The plans are the
                # same (an index range in list order, cut by the LIMIT), so: always generic.
                "plan_cache_mode": "force_generic_plan",
            },
        },
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (the driver would otherwise
        # start transactions lazily and make DDL non-transactional).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            "synchronous=NORMAL",
            "busy_timeout=30000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(_WRITE, False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # awaits its turn in the writers' queue
            return
        pooled = conn.connection
        driver = pooled.driver_connection
        if not isinstance(driver, InlineConnection):
            conn.exec_driver_sql("BEGIN")
            return
        # On the driver: ``exec_driver_sql`` costs 4% of a list request's CPU for it.
        try:
            driver.begin_deferred()
        except sqlite3.Error as exc:
            error, lost = as_sqlalchemy_raises(conn.dialect, pooled, "BEGIN", (), exc)
            if lost:
                conn.invalidate(exc)
            raise error from exc
