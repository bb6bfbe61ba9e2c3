"""Keyword arguments of the list, search and write methods, as ``TypedDict`` s.

Each filter set is declared once and shared by the sync and async methods (``**params:
Unpack[NumberListParams]``), so type checkers and editors know every accepted keyword.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict


class PageParams(TypedDict, total=False):
    """Paging of every list: ``page`` (from 1) and ``per_page`` (1..100)."""

    page: int
    per_page: int


class NumberFilters(TypedDict, total=False):
    """Filters of the owned-numbers list and export (API.md §3.1)."""

    country: str
    status: str
    type: str
    capability: str | Sequence[str]
    region: str
    trunk_id: str
    application_id: str
    routed: bool
    contains: str
    created_after: datetime
    created_before: datetime
    updated_since: datetime
    sort: str


class NumberListParams(NumberFilters, PageParams, total=False):
    """``numbers.list`` keywords: the number filters plus paging, by ``page`` or by an opaque
    ``cursor`` (``""`` for the first page; the next pages follow ``next_cursor``)."""

    cursor: str


class InventorySearchParams(PageParams, total=False):
    """``inventory.search`` keywords (API.md §3.1b); always ordered by number."""

    country: str
    type: str
    region: str
    capability: str | Sequence[str]
    contains: str


class EventListParams(PageParams, total=False):
    """``events.list`` keywords: filter by event ``type`` or by number."""

    type: str
    e164: str


class TrunkFields(TypedDict, total=False):
    """Optional fields of a trunk (``name`` and ``auth_type`` are arguments of their own)."""

    termination_uri: str | None
    origination_uris: Sequence[str]
    max_channels: int


class ApplicationFields(TypedDict, total=False):
    """Optional fields of a voice application; ``webhook_secret`` is write-only."""

    answer_url: str | None
    answer_method: str | None
    hangup_url: str | None
    hangup_method: str | None
    fallback_url: str | None
    webhook_secret: str | None


class ApplicationUpdate(ApplicationFields, total=False):
    """Fields ``applications.update`` may change: only those passed are sent."""

    name: str
