"""Types of the accounts feature."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the account and key an authenticated request acts for."""

    account_id: str
    key_id: str
    mode: str


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key; the secret itself is never stored, only its digest."""

    id: str
    account_id: str
    hint: str
    mode: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key at creation: the only time its secret is available."""

    key: ApiKey
    secret: str
