"""``INSERT … ON CONFLICT`` for both databases (their constructs differ only by import)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def insert_for(conn: AsyncConnection, table: Table) -> Any:
    """The dialect's ``insert`` (with ``on_conflict_do_*``) for this connection."""
    module = sqlite if conn.dialect.name == "sqlite" else postgresql
    return module.insert(table)
