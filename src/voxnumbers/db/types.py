"""Column types of our own, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect
from sqlalchemy.types import TypeDecorator


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
