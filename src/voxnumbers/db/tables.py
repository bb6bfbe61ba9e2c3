"""The one schema, for SQLite and PostgreSQL alike (SQLAlchemy Core).

Every tenant table carries ``account_id`` so data can later be partitioned by account.
Changes to this file come with an Alembic migration in ``migrations/versions``; a test
checks that the migrations produce exactly this schema on both databases.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.schema import SchemaItem

from voxnumbers.db.types import Timestamp

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# -- column groups that several tables repeat ----------------------------------------------


def _id() -> Column[str]:
    return Column("id", String(40), primary_key=True)


def _owner(*, index: bool | None = None) -> Column[str]:
    """The tenant column: the account a row belongs to."""
    return Column("account_id", String(40), ForeignKey("accounts.id"), nullable=False, index=index)


def _seq() -> Column[int]:
    """A table's insertion order (a plain INTEGER on SQLite, so it is the rowid)."""
    return Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )


def _account_objects(name: str, *columns: SchemaItem) -> Table:
    """A table of an account's objects of one kind, as ``kit.account_rows`` reads them: by
    id, each owned by an account, listed oldest first (``created_at``, then ``id``)."""
    return Table(
        name, metadata, _id(), _owner(), *columns, Index(None, "account_id", "created_at", "id")
    )


def _logged(*, insert_sentinel: bool = False) -> tuple[Column[Any], ...]:
    """A log's keys: its order (``_seq``) and the public id of each entry."""
    public_id = Column(
        "id", String(40), nullable=False, unique=True, insert_sentinel=insert_sentinel
    )
    return (_seq(), public_id)


def _at(name: str, *, nullable: bool = False) -> Column[object]:
    return Column(name, Timestamp(), nullable=nullable)


def _issued_at() -> tuple[Column[object], ...]:
    """When a credential was issued, revoked and last used."""
    return (_at("created_at"), _at("revoked_at", nullable=True), _at("last_used_at", nullable=True))


def _expiring() -> tuple[SchemaItem, ...]:
    """When a row was written and when it expires, indexed for the sweep that deletes it."""
    return (_at("created_at"), _at("expires_at"), Index(None, "expires_at"))


def _profile() -> tuple[Column[object], ...]:
    """What a number is, the same for sale and owned: where, what kind, what it can do, what
    it costs (in cents) and whether buying it must provision it first."""
    return (
        Column("country", String(2), nullable=False),
        Column("type", String(16), nullable=False),
        Column("region", String(100), nullable=False, server_default=""),
        Column("capabilities", Integer, nullable=False),  # bit mask, see numbers.schemas
        Column("monthly_fee_cents", Integer, nullable=False),
        Column("setup_fee_cents", Integer, nullable=False),
        Column("needs_provisioning", Boolean, nullable=False, server_default="0"),
    )


def _trunk_child() -> tuple[Column[str], ...]:
    """A row that belongs to a trunk and goes with it."""
    return (
        _id(),
        _owner(),
        Column("trunk_id", String(40), ForeignKey("trunks.id", ondelete="CASCADE"), nullable=False),
    )


def _striped_total(*bucket: Column[object]) -> tuple[SchemaItem, ...]:
    """A striped count's key (the account, its country and status, then ``bucket``), its
    slot and total, and the partial index that finds the slots to fold."""
    return (
        Column("account_id", String(40), ForeignKey("accounts.id"), primary_key=True),
        Column("country", String(2), primary_key=True),
        Column("status", String(16), primary_key=True),
        *bucket,
        Column("slot", SmallInteger, primary_key=True, server_default=text("0")),
        Column("total", Integer, nullable=False),
        Index(None, "slot", postgresql_where=text("slot <> 0"), sqlite_where=text("slot <> 0")),
    )


