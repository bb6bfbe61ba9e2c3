"""Shapes of the admin API (``spec/API.md`` §12) and of operator tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import msgspec

from voxnumbers.kit.pagination import Page

_CONTROL = "\\u0000-\\u001f\\u007f-\\u009f"
# Free text that is not blank (trimmed), without control characters.
NotBlank = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=200,
        pattern=f"^[^\\S{_CONTROL}]*[^\\s{_CONTROL}][^{_CONTROL}]*$",
        description="1 to 200 characters, not blank.",
    ),
]


@dataclass(frozen=True, slots=True)
class OperatorToken:
    """A stored operator token; the token itself is never stored, only its digest."""

    id: str
    name: str
    hint: str
    created_at: datetime
    # Neither when issued.
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def account_id(self) -> None:
        """An operator token belongs to no account (its audit entries say so)."""
        return None


@dataclass(frozen=True, slots=True)
class IssuedOperatorToken:
    """An operator token at creation: the only time the token is available."""

    token: OperatorToken
    secret: str


class AccountView(msgspec.Struct, kw_only=True):
    id: str
    name: str
    status: str
    created_at: datetime


class AccountPage(Page[AccountView]):
    data: list[AccountView]


class AccountCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST /admin/v1/accounts``."""

    name: NotBlank


class KeyView(msgspec.Struct, kw_only=True):
    """An API key as listed: its hint, never the key."""

    id: str
    account_id: str
    hint: str
    mode: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class CreatedKey(KeyView, kw_only=True):
    """A key at creation: the only time ``secret`` is shown."""

    secret: str


class KeyPage(msgspec.Struct, kw_only=True):
    data: list[KeyView]


class KeyCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST /admin/v1/accounts/{account_id}/keys``; ``test`` issues a test key."""

    test: bool = False


# The largest body of ``POST /admin/v1/inventory/import`` (its own limit, above the API's
# ``max_body_bytes``): half a million rows of a typical file.
UPLOAD_MAX_BYTES = 16 * 1024 * 1024


class InventoryUpload(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST /admin/v1/inventory/import``: the CSV file's text, header row first,
    as ``vox admin inventory import`` reads it. ``skip_invalid`` imports the valid rows and
    lists the others; without it one invalid row means nothing is imported (``400``)."""

    csv: Annotated[
        str,
        msgspec.Meta(pattern="^[^\\u0000]*$", description="The CSV file's text (lines and all)."),
    ]
    skip_invalid: bool = False


class ImportProblem(msgspec.Struct, kw_only=True):
    line: int
    reason: str


class ImportResult(msgspec.Struct, kw_only=True):
    """What an import did: numbers added, already present (for sale or owned), invalid."""

    added: int
    present: int
    invalid: int
    problems: list[ImportProblem]


class SuspendRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST /admin/v1/numbers/{e164}/suspend``."""

    reason: NotBlank
