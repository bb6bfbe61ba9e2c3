"""Striped counts: a ``slot`` in the keys of ``number_totals`` and ``number_counts``.

One account's concurrent writers each add to a slot of their own instead of queueing on one
row per bucket; maintenance folds the other slots back into slot 0. Existing rows become
slot 0.

Revision 0006, after 0005; created 2026-12-04.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from voxnumbers.migrations.columns import Column
from voxnumbers.migrations.steps import create_partial_index, drop_indexes, replace_primary_key

revision = "0006"
down_revision = "0005"

_KEYS = {
    "number_totals": ["account_id", "country", "status"],
    "number_counts": ["account_id", "country", "status", "month"],
}


def upgrade() -> None:
    for table, key in _KEYS.items():
        slot: Column = sa.Column(
            "slot", sa.SmallInteger(), nullable=False, server_default=sa.text("0")
        )
        replace_primary_key(table, [*key, "slot"], add_column=slot)
        create_partial_index(table, ["slot"], "slot <> 0", unique=False)


def downgrade() -> None:
    for table, key in _KEYS.items():
        columns = ", ".join(key)
        drop_indexes(table, ["slot"])
        # Fold every slot into slot 0 before the key loses its slot.
        op.execute(
            f"UPDATE {table} SET total = (SELECT SUM(other.total) FROM {table} AS other "  # noqa: S608
            + " AND ".join(
                [f"WHERE other.{key[0]} = {table}.{key[0]}"]
                + [f"other.{column} = {table}.{column}" for column in key[1:]]
            )
            + ") WHERE slot = 0"
        )
        op.execute(
            f"INSERT INTO {table} ({columns}, slot, total) "  # noqa: S608
            f"SELECT {columns}, 0, SUM(total) FROM {table} AS moved WHERE NOT EXISTS "
            f"(SELECT 1 FROM {table} AS kept WHERE kept.slot = 0 AND "
            + " AND ".join(f"kept.{column} = moved.{column}" for column in key)
            + f") GROUP BY {columns}"
        )
        op.execute(f"DELETE FROM {table} WHERE slot <> 0")  # noqa: S608
        replace_primary_key(table, key, drop_column="slot")
