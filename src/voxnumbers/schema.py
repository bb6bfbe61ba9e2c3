"""The one schema, for SQLite and PostgreSQL alike (SQLAlchemy Core).

Every tenant table carries ``account_id`` so data can later be partitioned by account.
Changes to this file come with an Alembic migration in ``migrations/versions``; a test
checks that the migrations produce exactly this schema on both databases.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

from voxnumbers.kit.db import Timestamp

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("created_at", Timestamp(), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", String(40), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("hint", String(40), nullable=False),
    Column("mode", String(8), nullable=False),
    Column("created_at", Timestamp(), nullable=False),
    Column("revoked_at", Timestamp(), nullable=True),
    Column("last_used_at", Timestamp(), nullable=True),
)

# Numbers for sale. A number is either here or in ``numbers``; buying moves it atomically.
inventory_numbers = Table(
    "inventory_numbers",
    metadata,
    Column("e164", String(16), primary_key=True),
    Column("country", String(2), nullable=False),
    Column("type", String(16), nullable=False),
    Column("region", String(100), nullable=False, server_default=""),
    Column("capabilities", Integer, nullable=False),  # bit mask, see numbers.schemas
    Column("monthly_fee_cents", Integer, nullable=False),
    Column("setup_fee_cents", Integer, nullable=False),
    Column("needs_provisioning", Boolean, nullable=False, server_default="0"),
    Column("added_at", Timestamp(), nullable=False),
    CheckConstraint("monthly_fee_cents >= 0 AND setup_fee_cents >= 0", name="fees"),
    Index(None, "country", "e164"),
)

# Numbers owned by an account (including those released and cooling off).
numbers = Table(
    "numbers",
    metadata,
    Column("e164", String(16), primary_key=True),
    Column("account_id", String(40), ForeignKey("accounts.id"), nullable=False),
    Column("country", String(2), nullable=False),
    Column("type", String(16), nullable=False),
    Column("region", String(100), nullable=False, server_default=""),
    Column("capabilities", Integer, nullable=False),
    Column("monthly_fee_cents", Integer, nullable=False),
    Column("setup_fee_cents", Integer, nullable=False),
    Column("needs_provisioning", Boolean, nullable=False, server_default="0"),
    Column("status", String(16), nullable=False),
    Column("trunk_id", String(40), nullable=True),
    Column("application_id", String(40), nullable=True),
    Column("created_at", Timestamp(), nullable=False),
    Column("updated_at", Timestamp(), nullable=False),
    Column("released_at", Timestamp(), nullable=True),
    Column("available_after", Timestamp(), nullable=True),
    CheckConstraint("status IN ('active', 'pending', 'suspended', 'released')", name="status"),
    CheckConstraint("trunk_id IS NULL OR application_id IS NULL", name="one_route"),
    # The list's default order, with each seed filter leading: every seed query is one
    # index range read in order, whatever the filter.
    Index(None, "account_id", "created_at", "e164"),
    Index(None, "account_id", "status", "created_at", "e164"),
    Index(None, "account_id", "country", "created_at", "e164"),
    Index(None, "account_id", "country", "status", "created_at", "e164"),
)

# Exact totals without counting rows at request time: one row per (account, country,
# status), kept in the same transaction as every change to ``numbers``.
number_counts = Table(
    "number_counts",
    metadata,
    Column("account_id", String(40), ForeignKey("accounts.id"), primary_key=True),
    Column("country", String(2), primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("total", Integer, nullable=False),
)
