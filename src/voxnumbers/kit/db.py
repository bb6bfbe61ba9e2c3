"""Database plumbing: engine per settings, one transaction per unit of work, portable types.

The same code runs on SQLite (aiosqlite, WAL, foreign keys on) and PostgreSQL (asyncpg).
A unit of work is a transaction: callers (a request, a CLI command) own it; it commits when
the block ends normally and rolls back on any exception.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.types import TypeDecorator

from voxnumbers.kit.jsonc import decode_json, encode_json_text

_WRITE = "vox_write"


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

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, int):
            return datetime.fromtimestamp(value, UTC)
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


class Database:
    """The engine of one database and the transactions run on it."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        pool_timeout: float = 5.0,
        statement_timeout: float = 10.0,
    ) -> None:
        self.url = make_url(url)
        self.dialect = self.url.get_backend_name()
        self.engine: AsyncEngine = _create_engine(
            url,
            pool_size=pool_size,
            pool_timeout=pool_timeout,
            statement_timeout=statement_timeout,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[AsyncConnection]:
        """A connection inside a transaction that commits on success and rolls back on error.

        ``write=True`` on SQLite takes the write lock at ``BEGIN`` (``BEGIN IMMEDIATE``), so a
        transaction that reads then writes never fails to upgrade its lock halfway.
        """
        async with self.engine.connect() as conn:
            if write:
                await conn.execution_options(**{_WRITE: True})
            elif not self.is_sqlite:
                # One snapshot for the whole read (a page and its total agree); SQLite's
                # read transactions are snapshots already.
                await conn.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
            async with conn.begin():
                yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()


def _create_engine(
    url: str, *, pool_size: int, pool_timeout: float, statement_timeout: float
) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
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
        pool_pre_ping=True,
        connect_args={
            "timeout": pool_timeout,
            "command_timeout": statement_timeout + 5,
            "server_settings": {
                "statement_timeout": str(int(statement_timeout * 1000)),
                "application_name": "voxnumbers",
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
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
