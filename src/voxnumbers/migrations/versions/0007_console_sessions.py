"""Web console sessions (a digest of the cookie's token, the key it acts for, CSRF token).

Revision 0007, after 0006; created 2026-12-04.
"""

from __future__ import annotations

from voxnumbers.migrations.columns import ids, string, timestamps
from voxnumbers.migrations.steps import create_indexes, create_table, drop_tables

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    create_table(
        "console_sessions",
        string("digest", 64),
        *ids("key_id", "account_id"),
        string("csrf_token", 64),
        *timestamps("created_at", "expires_at"),
        key=["digest"],
        references={"key_id": "api_keys.id"},
        of_account=True,
    )
    create_indexes("console_sessions", ["expires_at"], ["key_id"])


def downgrade() -> None:
    drop_tables("console_sessions")
