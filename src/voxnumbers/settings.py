"""One typed settings object, read once from ``VOX_*`` environment variables and passed in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

DEFAULT_SQLITE_PATH = Path("var") / "voxnumbers.sqlite3"


class SettingsError(ValueError):
    """A ``VOX_*`` variable has a value that cannot be used."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service can be configured with.

    Each field maps to the environment variable ``VOX_<FIELD NAME IN CAPITALS>``; the
    metadata ``doc`` of each field is what the README's configuration table says.
    """

    database_url: str = field(
        default="",
        metadata={
            "doc": "SQLAlchemy URL; empty means an SQLite file at var/voxnumbers.sqlite3. "
            "`postgresql://user@host/db` selects PostgreSQL (asyncpg)."
        },
    )
    host: str = field(default="127.0.0.1", metadata={"doc": "Address `vox serve` listens on."})
    port: int = field(
        default=8000, metadata={"doc": "Port `vox serve` listens on.", "min": 1, "max": 65535}
    )
    workers: int = field(
        default=1, metadata={"doc": "Server worker processes for `vox serve`.", "min": 1}
    )
    log_level: str = field(default="info", metadata={"doc": "debug, info, warning or error."})
    public_base_url: str = field(
        default="",
        metadata={"doc": "Base URL printed in the demo's curl line; default http://HOST:PORT."},
    )
    db_pool_size: int = field(
        default=10, metadata={"doc": "Database connections per process.", "min": 1}
    )
    db_pool_timeout_seconds: float = field(
        default=5.0, metadata={"doc": "Longest wait for a free database connection."}
    )
    db_connect_timeout_seconds: float = field(
        default=5.0,
        metadata={
            "doc": "Longest wait for PostgreSQL to accept a new connection (an unreachable "
            "host answers `503` after this, never hangs)."
        },
    )
    db_statement_timeout_seconds: float = field(
        default=10.0, metadata={"doc": "Longest a single SQL statement may run (PostgreSQL)."}
    )
    max_body_bytes: int = field(
        default=65536, metadata={"doc": "Largest request body accepted.", "min": 1024}
    )
    key_usage_flush_seconds: float = field(
        default=30.0,
        metadata={
            "doc": "How often API keys' `last_used_at` is written, batched, to the database."
        },
    )
    maintenance_interval_seconds: float = field(
        default=60.0,
        metadata={
            "doc": "How often each server returns cooled-off numbers to inventory and "
            "drops expired idempotency keys."
        },
    )
    audit_retention_days: int = field(
        default=365,
        metadata={
            "doc": "Days audit log entries are kept; maintenance deletes older ones.",
            "min": 1,
        },
    )
    early_termination_fee_cents: int = field(
        default=2500,
        metadata={"doc": "Fee for releasing a number bought less than the minimum term ago."},
    )
    minimum_term_days: int = field(
        default=90, metadata={"doc": "Days after purchase during which a release costs the fee."}
    )
    cooling_off_days: int = field(
        default=30, metadata={"doc": "Days a released number stays reserved to its last owner."}
    )
    sip_domain: str = field(
        default="sip.voxnumbers.local",
        metadata={"doc": "Domain under which trunks get their SIP host."},
    )
    run_worker: bool = field(
        default=True,
        metadata={
            "doc": "Deliver webhooks from inside each `vox serve` process. Set false when "
            "deliveries run in separate `vox worker` processes instead."
        },
    )
    run_jobs: bool = field(
        default=True,
        metadata={
            "doc": "Run bulk jobs from inside each `vox serve` process (any instance resumes "
            "the jobs of one that stopped)."
        },
    )
    job_batch_size: int = field(
        default=1000,
        metadata={"doc": "Numbers a bulk job changes per transaction.", "min": 1, "max": 5000},
    )
    job_lease_seconds: float = field(
        default=30.0,
        metadata={
            "doc": "How long a bulk job's claim lasts without progress; after that another "
            "instance resumes it."
        },
    )
    job_concurrency: int = field(
        default=2,
        metadata={
            "doc": "Bulk jobs (of different accounts) one process runs at once.",
            "min": 1,
            "max": 32,
        },
    )
    job_share_when_busy: float = field(
        default=0.1,
        metadata={
            "doc": "The largest share of its time a bulk job's batches take while requests "
            "keep the process busy: after a batch during which requests were in flight at "
            "least half the time, the runner rests long enough to keep to it, so requests "
            "beside a job keep most of their speed; a job beside no more than a status poll "
            "never rests. 1: never rest.",
            "min": 0.05,
            "max": 1,
        },
    )
    job_poll_seconds: float = field(
        default=1.0,
        metadata={"doc": "How often an idle bulk job runner looks for queued jobs."},
    )
    worker_poll_seconds: float = field(
        default=1.0,
        metadata={"doc": "How often an idle webhook worker looks for deliveries that are due."},
    )
    webhook_timeout_seconds: float = field(
        default=10.0,
        metadata={"doc": "Longest wait for a webhook endpoint to answer one delivery."},
    )
    webhook_max_age_hours: int = field(
        default=24,
        metadata={
            "doc": "Hours after an event during which a failing delivery is retried; after "
            "that it is marked failed."
        },
    )
    rate_limit_per_minute: int = field(
        default=600,
        metadata={
            "doc": "Requests per minute each API key may make, on average; over it, "
            "`429 RATE_LIMITED`. 0 turns rate limiting off."
        },
    )
    rate_limit_burst: int = field(
        default=100,
        metadata={
            "doc": "Requests a key may make at once (its idle allowance) before being held to "
            "the per-minute rate."
        },
    )
    redis_url: str = field(
        default="",
        metadata={
            "doc": "Redis shared by all instances for rate limits (`redis://host:6379/0`); "
            "empty means limits per process. If Redis goes away, limits fall back to per "
            "process until it is back."
        },
    )
    redis_key_prefix: str = field(
        default="voxnumbers:",
        metadata={"doc": "Prefix of every key written to Redis (to share one Redis)."},
    )
    redis_timeout_seconds: float = field(
        default=0.25,
        metadata={"doc": "Longest wait for Redis during a request before falling back."},
    )
    cors_origins: str = field(
        default="",
        metadata={
            "doc": "Comma-separated origins whose browser pages may call the API (CORS); "
            "empty means no CORS headers at all."
        },
    )

    def __post_init__(self) -> None:
        """Refuse values no deployment could mean: negative sizes, ports out of range…"""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            low, high = f.metadata.get("min", 0), f.metadata.get("max")
            if value < low or (high is not None and value > high):
                bounds = f"at least {low}" if high is None else f"from {low} to {high}"
                raise SettingsError(f"VOX_{f.name.upper()}={value!r}: must be {bounds}")
        if self.log_level.lower() not in ("debug", "info", "warning", "error"):
            raise SettingsError(f"VOX_LOG_LEVEL={self.log_level!r}: debug, info, warning or error")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``VOX_*`` variables (other variables, such as the client's
        ``VOX_API_KEY``, are left alone)."""
        env = os.environ if environ is None else environ
        known = {f"VOX_{f.name.upper()}": f for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, f in known.items():
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            values[f.name] = _coerce(name, raw, f.type)
        return cls(**values)

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields changed (``None`` values are ignored)."""
        current = {f.name: getattr(self, f.name) for f in fields(self)}
        current.update({k: v for k, v in changes.items() if v is not None})
        return Settings(**current)

    @property
    def resolved_database_url(self) -> str:
        """The database URL with the async driver named, defaulting to the SQLite file."""
        url = self.database_url or f"sqlite:///{DEFAULT_SQLITE_PATH}"
        for plain, driver in (
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if url.startswith(plain):
                return driver + url[len(plain) :]
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


def settings_documentation() -> list[tuple[str, str, str]]:
    """(variable, default, description) for every setting, for docs and ``vox --help``."""
    rows = []
    for f in fields(Settings):
        rows.append((f"VOX_{f.name.upper()}", repr(f.default), f.metadata.get("doc", "")))
    return rows


def _coerce(name: str, raw: str, annotation: Any) -> Any:
    kind = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "str")
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            if raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not a valid {kind}") from exc
    return raw
