"""Shapes of the audit log API (``spec/API.md`` §12)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar.params import Parameter

from voxnumbers.kit.pagination import PER_PAGE_MAX


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


# The query parameters of a log, the account's (``/v1``) and the operators' (``/admin/v1``).
ObjectType = Annotated[
    str | None,
    Parameter(
        description="Only changes of this type of object (`number`, `trunk`, `webhook`, …).",
        min_length=1,
        max_length=200,
    ),
]
ObjectId = Annotated[
    str | None,
    Parameter(
        description="Only changes of this object (its id, or a number's e164).",
        min_length=1,
        max_length=200,
    ),
]
ActorId = Annotated[
    str | None,
    Parameter(
        description="Only changes made by this key (`key_…`) or operator token (`opt_…`).",
        min_length=1,
        max_length=200,
    ),
]
Since = Annotated[
    datetime | None,
    Parameter(
        description="Only changes at or after this time (ISO 8601, e.g. `2026-03-15T08:20:00Z`)."
    ),
]
Cursor = Annotated[
    str | None, Parameter(description="`next_cursor` of the previous page.", max_length=1024)
]
Limit = Annotated[
    int, Parameter(ge=1, le=PER_PAGE_MAX, description=f"Entries per page, 1 to {PER_PAGE_MAX}.")
]
