"""CPU per request of the list with and without ``db/direct.py``: in process, no server.

The app runs in this process behind httpx's ASGI transport, as the API tests run it, on a
fresh database (an SQLite file, or a PostgreSQL database made for the run and dropped after)
holding one account with ``--numbers`` numbers. Each case (the first page of 100, and of
100 in the US) runs ``--requests`` times with the direct path and as many with
``fetch_all`` sent through SQLAlchemy's ``Connection.execute``, alternating in rounds so
that drift hits both alike; ``time.process_time`` measures the process's CPU (the client's
share included, the same for both). PostgreSQL's own CPU is another process's and is not counted.

    python -m bench.direct_cpu --db sqlite
    python -m bench.direct_cpu --db postgresql --url postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
import types
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
from tests.api.support import running
from tests.factories import make_tenant
from tests.integration.numbers.test_deep_pages import owned_rows

from voxnumbers.app import create_app
from voxnumbers.db import direct
from voxnumbers.db.engine import Database
from voxnumbers.migrations import upgrade_to_head
from voxnumbers.numbers.service.seeding import seed_owned_numbers
from voxnumbers.settings import Settings

CASES = {"page 1": "?per_page=100", "US page 1": "?country=US&per_page=100"}
BENCH_DATABASE = "vox_direct_cpu"


class _NoDriver:
    """A driver class no connection is: ``fetch_all`` then takes SQLAlchemy's path."""


@contextlib.contextmanager
def sqlalchemy_path() -> Iterator[None]:
    """``fetch_all`` as ``(await conn.execute(query, parameters)).all()``, on any driver."""
    inline, driver = direct.InlineConnection, direct.asyncpg
    direct.InlineConnection = _NoDriver  # type: ignore[misc]
    direct.asyncpg = types.SimpleNamespace(Connection=_NoDriver)  # type: ignore[assignment]
    try:
        yield
    finally:
        direct.InlineConnection, direct.asyncpg = inline, driver  # type: ignore[misc]


@contextlib.asynccontextmanager
async def database_url(kind: str, server: str) -> AsyncIterator[str]:
    """The SQLAlchemy URL of an empty database for the run, removed after it."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        return
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")
        await admin.execute(f"CREATE DATABASE {BENCH_DATABASE}")
        base = server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        yield f"{base}/{BENCH_DATABASE}"
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        await admin.close()


async def cpu_per_request(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], n: int
) -> float:
    """Microseconds of this process's CPU per request, over ``n`` requests."""
    start = time.process_time()
    for _ in range(n):
        response = await http.get(url, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code} {response.text[:200]}")
    return (time.process_time() - start) / n * 1e6


async def measure(kind: str, server: str, numbers: int, requests: int, rounds: int) -> None:
    async with database_url(kind, server) as url:
        database = Database(url)
        await upgrade_to_head(database)
        tenant = await make_tenant(database)
        async with database.transaction() as conn:
            await seed_owned_numbers(conn, owned_rows(tenant.account_id, numbers))
        app = create_app(
            Settings(log_level="warning", run_worker=False, rate_limit_per_minute=0), database
        )
        async with running(app) as http:
            results: dict[tuple[str, str], list[float]] = {}
            for name, query in CASES.items():
                path = tenant.path(f"/numbers{query}")
                await cpu_per_request(http, path, tenant.bearer, 200)  # warm up both
                with sqlalchemy_path():
                    await cpu_per_request(http, path, tenant.bearer, 200)
                for _ in range(rounds):
                    each = requests // rounds
                    results.setdefault((name, "direct"), []).append(
                        await cpu_per_request(http, path, tenant.bearer, each)
                    )
                    with sqlalchemy_path():
                        results.setdefault((name, "sqlalchemy"), []).append(
                            await cpu_per_request(http, path, tenant.bearer, each)
                        )
        await database.dispose()
    print(f"| {kind} | case | direct µs | SQLAlchemy µs | saved |")
    print("|---|---|---:|---:|---:|")
    for name in CASES:
        fast = sum(results[name, "direct"]) / rounds
        slow = sum(results[name, "sqlalchemy"]) / rounds
        print(f"| {kind} | {name} | {fast:.0f} | {slow:.0f} | {(slow - fast) / slow:.1%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), required=True)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--numbers", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(measure(args.db, args.url, args.numbers, args.requests, args.rounds))


if __name__ == "__main__":
    main()
