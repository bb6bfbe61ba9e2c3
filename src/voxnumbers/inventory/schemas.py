"""Shapes of the inventory API (``spec/API.md`` §3.1b) and of imported entries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from voxnumbers.kit.money import Money
from voxnumbers.kit.pagination import Page
from voxnumbers.vocabulary import Capability, NumberType


class AvailableNumber(msgspec.Struct, kw_only=True):
    """A number anyone may buy now: what a buyer needs to choose."""

    e164: str
    country: str
    type: NumberType
    region: str
    capabilities: list[Capability]
    monthly_fee: Money
    setup_fee: Money
    currency: Literal["USD"]


class AvailableNumberPage(Page[AvailableNumber]):
    data: list[AvailableNumber]


class InventorySearch(msgspec.Struct, frozen=True, kw_only=True):
    """A validated inventory search."""

    country: str | None = None
    type: str | None = None
    region: str | None = None
    capabilities_mask: int = 0
    contains: str | None = None


class InventoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One number to put up for sale, fully resolved (facts derived, fees in cents)."""

    e164: str
    country: str
    type: str
    region: str
    capabilities: int
    monthly_fee_cents: int
    setup_fee_cents: int
    needs_provisioning: bool
    added_at: datetime
