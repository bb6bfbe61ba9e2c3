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
    port: int = field(default=8000, metadata={"doc": "Port `vox serve` listens on."})
    workers: int = field(default=1, metadata={"doc": "Server worker processes for `vox serve`."})
    log_level: str = field(default="info", metadata={"doc": "debug, info, warning or error."})
    public_base_url: str = field(
        default="",
        metadata={"doc": "Base URL printed in the demo's curl line; default http://HOST:PORT."},
    )
    db_pool_size: int = field(default=10, metadata={"doc": "Database connections per process."})
    db_pool_timeout_seconds: float = field(
        default=5.0, metadata={"doc": "Longest wait for a free database connection."}
    )
    db_statement_timeout_seconds: float = field(
        default=10.0, metadata={"doc": "Longest a single SQL statement may run (PostgreSQL)."}
    )
    max_body_bytes: int = field(default=65536, metadata={"doc": "Largest request body accepted."})
    key_usage_flush_seconds: float = field(
        default=30.0,
        metadata={
            "doc": "How often API keys' `last_used_at` is written, batched, to the database."
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

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``VOX_*`` variables; unknown ``VOX_*`` names are an error."""
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
