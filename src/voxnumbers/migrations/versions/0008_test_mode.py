"""Test mode: a test world beside every account's live world (``spec/API.md`` §10).

Every existing account gets its test row (id ``<account id>_test``, linked to the live row by
``live_account_id``); everything already stored stays where it is, in the live world.
``numbers`` is keyed by (``e164``, ``account_id``) with a ``live`` flag: a number is owned at
most once live (a unique index on ``e164`` over live rows) and once per test world.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Not a table rebuild: every tenant table references ``accounts``, so SQLite would
        # refuse to drop it while they hold rows. A new column may reference a table.
        op.execute(
            "ALTER TABLE accounts ADD COLUMN live_account_id VARCHAR(40) "
            "CONSTRAINT fk_accounts_live_account_id_accounts REFERENCES accounts (id)"
        )
    else:
        op.add_column("accounts", sa.Column("live_account_id", sa.String(40), nullable=True))
        op.create_foreign_key(
            "fk_accounts_live_account_id_accounts",
            "accounts",
            "accounts",
            ["live_account_id"],
            ["id"],
        )
    op.create_index("ix_accounts_live_account_id", "accounts", ["live_account_id"], unique=True)
    op.execute(
        "INSERT INTO accounts (id, name, status, created_at, live_account_id) "
        "SELECT id || '_test', name, status, created_at, id FROM accounts "
        "WHERE live_account_id IS NULL"
    )
    with op.batch_alter_table("numbers") as batch:
        batch.add_column(
            sa.Column("live", sa.Boolean(), nullable=False, server_default=sa.text("'1'"))
        )
        batch.drop_constraint("pk_numbers", type_="primary")
        batch.create_primary_key("pk_numbers", ["e164", "account_id"])
    op.create_index(
        "ix_numbers_e164",
        "numbers",
        ["e164"],
        unique=True,
        postgresql_where=sa.text("live"),
        sqlite_where=sa.text("live"),
    )


def downgrade() -> None:
    # The test worlds' data goes: the schema before this revision has no place for it.
    test_accounts = "SELECT id FROM accounts WHERE live_account_id IS NOT NULL"
    for table in (
        "console_sessions",
        "idempotency_keys",
        "webhook_deliveries",
        "webhook_endpoints",
        "events",
        "number_counts",
        "number_totals",
        "numbers",
        "trunk_ip_acl",
        "trunk_credentials",
        "trunks",
        "applications",
    ):
        op.execute(f"DELETE FROM {table} WHERE account_id IN ({test_accounts})")  # noqa: S608
    op.drop_index("ix_numbers_e164", table_name="numbers")
    with op.batch_alter_table("numbers") as batch:
        batch.drop_constraint("pk_numbers", type_="primary")
        batch.create_primary_key("pk_numbers", ["e164"])
        batch.drop_column("live")
    op.execute("DELETE FROM accounts WHERE live_account_id IS NOT NULL")
    op.drop_index("ix_accounts_live_account_id", table_name="accounts")
    with op.batch_alter_table("accounts") as batch:
        if op.get_bind().dialect.name != "sqlite":  # SQLite's rebuild leaves it out anyway
            batch.drop_constraint("fk_accounts_live_account_id_accounts", type_="foreignkey")
        batch.drop_column("live_account_id")
