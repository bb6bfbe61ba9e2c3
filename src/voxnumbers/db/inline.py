"""SQLite for SQLAlchemy's asyncio engine without a thread hop per call.

SQLAlchemy's ``aiosqlite`` dialect sends every call (cursor, execute, fetch, close, commit)
to a thread of its own and back; a list request makes about twenty such calls, and each
hop costs more CPU than the statement it carries. This module gives the dialect a
connection with aiosqlite's interface that runs the calls where they are made, which is
safe because a SQLite statement on indexed data takes microseconds and never waits for
another connection in WAL mode, except in two cases it handles:

- **Waiting for the write lock.** The process's writers queue for it first, in order, on
  the event loop (``WriterQueue``): one connection at a time asks SQLite for it, and the
  next starts the moment the one before commits, instead of sleeping in SQLite's busy
  handler, whose naps grow to 100 ms. ``BEGIN IMMEDIATE`` is then tried without waiting;
  when another process holds the lock, it waits on a worker thread (``busy_timeout``), so
  the event loop goes on serving everyone else.
- **Long reads.** A ``SELECT`` that runs past ``inline_steps`` steps of SQLite's virtual
  machine (100,000 by default, a few milliseconds; a page of 100 numbers takes about 3,000)
  is interrupted and run again on a worker thread: a count by scanning a million rows, say.
  A ``SELECT`` has no effect to undo, and interrupting one does not end its transaction.
  Steps, unlike time, cost nothing to count and do not depend on how busy the machine is.

A transaction may also be marked as **background** work (``background``: a bulk job's
batch, whose statements each write hundreds of rows). Its statements, fetches and commit
then all run on one worker thread kept for such work, at a lower CPU priority: SQLite
releases the GIL while it works, so the event loop goes on serving requests meanwhile, and
on a busy core the requests come first.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")

# SQLite VM steps between two calls of the progress handler.
_PROGRESS_STEPS = 10_000
# How much nicer than the process the thread of background statements runs (Linux: a
# thread's own scheduling priority; elsewhere it runs at the process's).
BACKGROUND_NICENESS = 10


class InlineConnection:
    """What SQLAlchemy's aiosqlite adapter uses of ``aiosqlite.Connection``."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        busy_timeout: float,
        inline_steps: int,
        writers: WriterQueue | None = None,
    ):
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn
        self._busy_timeout_ms = int(busy_timeout * 1000)
        self._writers = writers or WriterQueue(busy_timeout)
        self._writing = False  # holds its place at the head of ``_writers``
        self._inline_calls = inline_steps // _PROGRESS_STEPS
        # SQLAlchemy's adapter sets the isolation level through aiosqlite's queue.
        self._tx = _ImmediateQueue()
        #: The transaction in hand is background work (see the module's docstring).
        self.background = False

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self, self._conn.cursor())

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        cursor = self.cursor()
        await cursor.execute(sql, parameters)
        return cursor

    def begin_deferred(self) -> None:
        """``BEGIN`` (deferred: it takes no lock, so it never waits), called without
        awaiting: from SQLAlchemy's synchronous ``begin`` event, with no greenlet switch."""
        self._conn.execute("BEGIN")

    async def fetch_all(
        self, sql: str, parameters: Sequence[Any], *, on_thread: bool = False
    ) -> list[Any]:
        """The rows of one ``SELECT`` (inline, or on a thread when it runs long), without
        SQLAlchemy's cursor in between (``db.direct``). ``on_thread``: on a worker thread
        from the start, rows included (a read of many rows: the event loop goes on, and
        SQLite's part of the work runs beside it)."""
        cursor = self._conn.cursor()
        try:
            if on_thread:
                return await _started_on_thread(_fetch_all, cursor, sql, parameters)
            await self.run(cursor, sql, parameters)
            return await self.call(cursor.fetchall)
        finally:
            cursor.close()

    async def commit(self) -> None:
        try:
            await self.call(self._conn.commit)
        finally:
            self._done_writing()

    async def rollback(self) -> None:
        try:
            await self.call(self._conn.rollback)
        finally:
            self._done_writing()

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)``: here, or on the background thread for background work."""
        if self.background:
            return await _in_background(function, *args)
        return function(*args)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            try:
                self._conn.close()
            finally:
                self._done_writing()

    def _done_writing(self) -> None:
        if self._writing:
            self._writing = False
            self._writers.release()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def run(self, cursor: sqlite3.Cursor, sql: str, parameters: Any) -> None:
        """Execute one statement, inline when it is quick, on a thread when it must wait."""
        head = sql.lstrip()[:16].upper()
        if head.startswith("BEGIN IMMEDIATE"):
            await self._begin_immediate(cursor, sql)
        elif self.background:
            await _in_background(_execute, cursor, sql, parameters)
        elif head.startswith(("SELECT", "WITH")) and self._inline_calls > 0:
            await self._select(cursor, sql, parameters)
        else:
            _execute(cursor, sql, parameters)

    async def _begin_immediate(self, cursor: sqlite3.Cursor, sql: str) -> None:
        if not self._writing:
            await self._writers.acquire()
            self._writing = True
        try:
            await self._take_write_lock(cursor, sql)
        except BaseException:
            self._done_writing()
            raise

    async def _take_write_lock(self, cursor: sqlite3.Cursor, sql: str) -> None:
        cursor.execute("PRAGMA busy_timeout=0")
        try:
            cursor.execute(sql)
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
        finally:
            cursor.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
        await _on_thread(cursor.execute, sql)

    async def _select(self, cursor: sqlite3.Cursor, sql: str, parameters: Any) -> None:
        calls = itertools.count(1)
        limit = self._inline_calls
        self._conn.set_progress_handler(lambda: next(calls) > limit, _PROGRESS_STEPS)
        try:
            _execute(cursor, sql, parameters)
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_INTERRUPT:
                raise
        finally:
            self._conn.set_progress_handler(None, 0)
        await _on_thread(_execute, cursor, sql, parameters)


class InlineCursor:
    """What SQLAlchemy's adapter uses of ``aiosqlite.Cursor``."""

    def __init__(self, connection: InlineConnection, cursor: sqlite3.Cursor):
        self._connection = connection
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        await self._connection.run(self._cursor, sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        await self._connection.call(self._cursor.executemany, sql, parameters)
        return self

    async def fetchall(self) -> list[Any]:
        return await self._connection.call(self._cursor.fetchall)

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size or self._cursor.arraysize)

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Sequence[Any] | None:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _ImmediateQueue:
    """Stands for aiosqlite's call queue: runs the call now and settles its future."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except Exception as exc:
            if future is not None:
                future.set_exception(exc)
            return
        if future is not None:
            future.set_result(result)


class WriterQueue:
    """The write transactions of one process on one database file, one at a time, in the
    order they asked (``asyncio.Lock`` wakes its waiters first come, first served).

    Kept per event loop: a lock belongs to the loop it first waited on, and a command or a
    test may run the same engine on several loops one after another.
    """

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._held: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    async def acquire(self) -> None:
        """Wait for this process's earlier writers; after ``timeout`` seconds raise what
        SQLite raises when its own wait for the lock runs out."""
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        try:
            async with asyncio.timeout(self._timeout):
                await lock.acquire()
        except TimeoutError:
            busy = sqlite3.OperationalError("database is locked")
            busy.sqlite_errorcode = sqlite3.SQLITE_BUSY
            raise busy from None
        self._held = (loop, lock)

    def release(self) -> None:
        """Let the next writer go (from any thread: the pool may close a connection from
        the garbage collector)."""
        held, self._held = self._held, None
        if held is None:
            return
        loop, lock = held
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            lock.release()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(lock.release)


def _execute(cursor: sqlite3.Cursor, sql: str, parameters: Any) -> None:
    if parameters is None:
        cursor.execute(sql)
    else:
        cursor.execute(sql, parameters)


def _fetch_all(cursor: sqlite3.Cursor, sql: str, parameters: Any) -> list[Any]:
    _execute(cursor, sql, parameters)
    return cursor.fetchall()


async def _on_thread(function: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(None, partial(function, *args))


# How long the event loop waits, at most, for a read's worker thread to take the GIL.
THREAD_START_SECONDS = 0.002


async def _started_on_thread(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` on a worker thread, the event loop held until the thread runs
    (at most ``THREAD_START_SECONDS``). A busy event loop releases the GIL at every turn
    and takes it back at once; CPython makes the holder hand it over only when a waiting
    thread saw no release for 5 ms, so the worker waits until the loop is idle. The
    export, which writes a batch while SQLite reads the next and gives the loop a turn
    every couple of milliseconds, read and wrote by turns without this (2.6 s for a
    million numbers in process, 1.4 s with it): the wait hands the GIL over, and SQLite
    releases it while it works."""
    started = threading.Event()

    def run() -> T:
        started.set()
        return function(*args)

    done = asyncio.get_running_loop().run_in_executor(None, run)
    started.wait(THREAD_START_SECONDS)
    return await done


_background: ThreadPoolExecutor | None = None


def _nicer() -> None:
    """Lower the calling thread's CPU priority by ``BACKGROUND_NICENESS``."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not allowed
        thread = threading.get_native_id()
        os.setpriority(
            os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + BACKGROUND_NICENESS
        )


async def _in_background(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` on the thread of background statements (one, in order)."""
    global _background
    if _background is None:
        _background = ThreadPoolExecutor(1, "sqlite-background", initializer=_nicer)
    return await asyncio.get_running_loop().run_in_executor(_background, partial(function, *args))


def inline_connector(
    path: str, *, busy_timeout: float = 30.0, inline_steps: int = 100_000
) -> Callable[[], Any]:
    """An ``async_creator`` for ``create_async_engine("sqlite+aiosqlite://", ...)``: its
    connections queue their write transactions together."""
    writers = WriterQueue(busy_timeout)

    async def connect() -> InlineConnection:
        conn = sqlite3.connect(
            path,
            timeout=busy_timeout,
            isolation_level=None,
            check_same_thread=False,
            uri=path.startswith("file:"),
        )
        return InlineConnection(
            conn, busy_timeout=busy_timeout, inline_steps=inline_steps, writers=writers
        )

    return connect
