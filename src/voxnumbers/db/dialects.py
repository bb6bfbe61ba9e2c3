"""SQL that SQLite and PostgreSQL spell differently: ``INSERT … ON CONFLICT`` (the constructs
differ only by import), ``IN`` over a long list of values, JSON built by the database and
ids it makes for the rows of an ``INSERT … SELECT``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    String,
    Table,
    Text,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.kit.jsonc import encode_json_text


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

    On SQLite: ``column IN (SELECT value FROM json_each(:values))``, the list one JSON
    array: spelt ``IN (?, …, ?)``, SQLAlchemy renders and converts one parameter per value
    at every execution, most of the cost of a statement over a batch of 500.
    """
    return among_bound(conn.dialect.name, column, None, listed(conn, values))


def among_bound(
    dialect: str, column: ColumnElement[Any], name: str | None, value: Any = None
) -> ColumnElement[bool]:
    """``among``, the list bound as ``name`` (its value made by ``listed``): for statements
    built once per dialect (``db.direct.fetch_all``'s)."""
    if dialect == "postgresql":
        array = bindparam(name, value, type_=ARRAY(column.type))
        return column.in_(select(func.unnest(array)))
    text = bindparam(name, value, type_=String())
    return column.in_(select(literal_column("value")).select_from(func.json_each(text)))


def listed(conn: AsyncConnection, values: Sequence[Any]) -> Any:
    """The value ``among_bound``'s parameter takes for ``values`` on this connection."""
    return list(values) if is_postgresql(conn) else encode_json_text(list(values))


def is_postgresql(conn: AsyncConnection) -> bool:
    return conn.dialect.name == "postgresql"


def random_id(conn: AsyncConnection, prefix: str, length: int = 20) -> ColumnElement[str]:
    """A new id for each row an ``INSERT … SELECT`` writes, as ``kit.ids.new_id(prefix,
    length)`` makes them but by the database: ``length`` hexadecimal digits (characters of
    ``new_id``'s alphabet) from its random source (``gen_random_uuid`` on PostgreSQL,
    ``randomblob`` on SQLite); 20 digits are 80 random bits."""
    if not 1 <= length <= 32:
        raise ValueError("a database-made id has 1 to 32 hexadecimal digits")
    if is_postgresql(conn):
        digits = func.substr(func.md5(cast(func.gen_random_uuid(), Text)), 1, length)
    else:
        digits = func.substr(func.lower(func.hex(func.randomblob((length + 1) // 2))), 1, length)
    return literal(f"{prefix}_", String()) + digits


JsonBuilder = Callable[..., ColumnElement[Any]]


def json_functions(conn: AsyncConnection) -> tuple[JsonBuilder, JsonBuilder]:
    """The dialect's functions building a JSON object and a JSON array from SQL values
    (``json_build_object``/``json_build_array``, SQLite's ``json_object``/``json_array``)."""
    if is_postgresql(conn):
        return func.json_build_object, func.json_build_array
    return func.json_object, func.json_array


def as_json(conn: AsyncConnection, text: ColumnElement[Any]) -> ColumnElement[Any]:
    """JSON text made by a statement, as a value for a ``JSON`` column: PostgreSQL's ``json``
    takes no text without a cast; SQLite stores the text itself."""
    return cast(text, JSON) if is_postgresql(conn) else text
