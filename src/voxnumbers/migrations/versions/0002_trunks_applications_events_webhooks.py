"""Trunks, applications, events and webhooks; routing columns and keys on numbers.

Revision 0002, after 0001; created 2026-11-27 16:34:12.247792.
"""

from __future__ import annotations

from alembic import op

from voxnumbers.migrations.columns import (
    ids,
    integer,
    json,
    sequence,
    sequence_reference,
    string,
    timestamps,
)
from voxnumbers.migrations.steps import create_indexes, create_table, drop_tables

revision = "0002"
down_revision = "0001"

# The routes of a number: its column naming one, and the table that column refers to.
_ROUTES = {"trunk_id": "trunks", "application_id": "applications"}


def upgrade() -> None:
    create_table(
        "applications",
        *ids("id", "account_id"),
        string("name", 200),
        string("answer_url", 2000, nullable=True),
        string("answer_method", 8, default="POST"),
        string("hangup_url", 2000, nullable=True),
        string("hangup_method", 8, default="POST"),
        string("fallback_url", 2000, nullable=True),
        string("webhook_secret", 200, nullable=True),
        *timestamps("created_at", "updated_at"),
        of_account=True,
    )
    create_indexes("applications", ["account_id", "created_at", "id"])
    create_table(
        "events",
        sequence(),
        *ids("id", "account_id"),
        string("type", 40),
        string("e164", 16, nullable=True),
        json("data"),
        *timestamps("created_at"),
        key=["seq"],
        unique=["id"],
        of_account=True,
    )
    create_indexes(
        "events",
        ["account_id", "e164", "seq"],
        ["account_id", "seq"],
        ["account_id", "type", "seq"],
    )
    create_table(
        "trunks",
        *ids("id", "account_id"),
        string("name", 200),
        string("auth_type", 16),
        string("termination_uri", 500, nullable=True),
        json("origination_uris"),
        integer("max_channels", default="0"),
        string("status", 16, default="active"),
        *timestamps("created_at", "updated_at"),
        checks={
            "auth_type": "auth_type IN ('ip', 'credential')",
            "max_channels": "max_channels >= 0",
        },
        of_account=True,
    )
    create_indexes("trunks", ["account_id", "created_at", "id"])
    create_table(
        "webhook_endpoints",
        *ids("id", "account_id"),
        string("url", 2000),
        json("event_types"),
        string("secret", 100),
        string("status", 16, default="active"),
        *timestamps("created_at"),
        of_account=True,
    )
    create_indexes("webhook_endpoints", ["account_id", "created_at", "id"])
    create_table(
        "trunk_credentials",
        *ids("id", "account_id", "trunk_id"),
        string("username", 100),
        string("password_hash", 200),
        *timestamps("created_at"),
        references={"trunk_id": "trunks.id"},
        cascade=["trunk_id"],
        unique=["trunk_id", "username"],
        of_account=True,
    )
    create_table(
        "trunk_ip_acl",
        *ids("id", "account_id", "trunk_id"),
        string("ip", 45),
        integer("mask"),
        string("cidr", 50),
        string("description", 200, default=""),
        *timestamps("created_at"),
        references={"trunk_id": "trunks.id"},
        cascade=["trunk_id"],
        of_account=True,
    )
    create_indexes("trunk_ip_acl", ["trunk_id", "created_at"])
    create_table(
        "webhook_deliveries",
        sequence(),
        *ids("account_id", "endpoint_id"),
        sequence_reference("event_seq"),
        string("e164", 16, nullable=True),
        string("status", 16, default="pending"),
        integer("attempts", default="0"),
        *timestamps("next_attempt_at"),
        *timestamps("locked_until", nullable=True),
        string("last_error", 500, nullable=True),
        *timestamps("created_at"),
        *timestamps("delivered_at", nullable=True),
        key=["seq"],
        checks={"status": "status IN ('pending', 'delivered', 'failed')"},
        references={"endpoint_id": "webhook_endpoints.id", "event_seq": "events.seq"},
        cascade=["endpoint_id"],
        of_account=True,
    )
    create_indexes(
        "webhook_deliveries",
        ["endpoint_id", "e164", "status", "seq"],
        ["status", "next_attempt_at"],
    )
    with op.batch_alter_table("numbers") as batch:
        for column in ids(*(f"previous_{route}" for route in _ROUTES), nullable=True):
            batch.add_column(column)
        for route, table in _ROUTES.items():
            batch.create_foreign_key(f"fk_numbers_{route}_{table}", table, [route], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("numbers") as batch:
        for route, table in reversed(_ROUTES.items()):
            batch.drop_constraint(f"fk_numbers_{route}_{table}", type_="foreignkey")
        for route in reversed(_ROUTES):
            batch.drop_column(f"previous_{route}")
    drop_tables(
        "webhook_deliveries",
        "trunk_ip_acl",
        "trunk_credentials",
        "webhook_endpoints",
        "trunks",
        "events",
        "applications",
    )
