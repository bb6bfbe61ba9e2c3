"""Types of the accounts feature."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the account and key an authenticated request acts for.

    ``account_id`` is the world the key acts in (``kit/worlds.py``): the public account id
    for a live key, its test world's internal id for a test key. Every query of tenant data
    is scoped by it. ``public_account_id`` is what clients see and what paths must name.
    """

    account_id: str
    key_id: str
    mode: str
    public_account_id: str

    @property
    def livemode(self) -> bool:
        return self.mode != "test"


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
    # Neither when issued.
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key at creation: the only time its secret is available."""

    key: ApiKey
    secret: str
