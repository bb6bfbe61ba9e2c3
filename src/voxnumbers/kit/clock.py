"""Time in one place: UTC, second precision, ISO 8601 with ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current time in UTC, truncated to whole seconds (the API's precision)."""
    return datetime.now(UTC).replace(microsecond=0)


def iso_z(moment: datetime) -> str:
    """``2026-03-15T08:20:00Z`` for an aware datetime."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
