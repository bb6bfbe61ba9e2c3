"""Totals by account, country and status (a list's total no longer sums every month).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "number_totals",
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_number_totals_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("account_id", "country", "status", name="pk_number_totals"),
    )
    op.execute(
        "INSERT INTO number_totals (account_id, country, status, total) "
        "SELECT account_id, country, status, COUNT(*) FROM numbers "
        "GROUP BY account_id, country, status"
    )


def downgrade() -> None:
    op.drop_table("number_totals")
