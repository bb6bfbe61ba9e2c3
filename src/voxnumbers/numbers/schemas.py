"""Request and response shapes of the numbers API (``spec/API.md`` §2, §3)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

import msgspec

from voxnumbers.kit.pagination import Pagination

NumberStatus = Literal["active", "pending", "suspended", "released"]
NumberType = Literal["local", "toll_free", "mobile"]
Capability = Literal["voice", "sms", "mms"]


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
    monthly_fee: Decimal
    setup_fee: Decimal
    currency: Literal["USD"]
    trunk_id: str | None
    application_id: str | None
    created_at: datetime
    updated_at: datetime


class NumberPage(msgspec.Struct, kw_only=True):
    data: list[Number]
    pagination: Pagination


class PurchaseRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST …/numbers/purchase-from-inventory``."""

    e164: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    country: Annotated[str, msgspec.Meta(min_length=1, max_length=8)]


class NumberFilter(msgspec.Struct, frozen=True, kw_only=True):
    """A validated list filter (country upper-cased, status one of ``ListableStatus``)."""

    country: str | None = None
    status: str | None = None