accounts = Table(
    "accounts",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False, server_default="active"),
    _at("created_at"),
    # Set on the test world's row only: the live row (the public account) it belongs to.
    # The test row's id is the public id with ``_test`` appended (see ``kit/worlds.py``).
    Column("live_account_id", String(40), ForeignKey("accounts.id"), nullable=True),
    Index(None, "live_account_id", unique=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    _id(),
    _owner(index=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("hint", String(40), nullable=False),
    Column("mode", String(8), nullable=False),
    *_issued_at(),
)

# Numbers for sale. A number is either here or in ``numbers``; buying moves it atomically.
inventory_numbers = Table(
    "inventory_numbers",
    metadata,
    Column("e164", String(16), primary_key=True),
    *_profile(),
    _at("added_at"),
    CheckConstraint("monthly_fee_cents >= 0 AND setup_fee_cents >= 0", name="fees"),
    Index(None, "country", "e164"),
)

# Numbers owned by an account (including those released and cooling off).
numbers = Table(
    "numbers",
    metadata,
    # A number is owned at most once live (the unique index on ``e164`` over live rows) and at
    # most once in each account's test world (the key).
    Column("e164", String(16), primary_key=True),
    Column("account_id", String(40), ForeignKey("accounts.id"), primary_key=True),
    Column("live", Boolean, nullable=False, server_default="1"),
    *_profile(),
    Column("status", String(16), nullable=False),
    Column("trunk_id", String(40), ForeignKey("trunks.id"), nullable=True),
    Column("application_id", String(40), ForeignKey("applications.id"), nullable=True),
    _at("created_at"),
    _at("updated_at"),
    _at("released_at", nullable=True),
    _at("available_after", nullable=True),
    # Routing at the time of release, restored by cancel-release where it still exists.
    Column("previous_trunk_id", String(40), nullable=True),
    Column("previous_application_id", String(40), nullable=True),
    CheckConstraint("status IN ('active', 'pending', 'suspended', 'released')", name="status"),
    CheckConstraint("trunk_id IS NULL OR application_id IS NULL", name="one_route"),
    # The list's default order, with each seed filter leading: every seed query is one
    # index range read in order, whatever the filter.
    # ``status`` trails the first two so the default list (which leaves released numbers
    # out) is answered from the index alone.
    Index(None, "account_id", "created_at", "e164", "status"),
    Index(None, "account_id", "status", "created_at", "e164"),
    Index(None, "account_id", "country", "created_at", "e164", "status"),
    Index(None, "account_id", "country", "status", "created_at", "e164"),
    Index(None, "account_id", "trunk_id"),
    Index(None, "account_id", "application_id"),
    Index(None, "status", "available_after"),  # cooled-off releases, for the sweep
    Index(None, "e164", unique=True, postgresql_where=text("live"), sqlite_where=text("live")),
)

# Exact totals without counting rows at request time, kept in the same transaction as
# every change to ``numbers``. ``number_totals`` has one row per (account, country, status):
# a list's total is a sum over at most a few dozen rows, whatever the account's size.
# ``number_counts`` splits the same by month of purchase, so a deep page can start near its
# first row instead of skipping every row before it.
# Both are striped: a bucket's count is the sum of its rows over ``slot``. A writing
# transaction adds its changes to one slot drawn at random (PostgreSQL; SQLite's writers are
# serial, it uses slot 0), so one account's concurrent writers do not queue on one row;
# maintenance folds the other slots back into slot 0 (the partial indexes find them).
number_totals = Table(
    "number_totals",
    metadata,
    *_striped_total(),
)

number_counts = Table(
    "number_counts",
    metadata,
    # The month of created_at, as yyyymm.
    *_striped_total(Column("month", Integer, primary_key=True)),
)


trunks = _account_objects(
    "trunks",
    Column("name", String(200), nullable=False),
    Column("auth_type", String(16), nullable=False),
    Column("termination_uri", String(500), nullable=True),
    Column("origination_uris", JSON, nullable=False),
    Column("max_channels", Integer, nullable=False, server_default="0"),
    Column("status", String(16), nullable=False, server_default="active"),
    _at("created_at"),
    _at("updated_at"),
    CheckConstraint("auth_type IN ('ip', 'credential')", name="auth_type"),
    CheckConstraint("max_channels >= 0", name="max_channels"),
)

trunk_credentials = Table(
    "trunk_credentials",
    metadata,
    *_trunk_child(),
    Column("username", String(100), nullable=False),
    Column("password_hash", String(200), nullable=False),  # Argon2id
    _at("created_at"),
    UniqueConstraint("trunk_id", "username"),
)

trunk_ip_acl = Table(
    "trunk_ip_acl",
    metadata,
    *_trunk_child(),
    Column("ip", String(45), nullable=False),
    Column("mask", Integer, nullable=False),
    Column("cidr", String(50), nullable=False),
    Column("description", String(200), nullable=False, server_default=""),
    _at("created_at"),
    Index(None, "trunk_id", "created_at"),
)

applications = _account_objects(
    "applications",
    Column("name", String(200), nullable=False),
    Column("answer_url", String(2000), nullable=True),
    Column("answer_method", String(8), nullable=False, server_default="POST"),
    Column("hangup_url", String(2000), nullable=True),
    Column("hangup_method", String(8), nullable=False, server_default="POST"),
    Column("fallback_url", String(2000), nullable=True),
    Column("webhook_secret", String(200), nullable=True),  # write-only in the API
    _at("created_at"),
    _at("updated_at"),
)

# The outbox: every change of a number, written in the same transaction as the change.
events = Table(
    "events",
    metadata,
    *_logged(insert_sentinel=True),
    _owner(),
    Column("type", String(40), nullable=False),
    Column("e164", String(16), nullable=True),
    Column("data", JSON, nullable=False),
    _at("created_at"),
    Index(None, "account_id", "seq"),
    Index(None, "account_id", "e164", "seq"),
    Index(None, "account_id", "type", "seq"),
)

webhook_endpoints = _account_objects(
    "webhook_endpoints",
    Column("url", String(2000), nullable=False),
    Column("event_types", JSON, nullable=False),  # empty list: every type
    Column("secret", String(100), nullable=False),
    Column("status", String(16), nullable=False, server_default="active"),
    _at("created_at"),
    # A disabled endpoint gets no new deliveries; deleting it is still ``status``.
    Column("enabled", Boolean, nullable=False, server_default="1"),
    # After a rotation the old secret still signs deliveries until it expires (24 h).
    Column("previous_secret", String(100), nullable=True),
    _at("previous_secret_expires_at", nullable=True),
)

# One row per (event, endpoint): what the delivery worker sends, retries and records.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    _seq(),
    _owner(),
    Column(
        "endpoint_id",
        String(40),
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "event_seq",
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("events.seq"),
        nullable=False,
    ),
    Column("e164", String(16), nullable=True),  # deliveries of one number go out in order
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    _at("next_attempt_at"),
    _at("locked_until", nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("last_response_status", Integer, nullable=True),
    _at("created_at"),
    _at("delivered_at", nullable=True),
    CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status"),
    Index(None, "status", "next_attempt_at"),
    Index(None, "endpoint_id", "e164", "status", "seq"),
)

# Safe retries: the first successful response to a POST or DELETE carrying an
# ``Idempotency-Key``, stored in the same transaction as its side effect and replayed.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    # The key's owner: an account id, or an operator token id for the admin API.
    Column("account_id", String(40), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("response_status", Integer, nullable=False),
    Column("response_body", LargeBinary, nullable=False),
    # A response that names what it created (``202`` of a bulk job) replays its Location.
    Column("response_location", String(500), nullable=True),
    *_expiring(),
)

# Web console sessions. The cookie carries a random token; only its SHA-256 is stored, so
# a copy of this table signs no one in. A session acts for one API key: revoking the key
# (or suspending the account) ends it at the next request.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("key_id", String(40), ForeignKey("api_keys.id"), nullable=False, index=True),
    _owner(),
    Column("csrf_token", String(64), nullable=False),
    *_expiring(),
)


