"""Bulk jobs and their items; the Location of a stored idempotent response.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import voxnumbers.db.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("response_location", sa.String(length=500), nullable=True))
    op.create_table(
        "bulk_jobs",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("changed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("unchanged", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", voxnumbers.db.types.Timestamp(timezone=True), nullable=False),
        sa.Column("started_at", voxnumbers.db.types.Timestamp(timezone=True), nullable=True),
        sa.Column("finished_at", voxnumbers.db.types.Timestamp(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=40), nullable=True),
        sa.Column("locked_until", voxnumbers.db.types.Timestamp(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=40), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')",
            name=op.f("ck_bulk_jobs_status"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_bulk_jobs_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_bulk_jobs")),
        sa.UniqueConstraint("id", name=op.f("uq_bulk_jobs_id")),
    )
    with op.batch_alter_table("bulk_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bulk_jobs_account_id_seq"), ["account_id", "seq"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bulk_jobs_status_seq"), ["status", "seq"], unique=False
        )
    op.create_table(
        "bulk_job_items",
        sa.Column("job_seq", _SEQ, nullable=False),
        sa.Column("e164", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("error_message", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('changed', 'unchanged', 'failed')",
            name=op.f("ck_bulk_job_items_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_bulk_job_items_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["job_seq"], ["bulk_jobs.seq"], name=op.f("fk_bulk_job_items_job_seq_bulk_jobs")
        ),
        sa.PrimaryKeyConstraint("job_seq", "e164", name=op.f("pk_bulk_job_items")),
    )


def downgrade() -> None:
    op.drop_table("bulk_job_items")
    op.drop_table("bulk_jobs")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_column("response_location")
