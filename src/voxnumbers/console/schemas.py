"""Types of the web console: its session, and the forms and queries its pages read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

import msgspec

from voxnumbers.kit.pagination import PER_PAGE_DEFAULT
from voxnumbers.numbers.schemas import ListableStatus, SortKey
from voxnumbers.vocabulary import Capability, NumberType


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A signed-in browser: the key it acts for, and the token its forms must carry."""

    account_id: str  # the world the key acts in (``kit/worlds.py``): every query's scope
    key_id: str
    mode: str  # "live" or "test", from the key
    hint: str  # the key as it may be shown: prefix and last four characters
    csrf_token: str
    public_account_id: str  # the account as shown


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just opened: ``token`` goes in the cookie, and nowhere else."""

    token: str
    session: ConsoleSession


Page = Annotated[int, msgspec.Meta(ge=1)]
PerPage = Annotated[int, msgspec.Meta(ge=1, le=100)]


class NumbersQuery(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The numbers page's query: the list's filters, sort and paging (empty fields absent)."""

    country: str | None = None
    status: ListableStatus | None = None
    type: NumberType | None = None
    region: str | None = None
    capability: list[Capability] = msgspec.field(default_factory=list)
    routed: bool | None = None
    trunk_id: str | None = None
    application_id: str | None = None
    contains: str | None = None
    created_after: date | None = None
    created_before: date | None = None
    sort: SortKey = "created_at"
    page: Page = 1
    per_page: PerPage = PER_PAGE_DEFAULT
    format: Literal["csv", "ndjson"] = "csv"  # the export's only


class InventoryQuery(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    country: str | None = None
    type: NumberType | None = None
    region: str | None = None
    capability: list[Capability] = msgspec.field(default_factory=list)
    contains: str | None = None
    page: Page = 1
    per_page: PerPage = PER_PAGE_DEFAULT


class EventsQuery(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    type: str | None = None
    e164: str | None = None
    page: Page = 1
    per_page: PerPage = PER_PAGE_DEFAULT


class PageQuery(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    page: Page = 1
    per_page: PerPage = PER_PAGE_DEFAULT


class SignInForm(msgspec.Struct, kw_only=True):
    api_key: str
    csrf: str = ""