# Bulk jobs (API.md §9): one row per job; its selection, fixed at creation, in
# ``bulk_job_items``. A runner claims the oldest runnable job of an account with a lease
# (``lease_owner``, ``locked_until``) and works through the items in committed batches; an
# item's ``outcome`` is written in the same transaction as the number's change, so a resumed
# job never changes a number twice.
bulk_jobs = Table(
    "bulk_jobs",
    metadata,
    *_logged(),
    _owner(),
    Column("action", String(32), nullable=False),
    Column("target_id", String(40), nullable=True),  # the trunk or application assigned
    Column("status", String(16), nullable=False),
    Column("matched", Integer, nullable=False),
    Column("processed", Integer, nullable=False, server_default="0"),
    Column("changed", Integer, nullable=False, server_default="0"),
    Column("unchanged", Integer, nullable=False, server_default="0"),
    Column("failed", Integer, nullable=False, server_default="0"),
    _at("created_at"),
    _at("started_at", nullable=True),
    _at("finished_at", nullable=True),
    Column("lease_owner", String(40), nullable=True),
    _at("locked_until", nullable=True),
    # The key that created the job: the audit log attributes the job's changes to it.
    Column("created_by", String(40), nullable=True),
    CheckConstraint(
        "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')", name="status"
    ),
    Index(None, "account_id", "seq"),
    Index(None, "status", "seq"),
)

bulk_job_items = Table(
    "bulk_job_items",
    metadata,
    Column(
        "job_seq",
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("bulk_jobs.seq"),
        primary_key=True,
    ),
    Column("e164", String(16), primary_key=True),
    _owner(),
    Column("outcome", String(16), nullable=True),  # null: not processed yet
    Column("error_code", String(40), nullable=True),
    Column("error_message", String(500), nullable=True),
    CheckConstraint("outcome IN ('changed', 'unchanged', 'failed')", name="outcome"),
)


# Operator tokens (``tvx_op_…``) of the admin API; only the SHA-256 of a token is stored.
operator_tokens = Table(
    "operator_tokens",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("digest", String(64), nullable=False, unique=True),
    Column("hint", String(40), nullable=False),
    *_issued_at(),
)

# The audit log: who changed what, written in the same transaction as the change.
# ``account_id`` is the account the object belongs to (null for operator-wide objects).
audit_log = Table(
    "audit_log",
    metadata,
    *_logged(),
    _at("at"),
    Column("account_id", String(40), nullable=True),
    Column("actor_type", String(16), nullable=False),
    Column("actor_id", String(40), nullable=True),
    Column("action", String(60), nullable=False),
    Column("object_type", String(40), nullable=False),
    Column("object_id", String(200), nullable=False),
    Column("request_id", String(200), nullable=True),
    Column("ip", String(64), nullable=True),
    Column("changes", JSON, nullable=False),
    CheckConstraint("actor_type IN ('key', 'operator', 'system')", name="actor_type"),
    Index(None, "account_id", "seq"),
    Index(None, "at"),
)
