"""Totals by account, country and status (a list's total no longer sums every month).

Revision 0005, after 0004; created 2026-11-27.
"""

from __future__ import annotations

from voxnumbers.migrations.steps import count_numbers_into, create_count_table, drop_tables

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    create_count_table("number_totals")
    count_numbers_into("number_totals")


def downgrade() -> None:
    drop_tables("number_totals")
