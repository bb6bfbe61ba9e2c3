"""SQLite statements run on the event loop's thread, except those that would hold it up:
a long read moves to a worker thread, and so does waiting for another connection's lock."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from voxnumbers.db import inline as inline_module
from voxnumbers.db.engine import Database
from voxnumbers.db.inline import WriterQueue

# Far more steps of SQLite's virtual machine than it runs inline (100,000).
LONG_READ = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) "
    "SELECT count(*), thread_id() FROM c"
)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'inline.sqlite3'}")

    @event.listens_for(database.engine.sync_engine, "connect")
    def _thread_id(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("thread_id", 0, threading.get_ident)

    async with database.transaction() as conn:
        await conn.execute(text("CREATE TABLE t (x INTEGER)"))
    yield database
    await database.dispose()


class Ticker:
    """Counts how often the event loop got to run it while something else was going on."""

    def __init__(self) -> None:
        self.ticks = 0
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(0.001)
            self.ticks += 1

    def stop(self) -> int:
        self._task.cancel()
        return self.ticks


async def test_quick_statements_run_on_the_event_loop_thread(database: Database) -> None:
    async with database.transaction() as conn:
        await conn.execute(text("INSERT INTO t VALUES (1)"))
        assert (await conn.execute(text("SELECT thread_id()"))).scalar_one() == (
            threading.get_ident()
        )
    async with database.transaction(write=False) as conn:
        assert (await conn.execute(text("SELECT thread_id()"))).scalar_one() == (
            threading.get_ident()
        )
        assert (await conn.execute(text("SELECT x FROM t"))).scalar_one() == 1


async def test_a_long_read_moves_to_a_worker_thread_and_the_loop_goes_on(
    database: Database,
) -> None:
    ticker = Ticker()
    async with database.transaction(write=False) as conn:
        count, thread = (await conn.execute(text(LONG_READ))).one()
    assert count == 2_000_000
    assert thread != threading.get_ident()
    assert ticker.stop() > 0


async def test_a_long_read_of_the_driver_path_moves_to_a_worker_thread_too(
    database: Database,
) -> None:
    """``InlineConnection.fetch_all``, the driver's side of ``db.direct``."""
    ticker = Ticker()
    async with database.transaction(write=False) as conn:
        inline = (await conn.get_raw_connection()).driver_connection
        [(count, thread)] = await inline.fetch_all(LONG_READ, [])
        [(quick_thread,)] = await inline.fetch_all("SELECT thread_id()", [])
    assert count == 2_000_000
    assert thread != threading.get_ident() and quick_thread == threading.get_ident()
    assert ticker.stop() > 0


