"""Reference (b): the database alone, running the SQL the service runs for one request.

``capture`` runs one request through the real application in process and records every
statement it sends to the database (with its parameters, as the driver receives them):
whatever the service's queries become, this reference follows. ``replay`` (run by the
harness pinned to the server's core) sends those statements again and again on one
connection with the plain driver (asyncpg or sqlite3), one request's statements per round
inside one transaction, and prints rounds per second and latency percentiles as JSON.

    python -m bench.dbref replay FILE --seconds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pickle
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from bench.common import SERVER_CORE, Target
from voxnumbers.app import create_app
from voxnumbers.db.engine import Database
from voxnumbers.settings import Settings

_NOT_QUERIES = ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT", "RELEASE", "SET ")


async def capture(
    db_target: Target, method: str, path: str, headers: dict[str, str]
) -> tuple[int, list[tuple[str, Any]]]:
    """The response status and the statements one request runs, in order."""
    settings = Settings(database_url=db_target.url, run_worker=False, log_level="warning")
    database = Database(settings.resolved_database_url)
    statements: list[tuple[str, Any]] = []

    def _record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(_NOT_QUERIES):
            statements.append((statement, parameters))

    app = create_app(settings, database)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await client.request(method, path, headers=headers)  # warm: prepared, cached
            event.listen(database.engine.sync_engine, "before_cursor_execute", _record)
            response = await client.request(method, path, headers=headers)
    finally:
        await database.dispose()
    return response.status_code, statements


def replay(
    kind: str, url: str, statements: list[tuple[str, Any]], seconds: float
) -> dict[str, Any]:
    """Rounds per second and per-round latency of the statements on one connection."""
    if kind == "sqlite":
        return _replay_sqlite(url, statements, seconds)
    return asyncio.run(_replay_postgresql(url, statements, seconds))


def _summary(durations_ns: list[int], seconds: float, statements: int) -> dict[str, Any]:
    durations_ns.sort()
    return {
        "rounds": len(durations_ns),
        "rounds_per_s": len(durations_ns) / seconds,
        "statements": statements,
        "p50_ms": statistics.median(durations_ns) / 1e6,
        "p99_ms": durations_ns[int(len(durations_ns) * 0.99)] / 1e6,
    }


def _replay_sqlite(url: str, statements: list[tuple[str, Any]], seconds: float) -> dict[str, Any]:
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    durations: list[int] = []
    started = time.perf_counter()
    deadline = started + seconds
    while (now := time.perf_counter_ns()) / 1e9 < deadline:
        conn.execute("BEGIN")
        for statement, parameters in statements:
            conn.execute(statement, parameters or ()).fetchall()
        conn.execute("COMMIT")
        durations.append(time.perf_counter_ns() - now)
    elapsed = time.perf_counter() - started
    conn.close()
    return _summary(durations, elapsed, len(statements))


async def _replay_postgresql(
    url: str, statements: list[tuple[str, Any]], seconds: float
) -> dict[str, Any]:
    import asyncpg

    conn = await asyncpg.connect(url, server_settings={"application_name": "bench-dbref"})
    try:
        backend = await conn.fetchval("SELECT pg_backend_pid()")
        os.sched_setaffinity(backend, {SERVER_CORE})  # the database shares the server's core
        # asyncpg prepares and caches each statement on first use, as it does in the service
        prepared = [(s, tuple(p or ())) for s, p in statements]
        durations: list[int] = []
        started = time.perf_counter()
        deadline = started + seconds
        while (now := time.perf_counter_ns()) / 1e9 < deadline:
            # as the service reads: one snapshot, read only
            await conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            for statement, parameters in prepared:
                await conn.fetch(statement, *parameters)
            await conn.execute("COMMIT")
            durations.append(time.perf_counter_ns() - now)
        elapsed = time.perf_counter() - started
    finally:
        await conn.close()
    return _summary(durations, elapsed, len(statements))


def main() -> None:
    parser = argparse.ArgumentParser(description="Replay captured statements (reference b).")
    parser.add_argument("command", choices=["replay"])
    parser.add_argument("file", type=Path, help="pickle of {kind, url, statements}")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    job = pickle.loads(args.file.read_bytes())
    result = replay(job["kind"], job["url"], job["statements"], args.seconds)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
