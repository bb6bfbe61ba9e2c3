"""Operators and accountability: operator tokens, the audit log, webhook management
(enabled flag, the previous secret during a rotation, each delivery's last response
status); idempotency keys may belong to an operator token as well as to an account.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import voxnumbers.db.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operator_tokens",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=40), nullable=False),
        sa.Column("created_at", voxnumbers.db.types.Timestamp(timezone=True), nullable=False),
        sa.Column("revoked_at", voxnumbers.db.types.Timestamp(timezone=True), nullable=True),
        sa.Column("last_used_at", voxnumbers.db.types.Timestamp(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_operator_tokens_digest")),
    )
    op.create_table(
        "audit_log",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("at", voxnumbers.db.types.Timestamp(timezone=True), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=True),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=40), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.String(length=200), nullable=False),
        sa.Column("request_id", sa.String(length=200), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "actor_type IN ('key', 'operator', 'system')", name=op.f("ck_audit_log_actor_type")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("id", name=op.f("uq_audit_log_id")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_log_account_id_seq"), ["account_id", "seq"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enabled", sa.Boolean(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("previous_secret", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column(
                "previous_secret_expires_at",
                voxnumbers.db.types.Timestamp(timezone=True),
                nullable=True,
            )
        )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_response_status", sa.Integer(), nullable=True))
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_constraint("fk_idempotency_keys_account_id_accounts", type_="foreignkey")


def downgrade() -> None:
    # The admin API's stored responses go: their owner is an operator token, not an account,
    # and the schema before this revision has idempotency keys of accounts only.
    op.execute("DELETE FROM idempotency_keys WHERE account_id NOT IN (SELECT id FROM accounts)")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_idempotency_keys_account_id_accounts", "accounts", ["account_id"], ["id"]
        )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_column("last_response_status")
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_column("previous_secret_expires_at")
        batch_op.drop_column("previous_secret")
        batch_op.drop_column("enabled")
    op.drop_table("audit_log")
    op.drop_table("operator_tokens")
