"""Test databases for both engines, from the same test code.

Every database test runs on SQLite. It also runs on PostgreSQL when ``CI=true`` (then a
reachable server is required, never skipped) or when ``VOX_TEST_POSTGRES_URL`` is set;
otherwise the run says plainly, at its start and end, that PostgreSQL was skipped.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from voxnumbers.db.engine import Database
from voxnumbers.db.tables import metadata
from voxnumbers.migrations import upgrade_to_head

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_ADMIN_URL = os.environ.get("VOX_TEST_POSTGRES_URL") or (
    "postgresql://postgres@127.0.0.1:5432/postgres" if IN_CI else ""
)
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_ADMIN_URL else ["sqlite"]
_SKIPPED_POSTGRES = (
    "PostgreSQL tests SKIPPED: ran on SQLite only. Set CI=true or "
    "VOX_TEST_POSTGRES_URL=postgresql://user@host/postgres to run them too."
)


def pytest_report_header(config: pytest.Config) -> str:
    if POSTGRES_ADMIN_URL:
        return f"databases: sqlite, postgresql ({_redact(POSTGRES_ADMIN_URL)})"
    return _SKIPPED_POSTGRES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not POSTGRES_ADMIN_URL:
        terminalreporter.write_line(_SKIPPED_POSTGRES, yellow=True, bold=True)


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """``create_app`` configures structlog for the process; no test inherits another's."""
    yield
    structlog.reset_defaults()


def _redact(url: str) -> str:
    return url.split("@")[-1]


def _async_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"

    async def _build() -> None:
        database = Database(f"sqlite+aiosqlite:///{path}")
        await upgrade_to_head(database)
        await database.dispose()

    asyncio.run(_build())
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, migrated once, dropped at the end."""
    if not POSTGRES_ADMIN_URL:
        pytest.fail("PostgreSQL requested without VOX_TEST_POSTGRES_URL or CI=true")
    name = f"voxnumbers_test_{uuid.uuid4().hex[:8]}"
    admin_url = _async_url(POSTGRES_ADMIN_URL)
    base = admin_url.rsplit("/", 1)[0]

    async def _admin(statement: str) -> None:
        engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(statement))
        finally:
            await engine.dispose()

    async def _migrate() -> None:
        database = Database(f"{base}/{name}")
        await upgrade_to_head(database)
        await database.dispose()

    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the server must be there in CI: fail, never skip
        pytest.fail(f"PostgreSQL at {_redact(POSTGRES_ADMIN_URL)} is not reachable: {exc}")
    asyncio.run(_migrate())
    yield f"{base}/{name}"
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Which database this test runs on."""
    return str(request.param)


@pytest.fixture
def fresh_database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a migrated database for one test: a fresh SQLite file, or the run's
    PostgreSQL database (emptied by the fixtures below)."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(template, path)
        return f"sqlite+aiosqlite:///{path}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def database_url(fresh_database_url: str, backend: str) -> str:
    """URL of an empty, migrated database for one test (emptied once, before anything of
    the test runs: ``database`` and every fixture using the URL see the same data)."""
    if backend == "postgresql":
        asyncio.run(_emptied(Database(fresh_database_url)))
    return fresh_database_url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """An empty, migrated database (SQLite file or PostgreSQL) for one test."""
    db = Database(database_url, pool_size=30, pool_timeout=30)
    yield db
    await db.dispose()


async def _empty(database: Database) -> None:
    """Delete every row, children first (on near-empty tables DELETE is much cheaper than
    TRUNCATE, which rewrites each table's files)."""
    async with database.transaction() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())


async def _emptied(database: Database) -> None:
    try:
        await _empty(database)
    finally:
        await database.dispose()
