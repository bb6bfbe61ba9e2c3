"""One transaction per ``/v1`` request, from authentication to the response.

The first use opens it (the authentication guard looks the key up in it), so the key lookup
and the handler's statements share one transaction and one pooled connection: one ``BEGIN``
and one ``COMMIT`` per request. ``provide_transaction`` hands it to the handler and commits
it once the handler has succeeded, before the response is sent; a request that ends any
other way (refused by a guard or the shape check, a handler that raised) is rolled back by
``unit_of_work_middleware``. Safe methods read in a read-only snapshot; the others write
(on SQLite, ``BEGIN IMMEDIATE``: the write lock is taken before the first read).

A handler whose answer comes from one statement says so with ``opt={"snapshot": False}``:
its reads then run without a transaction on PostgreSQL (``Database.transaction``), each
statement its own snapshot, two round trips fewer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any, TypeVar

from litestar.connection import ASGIConnection
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.kit.db import Database, DatabaseUnavailable, is_connection_lost

T = TypeVar("T")
_STATE = "unit_of_work"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class UnitOfWork:
    """A request's transaction, opened on first use and closed exactly once."""

    def __init__(self, database: Database, *, write: bool, snapshot: bool = True) -> None:
        self._database = database
        self._write = write
        self._snapshot = snapshot
        self._stack: AsyncExitStack | None = None
        self._conn: AsyncConnection | None = None

    async def connection(self) -> AsyncConnection:
        """The transaction's connection (``DatabaseUnavailable`` if it cannot start)."""
        if self._conn is None:
            stack = AsyncExitStack()
            self._conn = await stack.enter_async_context(
                self._database.transaction(write=self._write, snapshot=self._snapshot)
            )
            self._stack = stack
        return self._conn

    async def first_statement(self, run: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """``run`` as the unit's first statement. If the pooled connection turns out to be
        dead (the server restarted since it was last used), start again once on a new one:
        this is what spares every checkout a round trip to test the connection."""
        try:
            return await run(await self.connection())
        except (DBAPIError, DatabaseUnavailable) as exc:
            if not is_connection_lost(exc):
                raise
            await self.rollback(exc)
        return await run(await self.connection())

    async def commit(self) -> None:
        """Commit (``DatabaseUnavailable`` if the database cannot)."""
        stack, self._stack, self._conn = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    async def rollback(self, error: BaseException | None = None) -> None:
        """Roll back, because of ``error`` when there is one (never raises it again)."""
        stack, self._stack, self._conn = self._stack, None, None
        if stack is None:
            return
        error = error or _Abandoned()
        try:
            await stack.__aexit__(type(error), error, error.__traceback__)
        except BaseException as raised:
            if raised is not error:
                raise


class _Abandoned(Exception):
    """The request ended before its handler could commit."""


def unit_of_work(connection: ASGIConnection[Any, Any, Any, Any]) -> UnitOfWork:
    """The request's unit of work (created on first call)."""
    state = connection.scope["state"]
    unit: UnitOfWork | None = state.get(_STATE)
    if unit is None:
        method = connection.scope.get("method", "GET")
        handler = connection.scope.get("route_handler")
        unit = state[_STATE] = UnitOfWork(
            connection.app.state.database,
            write=method not in SAFE_METHODS,
            snapshot=handler is None or handler.opt.get("snapshot", True),
        )
    return unit


def unit_of_work_middleware(app: ASGIApp) -> ASGIApp:
    """Roll back a unit of work the request left open (it was refused or failed)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        finally:
            unit: UnitOfWork | None = scope["state"].pop(_STATE, None)
            if unit is not None:
                await unit.rollback()

    return middleware
