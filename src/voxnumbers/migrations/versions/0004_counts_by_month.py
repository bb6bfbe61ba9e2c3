"""Counts by month of purchase (deep pages seek to their month); covering list indexes.

Revision 0004, after 0003; created 2026-11-27.
"""

from __future__ import annotations

from alembic import op

from voxnumbers.migrations.steps import (
    count_numbers_into,
    create_count_table,
    create_indexes,
    drop_indexes,
)

revision = "0004"
down_revision = "0003"

_MONTH = {
    "sqlite": "CAST(strftime('%Y%m', created_at, 'unixepoch') AS INTEGER)",
    "postgresql": "CAST(to_char(created_at AT TIME ZONE 'UTC', 'YYYYMM') AS INTEGER)",
}
# The list indexes of numbers before this revision, those that replace them (they hold the
# status too), and those this revision adds for the numbers of a trunk or application.
_PAGE_INDEXES = (
    ["account_id", "created_at", "e164"],
    ["account_id", "country", "created_at", "e164"],
)
_COVERING_INDEXES = (
    ["account_id", "created_at", "e164", "status"],
    ["account_id", "country", "created_at", "e164", "status"],
)
_ROUTE_INDEXES = (["account_id", "trunk_id"], ["account_id", "application_id"])


def upgrade() -> None:
    op.drop_table("number_counts")
    create_count_table("number_counts", "month")
    count_numbers_into("number_counts", month=_MONTH[op.get_bind().dialect.name])
    drop_indexes("numbers", *_PAGE_INDEXES)
    create_indexes("numbers", *_COVERING_INDEXES, *_ROUTE_INDEXES)


def downgrade() -> None:
    drop_indexes("numbers", *reversed(_ROUTE_INDEXES), *reversed(_COVERING_INDEXES))
    create_indexes("numbers", *reversed(_PAGE_INDEXES))
    op.drop_table("number_counts")
    create_count_table("number_counts")
    count_numbers_into("number_counts")
