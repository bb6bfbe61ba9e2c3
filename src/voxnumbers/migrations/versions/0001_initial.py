"""Accounts, API keys, inventory, owned numbers and their exact counts.

Revision 0001, the first; created 2026-11-27.
"""

from __future__ import annotations

import sqlalchemy as sa

from voxnumbers.migrations.columns import Column, ids, integer, string, timestamps
from voxnumbers.migrations.steps import (
    create_count_table,
    create_indexes,
    create_table,
    drop_tables,
)

revision = "0001"
down_revision = None


def _offer_columns() -> list[Column]:
    """What an owned number keeps of its inventory row, after its ``e164`` (and owner)."""
    return [
        string("country", 2),
        string("type", 16),
        string("region", 100, default=""),
        integer("capabilities"),
        integer("monthly_fee_cents"),
        integer("setup_fee_cents"),
        sa.Column("needs_provisioning", sa.Boolean(), server_default="0", nullable=False),
    ]


def upgrade() -> None:
    create_table(
        "accounts",
        *ids("id"),
        string("name", 200),
        string("status", 16, default="active"),
        *timestamps("created_at"),
    )
    create_table(
        "api_keys",
        *ids("id", "account_id"),
        string("digest", 64),
        string("hint", 40),
        string("mode", 8),
        *timestamps("created_at"),
        *timestamps("revoked_at", "last_used_at", nullable=True),
        unique=["digest"],
        of_account=True,
    )
    create_indexes("api_keys", ["account_id"])
    # The check constraints of this revision carry their table's name twice: the naming
    # convention prefixed names that were already whole. They keep those names.
    create_table(
        "inventory_numbers",
        string("e164", 16),
        *_offer_columns(),
        *timestamps("added_at"),
        key=["e164"],
        checks={
            "ck_inventory_numbers_fees": "monthly_fee_cents >= 0 AND setup_fee_cents >= 0",
        },
    )
    create_indexes("inventory_numbers", ["country", "e164"])
    create_table(
        "numbers",
        string("e164", 16),
        *ids("account_id"),
        *_offer_columns(),
        string("status", 16),
        *ids("trunk_id", "application_id", nullable=True),
        *timestamps("created_at", "updated_at"),
        *timestamps("released_at", "available_after", nullable=True),
        key=["e164"],
        checks={
            "ck_numbers_status": "status IN ('active', 'pending', 'suspended', 'released')",
            "ck_numbers_one_route": "trunk_id IS NULL OR application_id IS NULL",
        },
        of_account=True,
    )
    create_indexes(
        "numbers",
        ["account_id", "created_at", "e164"],
        ["account_id", "status", "created_at", "e164"],
        ["account_id", "country", "created_at", "e164"],
        ["account_id", "country", "status", "created_at", "e164"],
    )
    create_count_table("number_counts")


def downgrade() -> None:
    drop_tables("number_counts", "numbers", "inventory_numbers", "api_keys", "accounts")
