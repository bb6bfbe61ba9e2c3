"""Test mode: a test world beside every account's live world (``spec/API.md`` §10).

Every existing account gets its test row (id ``<account id>_test``, linked to the live row by
``live_account_id``); everything already stored stays where it is, in the live world.
``numbers`` is keyed by (``e164``, ``account_id``) with a ``live`` flag: a number is owned at
most once live (a unique index on ``e164`` over live rows) and once per test world.

Revision 0008, after 0007; created 2026-12-04.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from voxnumbers.migrations.columns import Column
from voxnumbers.migrations.steps import create_partial_index, drop_indexes, replace_primary_key

revision = "0008"
down_revision = "0007"


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
    live: Column = sa.Column("live", sa.Boolean(), nullable=False, server_default=sa.text("'1'"))
    replace_primary_key("numbers", ["e164", "account_id"], add_column=live)
    create_partial_index("numbers", ["e164"], "live", unique=True)


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
    drop_indexes("numbers", ["e164"])
    replace_primary_key("numbers", ["e164"], drop_column="live")
    op.execute("DELETE FROM accounts WHERE live_account_id IS NOT NULL")
    drop_indexes("accounts", ["live_account_id"])
    with op.batch_alter_table("accounts") as batch:
        if op.get_bind().dialect.name != "sqlite":  # SQLite's rebuild leaves it out anyway
            batch.drop_constraint("fk_accounts_live_account_id_accounts", type_="foreignkey")
        batch.drop_column("live_account_id")
