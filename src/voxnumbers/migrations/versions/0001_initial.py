"""Accounts, API keys, inventory, owned numbers and their exact counts.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from voxnumbers.db.types import Timestamp

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), server_default="active", nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("hint", sa.String(40), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("revoked_at", Timestamp(), nullable=True),
        sa.Column("last_used_at", Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_api_keys_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("digest", name="uq_api_keys_digest"),
    )
    op.create_index("ix_api_keys_account_id", "api_keys", ["account_id"])
    op.create_table(
        "inventory_numbers",
        sa.Column("e164", sa.String(16), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("region", sa.String(100), server_default="", nullable=False),
        sa.Column("capabilities", sa.Integer(), nullable=False),
        sa.Column("monthly_fee_cents", sa.Integer(), nullable=False),
        sa.Column("setup_fee_cents", sa.Integer(), nullable=False),
        sa.Column("needs_provisioning", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("added_at", Timestamp(), nullable=False),
        sa.CheckConstraint(
            "monthly_fee_cents >= 0 AND setup_fee_cents >= 0", name="ck_inventory_numbers_fees"
        ),
        sa.PrimaryKeyConstraint("e164", name="pk_inventory_numbers"),
    )
    op.create_index("ix_inventory_numbers_country_e164", "inventory_numbers", ["country", "e164"])
    op.create_table(
        "numbers",
        sa.Column("e164", sa.String(16), nullable=False),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("region", sa.String(100), server_default="", nullable=False),
        sa.Column("capabilities", sa.Integer(), nullable=False),
        sa.Column("monthly_fee_cents", sa.Integer(), nullable=False),
        sa.Column("setup_fee_cents", sa.Integer(), nullable=False),
        sa.Column("needs_provisioning", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("trunk_id", sa.String(40), nullable=True),
        sa.Column("application_id", sa.String(40), nullable=True),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("updated_at", Timestamp(), nullable=False),
        sa.Column("released_at", Timestamp(), nullable=True),
        sa.Column("available_after", Timestamp(), nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'pending', 'suspended', 'released')", name="ck_numbers_status"
        ),
        sa.CheckConstraint(
            "trunk_id IS NULL OR application_id IS NULL", name="ck_numbers_one_route"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_numbers_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("e164", name="pk_numbers"),
    )
    for columns in (
        ["account_id", "created_at", "e164"],
        ["account_id", "status", "created_at", "e164"],
        ["account_id", "country", "created_at", "e164"],
        ["account_id", "country", "status", "created_at", "e164"],
    ):
        op.create_index("ix_numbers_" + "_".join(columns), "numbers", columns)
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


def downgrade() -> None:
    op.drop_table("number_counts")
    op.drop_table("numbers")
    op.drop_table("inventory_numbers")
    op.drop_table("api_keys")
    op.drop_table("accounts")
