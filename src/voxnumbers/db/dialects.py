"""SQL that SQLite and PostgreSQL spell differently: ``INSERT … ON CONFLICT`` (the constructs
differ only by import) and ``IN`` over a long list of values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection


def insert_for(conn: AsyncConnection, table: Table) -> Any:
    """The dialect's ``insert`` (with ``on_conflict_do_*``) for this connection."""
    module = sqlite if conn.dialect.name == "sqlite" else postgresql
    return module.insert(table)


def among(
    conn: AsyncConnection, column: ColumnElement[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """``column IN values`` for a long list of values (a batch of a bulk job).

    On PostgreSQL: ``column IN (SELECT unnest(:values))``, the whole list one array
    parameter. Spelt ``IN ($1, …, $500)`` (or ``= ANY($1)``), the generic plan that every
    prepared statement runs here (``plan_cache_mode``, see ``_create_engine``) cannot know
    how many rows the list selects, and it took the account's other condition for the more
    selective one: it read every number of the account and compared each with every value
    of the list, for a big account a hundred times slower than looking the values up in the
    key. A semi-join with the unnested array is planned as that lookup, one probe per
    value, whether or not the table's statistics are up to date.
    """
    if conn.dialect.name == "postgresql":
        listed = bindparam(None, list(values), type_=ARRAY(column.type))
        return column.in_(select(func.unnest(listed)))
    return column.in_(values)
