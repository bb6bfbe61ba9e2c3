"""Operators and accountability: operator tokens, the audit log, webhook management
(enabled flag, the previous secret during a rotation, each delivery's last response
status); idempotency keys may belong to an operator token as well as to an account.

Revision 0010, after 0009; created 2026-12-04.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from voxnumbers.migrations.columns import ids, integer, json, sequence, string, timestamps
from voxnumbers.migrations.steps import create_indexes, create_table, drop_tables

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(integer("last_response_status", nullable=True))
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.add_column(sa.Column("enabled", sa.Boolean(), server_default="1", nullable=False))
        batch.add_column(string("previous_secret", 100, nullable=True))
        for column in timestamps("previous_secret_expires_at", nullable=True):
            batch.add_column(column)
    create_table(
        "operator_tokens",
        *ids("id"),
        string("name", 200),
        string("digest", 64),
        string("hint", 40),
        *timestamps("created_at"),
        *timestamps("revoked_at", "last_used_at", nullable=True),
        unique=["digest"],
    )
    create_table(
        "audit_log",
        sequence(),
        *ids("id"),
        *timestamps("at"),
        *ids("account_id", nullable=True),
        string("actor_type", 16),
        *ids("actor_id", nullable=True),
        string("action", 60),
        string("object_type", 40),
        string("object_id", 200),
        string("request_id", 200, nullable=True),
        string("ip", 64, nullable=True),
        json("changes"),
        key=["seq"],
        checks={"actor_type": "actor_type IN ('key', 'operator', 'system')"},
        unique=["id"],
    )
    create_indexes("audit_log", ["account_id", "seq"], ["at"])
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_constraint("fk_idempotency_keys_account_id_accounts", type_="foreignkey")


def downgrade() -> None:
    # The admin API's stored responses go: their owner is an operator token, not an account,
    # and the schema before this revision has idempotency keys of accounts only.
    op.execute("DELETE FROM idempotency_keys WHERE account_id NOT IN (SELECT id FROM accounts)")
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.create_foreign_key(
            "fk_idempotency_keys_account_id_accounts", "accounts", ["account_id"], ["id"]
        )
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("last_response_status")
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.drop_column("previous_secret_expires_at")
        batch.drop_column("previous_secret")
        batch.drop_column("enabled")
    drop_tables("audit_log", "operator_tokens")
