"""Counts by month of purchase (deep pages seek to their month); covering list indexes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_MONTH = {
    "sqlite": "CAST(strftime('%Y%m', created_at, 'unixepoch') AS INTEGER)",
    "postgresql": "CAST(to_char(created_at AT TIME ZONE 'UTC', 'YYYYMM') AS INTEGER)",
}


def upgrade() -> None:
    month = _MONTH[op.get_bind().dialect.name]
    op.drop_table("number_counts")
    op.create_table(
        "number_counts",
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_number_counts_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "country", "status", "month", name="pk_number_counts"
        ),
    )
    recount = (
        "INSERT INTO number_counts (account_id, country, status, month, total) "  # noqa: S608
        f"SELECT account_id, country, status, {month}, COUNT(*) FROM numbers "
        f"GROUP BY account_id, country, status, {month}"
    )
    op.execute(recount)
    with op.batch_alter_table("numbers") as batch:
        batch.drop_index("ix_numbers_account_id_created_at_e164")
        batch.drop_index("ix_numbers_account_id_country_created_at_e164")
        batch.create_index(
            "ix_numbers_account_id_created_at_e164_status",
            ["account_id", "created_at", "e164", "status"],
        )
        batch.create_index(
            "ix_numbers_account_id_country_created_at_e164_status",
            ["account_id", "country", "created_at", "e164", "status"],
        )
        batch.create_index("ix_numbers_account_id_trunk_id", ["account_id", "trunk_id"])
        batch.create_index("ix_numbers_account_id_application_id", ["account_id", "application_id"])


def downgrade() -> None:
    with op.batch_alter_table("numbers") as batch:
        batch.drop_index("ix_numbers_account_id_application_id")
        batch.drop_index("ix_numbers_account_id_trunk_id")
        batch.drop_index("ix_numbers_account_id_country_created_at_e164_status")
        batch.drop_index("ix_numbers_account_id_created_at_e164_status")
        batch.create_index(
            "ix_numbers_account_id_country_created_at_e164",
            ["account_id", "country", "created_at", "e164"],
        )
        batch.create_index(
            "ix_numbers_account_id_created_at_e164", ["account_id", "created_at", "e164"]
        )
    op.drop_table("number_counts")
    op.create_table(
        "number_counts",
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_number_counts_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("account_id", "country", "status", name="pk_number_counts"),
    )
    op.execute(
        "INSERT INTO number_counts (account_id, country, status, total) "
        "SELECT account_id, country, status, COUNT(*) FROM numbers "
        "GROUP BY account_id, country, status"
    )
