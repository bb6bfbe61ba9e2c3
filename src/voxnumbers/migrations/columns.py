"""The columns of the migrations' tables, of the types the project uses for each kind of
value, as they were first written out: a released migration's schema never changes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from voxnumbers.db.types import Timestamp

Column = sa.Column[Any]

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""A sequence number's type: ``BIGINT``, ``INTEGER`` on SQLite (an alias of its rowid)."""


def ids(*names: str, nullable: bool = False) -> list[Column]:
    """Id columns: ``VARCHAR(40)``."""
    return [sa.Column(name, sa.String(40), nullable=nullable) for name in names]


def string(name: str, length: int, *, nullable: bool = False, default: str | None = None) -> Column:
    """A ``VARCHAR(length)`` column; ``default`` is its server default."""
    return sa.Column(name, sa.String(length), server_default=default, nullable=nullable)


def integer(name: str, *, nullable: bool = False, default: str | None = None) -> Column:
    """An ``INTEGER`` column; ``default`` is its server default."""
    return sa.Column(name, sa.Integer(), server_default=default, nullable=nullable)


def json(name: str) -> Column:
    """A JSON column that is never null."""
    return sa.Column(name, sa.JSON(), nullable=False)


def timestamps(*names: str, nullable: bool = False) -> list[Column]:
    """``Timestamp`` columns (``timestamptz`` on PostgreSQL, Unix seconds on SQLite)."""
    return [sa.Column(name, Timestamp(), nullable=nullable) for name in names]


def sequence(name: str = "seq") -> Column:
    """A table's own sequence number: its primary key, numbered by the database."""
    return sa.Column(name, SEQ, autoincrement=True, nullable=False)


def sequence_reference(name: str) -> Column:
    """A column that holds another table's sequence number."""
    return sa.Column(name, SEQ, nullable=False)
