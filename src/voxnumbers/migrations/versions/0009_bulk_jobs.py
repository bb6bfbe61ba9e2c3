"""Bulk jobs and their items; the Location of a stored idempotent response.

Revision 0009, after 0008; created 2026-12-04.
"""

from __future__ import annotations

from alembic import op

from voxnumbers.migrations.columns import (
    ids,
    integer,
    sequence,
    sequence_reference,
    string,
    timestamps,
)
from voxnumbers.migrations.steps import create_indexes, create_table, drop_tables

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(string("response_location", 500, nullable=True))
    create_table(
        "bulk_jobs",
        sequence(),
        *ids("id", "account_id"),
        string("action", 32),
        *ids("target_id", nullable=True),
        string("status", 16),
        integer("matched"),
        *(integer(tally, default="0") for tally in ("processed", "changed", "unchanged", "failed")),
        *timestamps("created_at"),
        *timestamps("started_at", "finished_at", nullable=True),
        *ids("lease_owner", nullable=True),
        *timestamps("locked_until", nullable=True),
        *ids("created_by", nullable=True),
        key=["seq"],
        checks={"status": "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')"},
        unique=["id"],
        of_account=True,
    )
    create_indexes("bulk_jobs", ["account_id", "seq"], ["status", "seq"])
    create_table(
        "bulk_job_items",
        sequence_reference("job_seq"),
        string("e164", 16),
        *ids("account_id"),
        string("outcome", 16, nullable=True),
        string("error_code", 40, nullable=True),
        string("error_message", 500, nullable=True),
        key=["job_seq", "e164"],
        checks={"outcome": "outcome IN ('changed', 'unchanged', 'failed')"},
        references={"job_seq": "bulk_jobs.seq"},
        of_account=True,
    )


def downgrade() -> None:
    drop_tables("bulk_job_items", "bulk_jobs")
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("response_location")