async def test_a_read_on_a_worker_thread_starts_while_the_event_loop_is_busy(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read sent to a worker thread starts at once even when the event loop never idles:
    here a task computes for a millisecond or so at a time and gives the loop a turn in
    between, as an export writing one batch while the next is read. Left to itself the
    worker would take the GIL only once that task is done (CPython hands it over when a
    waiting thread saw no release for 5 ms, and each turn releases it)."""
    turns = 0
    started_at: list[int] = []
    fetch_all = inline_module._fetch_all

    def recorded(*args: Any) -> list[Any]:
        started_at.append(turns)
        return fetch_all(*args)

    async def busy() -> None:
        nonlocal turns
        for turns in range(1, 101):
            sum(range(100_000))
            await asyncio.sleep(0)

    monkeypatch.setattr(inline_module, "_fetch_all", recorded)
    async with database.transaction(write=False) as conn:
        inline = (await conn.get_raw_connection()).driver_connection
        await inline.fetch_all("SELECT 1", [], on_thread=True)  # a worker thread waits
        working = asyncio.create_task(busy())
        await asyncio.sleep(0)
        [(count, thread)] = await inline.fetch_all(LONG_READ, [], on_thread=True)
        await working
    assert count == 2_000_000 and thread != threading.get_ident()
    assert turns == 100 and started_at[1] < 10, started_at


async def test_a_background_transaction_runs_its_statements_off_the_loop(
    database: Database,
) -> None:
    """A bulk job's batch: every statement, its fetch and the commit run on the background
    thread, so the loop serves others meanwhile; a request's transaction after it on the
    same pooled connection runs inline again."""
    ticker = Ticker()
    async with database.transaction(background=True) as conn:
        await conn.execute(text("INSERT INTO t VALUES (3)"))
        await conn.execute(text("INSERT INTO t VALUES (:x)"), [{"x": 4}, {"x": 5}])
        quick = (await conn.execute(text("SELECT thread_id()"))).scalar_one()
        count, long = (await conn.execute(text(LONG_READ))).one()
    assert count == 2_000_000
    assert quick != threading.get_ident() and long != threading.get_ident()
    assert ticker.stop() > 0
    async with database.transaction(write=False) as conn:
        assert (await conn.execute(text("SELECT thread_id()"))).scalar_one() == (
            threading.get_ident()
        )
        assert (await conn.execute(text("SELECT x FROM t ORDER BY x"))).scalars().all() == [
            3,
            4,
            5,
        ]


async def test_a_failed_background_transaction_rolls_back(database: Database) -> None:
    with pytest.raises(Exception, match="no such table"):
        async with database.transaction(background=True) as conn:
            await conn.execute(text("INSERT INTO t VALUES (6)"))
            await conn.execute(text("INSERT INTO missing VALUES (1)"))
    async with database.transaction(write=False) as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0


async def test_a_long_read_inside_a_write_keeps_the_transaction(database: Database) -> None:
    """Interrupting a SELECT to run it again elsewhere must not roll back what the
    transaction wrote before it."""
    async with database.transaction() as conn:
        await conn.execute(text("INSERT INTO t VALUES (7)"))
        count, _ = (await conn.execute(text(LONG_READ))).one()
        assert count == 2_000_000
        await conn.execute(text("INSERT INTO t VALUES (8)"))
    async with database.transaction(write=False) as conn:
        assert (await conn.execute(text("SELECT x FROM t ORDER BY x"))).scalars().all() == [7, 8]


async def test_waiting_for_the_write_lock_leaves_the_loop_free(
    database: Database, tmp_path: Path
) -> None:
    holder = sqlite3.connect(tmp_path / "inline.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")

    async def write() -> list[int]:
        async with database.transaction() as conn:
            await conn.execute(text("INSERT INTO t VALUES (2)"))
            return list((await conn.execute(text("SELECT x FROM t ORDER BY x"))).scalars())

    ticker = Ticker()
    writer = asyncio.create_task(write())
    await asyncio.sleep(0.1)
    assert ticker.ticks > 0 and not writer.done()  # the loop runs while the writer waits
    holder.execute("COMMIT")
    holder.close()
    assert await writer == [1, 2]
    ticker.stop()


async def test_errors_of_statements_reach_the_caller(database: Database) -> None:
    with pytest.raises(Exception, match="no such table"):
        async with database.transaction(write=False) as conn:
            await conn.execute(text("SELECT * FROM missing"))
    with pytest.raises(Exception, match="no such table"):
        async with database.transaction() as conn:
            await conn.execute(text("INSERT INTO missing VALUES (1)"))
    async with database.transaction(write=False) as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0


async def test_writers_of_one_process_take_the_lock_in_the_order_they_asked(
    tmp_path: Path,
) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'queue.sqlite3'}", pool_size=12)
    async with database.transaction() as conn:
        await conn.execute(text("CREATE TABLE t (x INTEGER)"))
    first_may_commit = asyncio.Event()

    async def write(x: int, hold: asyncio.Event | None = None) -> None:
        async with database.transaction() as conn:
            await conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": x})
            if hold is not None:
                await hold.wait()

    writers = [asyncio.create_task(write(0, first_may_commit))]
    for x in range(1, 11):
        await asyncio.sleep(0.01)  # each asks after the one before
        writers.append(asyncio.create_task(write(x)))
    await asyncio.sleep(0.01)
    first_may_commit.set()
    async with asyncio.timeout(10):
        await asyncio.gather(*writers)
    async with database.transaction(write=False) as conn:
        order = (await conn.execute(text("SELECT x FROM t ORDER BY rowid"))).scalars().all()
    await database.dispose()
    assert order == list(range(11))


async def test_a_failed_write_lets_the_next_writer_in(database: Database) -> None:
    with pytest.raises(Exception, match="no such table"):
        async with database.transaction() as conn:
            await conn.execute(text("INSERT INTO missing VALUES (1)"))
    async with asyncio.timeout(5):  # would wait forever if the failed writer kept its turn
        async with database.transaction() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))


async def test_a_writer_queued_past_the_busy_timeout_is_told_the_database_is_locked() -> None:
    writers = WriterQueue(timeout=0.05)
    await writers.acquire()
    with pytest.raises(sqlite3.OperationalError, match="database is locked") as refused:
        await writers.acquire()
    assert refused.value.sqlite_errorcode == sqlite3.SQLITE_BUSY
    writers.release()
    await writers.acquire()  # the turn passed on
    writers.release()
