"""Shapes of the audit log API (``spec/API.md`` §12)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec


class AuditActor(msgspec.Struct, kw_only=True):
    """Who acted: an API key (``key_…``), an operator token (``opt_…``) or the system."""

    type: Literal["key", "operator", "system"]
    id: str | None


class AuditObject(msgspec.Struct, kw_only=True):
    """What was changed."""

    type: str
    id: str


class AuditEntry(msgspec.Struct, kw_only=True):
    """One change: ``changes`` maps each changed field to ``[old, new]``; secrets are
    ``"[redacted]"``."""

    id: str
    at: datetime
    account_id: str | None
    livemode: bool | None  # the world of the account the change was in; null: no account
    actor: AuditActor
    action: str
    object: AuditObject
    request_id: str | None
    ip: str | None
    changes: dict[str, Any]


class AuditPage(msgspec.Struct, kw_only=True):
    """A page of entries, newest first; ``next_cursor`` is null on the last page."""

    data: list[AuditEntry]
    next_cursor: str | None


class AuditFilter(msgspec.Struct, frozen=True, kw_only=True):
    """A validated filter of the audit log."""

    account_id: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    actor_id: str | None = None
    since: datetime | None = None
    before_seq: int | None = None
