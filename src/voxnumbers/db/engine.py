"""The engine of a database and the transactions run on it: one per unit of work, retried
whole when the database gave up on it.

The same code runs on SQLite (WAL, foreign keys on; SQLAlchemy's aiosqlite dialect over the
inline connection of ``db.inline`` for database files) and PostgreSQL (asyncpg).
A unit of work is a transaction: callers (a request, a CLI command) own it; it commits when
the block ends normally and rolls back on any exception. When the database cannot start or
commit it (unreachable, restarting, out of connections), ``DatabaseUnavailable`` is raised,
whatever the driver said; errors raised inside the block pass through unchanged and
``is_unavailable`` tells an outage from a bug (``db.errors``). Callers answer "retry later"
for the first, never ``500``.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from voxnumbers.db.errors import (
    ForeignKeyViolation,
    as_sqlalchemy_raises,
    is_retryable,
    raise_if_unavailable,
)
from voxnumbers.db.inline import InlineConnection, inline_connector
from voxnumbers.kit.jsonc import decode_json, encode_json_text

_WRITE = "vox_write"
T = TypeVar("T")

_BEFORE_COMMIT = "vox_before_commit"


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
        (``db.inline``). PostgreSQL's run in the server anyway.

        Errors of the database itself, while connecting or committing, raise
        ``DatabaseUnavailable`` (caused by the driver's error) when they mean the database
        cannot serve now; any error of the block passes through as it was raised, even when
        rolling back after it fails too (the connection is gone: nothing was committed).
        """
        failure: BaseException | None = None
        committing = False
        try:
            async with self._connect() as conn, _in_background(conn, background):
                unit: AbstractAsyncContextManager[Any]
                if not write and not snapshot and not self.is_sqlite:
                    unit = _statements_alone(conn)
                else:
                    if write:
                        await conn.execution_options(**{_WRITE: True})
                    elif not self.is_sqlite:  # SQLite's read transactions are snapshots
                        # One snapshot for the whole read (a list and its total agree).
                        await conn.execution_options(
                            isolation_level="REPEATABLE READ", postgresql_readonly=True
                        )
                    unit = conn.begin()
                try:
                    async with unit:
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
                raise_if_unavailable(exc, connecting=not committing)
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
                raise_if_unavailable(exc, connecting=False)
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
async def _statements_alone(conn: AsyncConnection) -> AsyncIterator[None]:
    """PostgreSQL's reads without a transaction: each statement in a snapshot of its own.

    The asyncpg adapter's own ``autocommit`` is set for the block and cleared after it,
    rather than SQLAlchemy's ``AUTOCOMMIT`` isolation level with a ``begin()`` and a
    ``commit()`` around the block: those cost three trips through SQLAlchemy's greenlet
    (and a fourth to reset the level as the connection returns to the pool) and send
    nothing to the database. The statements run as they would in ``AUTOCOMMIT``: on the
    driver (``db.direct``), or through ``Connection.execute``, whose transaction (begun by
    SQLAlchemy, none in the adapter) ends here; a statement that fails leaves nothing to
    roll back."""
    assert conn.sync_connection is not None
    adapter: Any = conn.sync_connection.connection.dbapi_connection
    adapter.autocommit = True
    try:
        yield
        if conn.in_transaction():
            await conn.commit()
    finally:
        if conn.in_transaction():
            await conn.rollback()
        adapter.autocommit = False  # as the pool's next user expects it


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


def _create_engine(
    url: str,
    *,
    pool_size: int,
    pool_timeout: float,
    statement_timeout: float,
    connect_timeout: float,
) -> AsyncEngine:
    parsed = make_url(url)
    pool_and_json: dict[str, Any] = {
        "json_serializer": encode_json_text,
        "json_deserializer": decode_json,
        "pool_size": pool_size,
        "max_overflow": 0,
        "pool_timeout": pool_timeout,
    }
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        extra: dict[str, Any] = {}
        if parsed.database and parsed.database != ":memory:":
            extra["async_creator"] = inline_connector(parsed.database)
        engine = create_async_engine(url, **extra, **pool_and_json, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        **pool_and_json,
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
