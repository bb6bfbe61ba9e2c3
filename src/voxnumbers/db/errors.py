"""What the drivers' errors mean to a unit of work: the database unavailable (retry later),
a transaction it gave up on (run it again), a connection lost (start again on another).

SQLite's and asyncpg's errors reach here as SQLAlchemy's ``DBAPIError`` (with the driver's
error on ``.orig``), whether the statement went through ``Connection.execute`` or straight
to the driver (``db.direct``, whose errors ``as_sqlalchemy_raises`` makes the same).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy import Dialect
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import PoolProxiedConnection

# SQLSTATE classes that mean "not now" rather than "never": connection exception (08),
# insufficient resources (53: too many connections, disk full), operator intervention
# (57: shutting down, starting up, statement timeout, cancelled).
_UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "57"})


# SQLSTATEs of a transaction the database gave up on so that another could go on: deadlock
# detected, serialization failure. Nothing of it was committed; run whole again, it succeeds.
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
# SQLite's "busy" family: the write lock could not be had in time.
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


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


def raise_if_unavailable(exc: Exception, *, connecting: bool) -> None:
    """Raise ``DatabaseUnavailable`` from ``exc`` if the database cannot serve now: whatever
    the driver said while connecting (the request never reached the database), and errors
    that mean "not now" while committing."""
    if isinstance(exc, DatabaseUnavailable):
        return
    if is_unavailable(exc) or (connecting and isinstance(exc, DBAPIError)):
        raise DatabaseUnavailable(f"database unavailable: {type(exc).__name__}") from exc


_DRIVER_ERRORS = (sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError)


def as_sqlalchemy_raises(
    dialect: Dialect,
    pooled: PoolProxiedConnection,
    sql: str,
    arguments: Sequence[Any],
    exc: Exception,
) -> tuple[Exception, bool]:
    """The error SQLAlchemy raises for a driver's ``exc``, and whether the connection is
    gone (its caller invalidates it then, as SQLAlchemy would). The driver's own errors
    become ``DBAPIError`` (of the DB-API class of the same name, with the driver's error and
    its SQLSTATE on ``.orig``), others (a timeout, a socket error) stay as they are, unless
    the connection is gone: then a ``DBAPIError`` says so."""
    # ``is_disconnect`` is typed for the DB-API module's ``Error``, but the dialects' checks
    # take any exception (a class test, then the message) and get here the driver's own
    # error or a socket error; tests check they answer as for SQLAlchemy's path. No typed
    # spelling exists short of a cast, which would say the same less plainly.
    lost = dialect.is_disconnect(exc, pooled.dbapi_connection, None)  # type: ignore[arg-type]
    if not lost and not isinstance(exc, _DRIVER_ERRORS):
        return exc, False
    error = DBAPIError.instance(
        sql, arguments, exc, Exception, connection_invalidated=lost, dialect=dialect
    )
    return error, lost
