"""Types of stored idempotent responses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The first successful response to a request with an Idempotency-Key."""

    account_id: str
    key: str
    fingerprint: str
    response_status: int
    response_body: bytes
    created_at: datetime
    expires_at: datetime
    response_location: str | None = None
    """The ``Location`` header of a response that named what it created."""
