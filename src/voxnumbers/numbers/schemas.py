"""Request and response shapes of the numbers API (``spec/API.md`` §2, §3)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, NamedTuple

import msgspec

from voxnumbers.kit.money import Money
from voxnumbers.kit.pagination import Page
from voxnumbers.vocabulary import Capability, NumberStatus, NumberType


class ListableStatus(StrEnum):
    """Statuses the list can filter on (``released`` lists numbers cooling off)."""

    active = "active"
    pending = "pending"
    suspended = "suspended"
    released = "released"


class Number(msgspec.Struct, kw_only=True):
    """A number owned by the account. Exactly these keys, in this order [compat]."""

    e164: str
    country: str
    type: NumberType
    region: str
    status: NumberStatus
    capabilities: list[Capability]
    monthly_fee: Money
    setup_fee: Money
    currency: Literal["USD"]
    trunk_id: str | None
    application_id: str | None
    created_at: datetime
    updated_at: datetime


class ReleasedNumber(Number, kw_only=True):
    """A number cooling off after its release [ext]: the number object and, after its keys,
    when it was released and when it returns to inventory. Only released numbers carry
    these two keys, so every other answer keeps the seed's shape exactly."""

    released_at: datetime
    available_after: datetime


class NumberPage(Page[Number]):
    data: list[Number]


class PurchaseRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST …/numbers/purchase-from-inventory``."""

    e164: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    country: Annotated[str, msgspec.Meta(min_length=1, max_length=8)]


class ListFilterFields(msgspec.Struct, frozen=True, kw_only=True):
    """The list's filters (``GET …/numbers``) but capabilities: the fields ``ListFilters``
    (the filters as the request gave them) and ``NumberFilter`` (validated) share."""

    country: str | None = None
    status: str | None = None
    trunk_id: str | None = None
    application_id: str | None = None
    routed: bool | None = None
    type: str | None = None
    region: str | None = None
    contains: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_since: datetime | None = None


class NumberFilter(ListFilterFields, frozen=True, kw_only=True):
    """A validated list filter (country upper-cased, status one of ``ListableStatus``).

    With ``status="released"``, only numbers still cooling off at ``now`` match.
    """

    capabilities_mask: int = 0
    now: datetime | None = None

    @property
    def is_seed_filter(self) -> bool:
        """Only the seed's filters (country, status): its total is in ``number_totals``."""
        extensions = (
            self.trunk_id,
            self.application_id,
            self.routed,
            self.type,
            self.region,
            self.contains,
            self.created_after,
            self.created_before,
            self.updated_since,
        )
        return (
            all(value is None for value in extensions)
            and not self.capabilities_mask
            and self.status != "released"
        )


SortKey = Literal["created_at", "-created_at", "e164", "-e164", "updated_at", "-updated_at"]
SORT_KEYS: tuple[str, ...] = SortKey.__args__  # type: ignore[attr-defined]


class ListOrder(msgspec.Struct, frozen=True):
    """The list's total order: a column, then ``e164``, both ascending or both descending."""

    column: str = "created_at"
    descending: bool = False

    @classmethod
    def parse(cls, sort: str) -> ListOrder:
        return cls(column=sort.lstrip("-"), descending=sort.startswith("-"))

    @property
    def key(self) -> str:
        return f"-{self.column}" if self.descending else self.column


class Position(msgspec.Struct, frozen=True):
    """Where a cursor stands: the sort value and number of the last row it returned."""

    value: datetime | str
    e164: str


class NumberRecord(msgspec.Struct):
    """An owned number as stored, with what the API does not show. Its fields are the
    ``numbers`` table's columns in their order, so that a row of ``select(numbers)`` makes
    one by position (``NumberRecord(*row)``), at a fraction of the cost by name."""

    e164: str
    account_id: str
    live: bool
    country: str
    type: str
    region: str
    capabilities: int
    monthly_fee_cents: int
    setup_fee_cents: int
    needs_provisioning: bool
    status: str
    trunk_id: str | None
    application_id: str | None
    created_at: datetime
    updated_at: datetime
    released_at: datetime | None
    available_after: datetime | None
    previous_trunk_id: str | None
    previous_application_id: str | None

    def is_cooling_off(self, now: datetime) -> bool:
        return self.status == "released" and (
            self.available_after is None or self.available_after > now
        )


class RoutingTarget(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST …/numbers/{e164}/assign``."""

    trunk_id: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class ApplicationTarget(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST …/numbers/{e164}/application``."""

    application_id: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class Routing(msgspec.Struct, kw_only=True):
    """Answer of assign and unassign: where the number routes now."""

    e164: str
    trunk_id: str | None
    application_id: str | None
    status: NumberStatus
    updated_at: datetime


class ReleasePreview(msgspec.Struct, kw_only=True):
    e164: str
    can_release: bool
    early_termination_fee: Money
    currency: Literal["USD"]
    cooling_off_period_days: int
    warnings: list[str]


class Release(msgspec.Struct, kw_only=True):
    e164: str
    status: Literal["released"]
    released_at: datetime
    early_termination_fee: Money
    currency: Literal["USD"]
    cooling_off_period_days: int
    available_after: datetime


RoutingField = Literal["trunk_id", "application_id"]


class Destination(NamedTuple):
    """What numbers route to: one of the account's trunks or applications, named by the
    column of ``numbers`` that holds it."""

    field: RoutingField
    id: str

    @property
    def routing(self) -> tuple[str | None, str | None]:
        """The trunk and the application of a number routed here (the other is cleared)."""
        return (self.id, None) if self.field == "trunk_id" else (None, self.id)

    @property
    def noun(self) -> str:
        return "trunk" if self.field == "trunk_id" else "application"
