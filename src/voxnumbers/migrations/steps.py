"""The steps the migrations repeat, named once: tables with their keys and constraints
named by the conventions of ``db/tables.py``, indexes, the tables of counts of numbers, and
a primary key rebuilt on SQLite and PostgreSQL alike.

Every step emits exactly the DDL its callers wrote out before it existed: a migration's
schema never changes once released, so neither may what these steps produce.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import sqlalchemy as sa
from alembic import op

from voxnumbers.migrations.columns import Column, ids, integer, string

COUNT_KEY = ("account_id", "country", "status")
"""The columns every table of counts of numbers is keyed by (before its own buckets)."""


def create_table(
    name: str,
    *columns: Column,
    key: Sequence[str] = ("id",),
    checks: Mapping[str, str] | None = None,
    references: Mapping[str, str] | None = None,
    cascade: Iterable[str] = (),
    unique: Sequence[str] = (),
    of_account: bool = False,
) -> None:
    """Create table ``name`` with primary key ``key``, one check constraint per entry of
    ``checks`` (``ck_<table>_<name>``: SQL condition), one foreign key per entry of
    ``references`` (column: ``"table.column"`` it refers to; ``ON DELETE CASCADE`` for the
    columns in ``cascade``) and a unique constraint on the ``unique`` columns, if any.
    ``of_account``: the table holds an account's data, its ``account_id`` refers to
    ``accounts`` (the first of its foreign keys).

    The constraints are built in that order, the order their DDL lists them in after the
    primary key, and named as the conventions of ``db/tables.py`` name them."""
    if of_account:
        references = {"account_id": "accounts.id", **(references or {})}
    cascading = set(cascade)
    constraints: list[sa.Constraint] = [
        sa.CheckConstraint(condition, name=op.f(f"ck_{name}_{check}"))
        for check, condition in (checks or {}).items()
    ]
    for column, target in (references or {}).items():
        referred_table = target.split(".")[0]
        constraints.append(
            sa.ForeignKeyConstraint(
                [column],
                [target],
                name=op.f(f"fk_{name}_{column}_{referred_table}"),
                ondelete="CASCADE" if column in cascading else None,
            )
        )
    constraints.append(sa.PrimaryKeyConstraint(*key, name=op.f(f"pk_{name}")))
    if unique:
        constraints.append(sa.UniqueConstraint(*unique, name=op.f(f"uq_{name}_{'_'.join(unique)}")))
    op.create_table(name, *columns, *constraints)


def drop_tables(*names: str) -> None:
    """Drop tables (and so their indexes), in this order."""
    for name in names:
        op.drop_table(name)


def _index_name(table: str, columns: Sequence[str]) -> str:
    """An index's conventional name: ``ix_<table>_<columns>``."""
    return f"ix_{table}_{'_'.join(columns)}"


def create_indexes(table: str, *indexes: Sequence[str]) -> None:
    """Create one index per sequence of columns, in this order."""
    for columns in indexes:
        op.create_index(_index_name(table, columns), table, list(columns))


def drop_indexes(table: str, *indexes: Sequence[str]) -> None:
    """Drop the indexes ``create_indexes`` names after these sequences of columns."""
    for columns in indexes:
        op.drop_index(_index_name(table, columns), table_name=table)


def create_partial_index(table: str, columns: Sequence[str], where: str, *, unique: bool) -> None:
    """An index of the rows that match ``where`` (an SQL condition), on both databases."""
    op.create_index(
        _index_name(table, columns),
        table,
        list(columns),
        unique=unique,
        postgresql_where=sa.text(where),
        sqlite_where=sa.text(where),
    )


def create_count_table(name: str, *buckets: str) -> None:
    """A table of counts of numbers: a ``total`` by account, country, status and the
    integer columns ``buckets``."""
    create_table(
        name,
        *ids("account_id"),
        string("country", 2),
        string("status", 16),
        *(integer(bucket) for bucket in buckets),
        integer("total"),
        key=[*COUNT_KEY, *buckets],
        of_account=True,
    )


def count_numbers_into(table: str, **buckets: str) -> None:
    """Fill a table of counts (empty) by counting ``numbers``: ``buckets`` maps each bucket
    column of the table to the SQL expression of a number's row that gives its value."""
    columns = ", ".join([*COUNT_KEY, *buckets])
    values = ", ".join([*COUNT_KEY, *buckets.values()])
    op.execute(
        f"INSERT INTO {table} ({columns}, total) "  # noqa: S608
        f"SELECT {values}, COUNT(*) FROM numbers GROUP BY {values}"
    )


def replace_primary_key(
    table: str,
    key: Sequence[str],
    *,
    add_column: Column | None = None,
    drop_column: str | None = None,
) -> None:
    """Give ``table`` the primary key ``key`` (still named ``pk_<table>``), after adding
    ``add_column`` or before dropping ``drop_column`` (SQLite rebuilds the table)."""
    with op.batch_alter_table(table) as batch:
        if add_column is not None:
            batch.add_column(add_column)
        batch.drop_constraint(f"pk_{table}", type_="primary")
        batch.create_primary_key(f"pk_{table}", list(key))
        if drop_column is not None:
            batch.drop_column(drop_column)
