"""Idempotency keys; an index for the sweep of cooled-off releases.

Revision 0003, after 0002; created 2026-11-27 16:50:55.820917.
"""

from __future__ import annotations

import sqlalchemy as sa

from voxnumbers.migrations.columns import ids, integer, string, timestamps
from voxnumbers.migrations.steps import create_indexes, create_table, drop_indexes, drop_tables

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    create_table(
        "idempotency_keys",
        *ids("account_id"),
        string("key", 255),
        string("fingerprint", 64),
        integer("response_status"),
        sa.Column("response_body", sa.LargeBinary(), nullable=False),
        *timestamps("created_at", "expires_at"),
        key=["account_id", "key"],
        of_account=True,
    )
    create_indexes("idempotency_keys", ["expires_at"])
    create_indexes("numbers", ["status", "available_after"])


def downgrade() -> None:
    drop_indexes("numbers", ["status", "available_after"])
    drop_tables("idempotency_keys")
