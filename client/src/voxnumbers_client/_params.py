"""Keyword arguments of the list, search and write methods, as ``TypedDict`` s.

Each filter set is declared once and shared by the sync and async methods (``**params:
Unpack[NumberListParams]``), so type checkers and editors know every accepted keyword.
The same declarations, with the :class:`Doc` of each keyword, are where the ``vox`` list
commands take their flags from (``cli/_options.py``): a keyword added here is a flag there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, TypedDict


@dataclass(frozen=True, slots=True)
class Doc:
    """What a person is told about a keyword: the help of its ``vox`` flag (whose name is
    the keyword's, ``--created-after`` for ``created_after``), older flag spellings still
    accepted, the flag that turns a boolean off, and the bounds of a number."""

    help: str
    aliases: tuple[str, ...] = ()
    off_flag: str | None = None
    min: int | None = None
    max: int | None = None


class PageParams(TypedDict, total=False):
    """Paging of every list: ``page`` (from 1) and ``per_page`` (1..100)."""

    page: Annotated[int, Doc("Page to show (from 1).", min=1)]
    per_page: Annotated[int, Doc("Items per page (1-100, API default 20).", min=1, max=100)]


class NumberFilters(TypedDict, total=False):
    """Filters of the owned-numbers list and export (API.md §3.1)."""

    country: Annotated[str, Doc("ISO 3166-1 alpha-2 code, e.g. US.")]
    status: Annotated[str, Doc("active, pending, suspended or released.")]
    type: Annotated[str, Doc("local, toll_free or mobile.")]
    capability: Annotated[str | Sequence[str], Doc("voice, sms or mms; repeat to require several.")]
    region: Annotated[str, Doc("State or region, e.g. CA.")]
    trunk_id: Annotated[str, Doc("Routed to this trunk id.", aliases=("--trunk",))]
    application_id: Annotated[
        str, Doc("Routed to this application id.", aliases=("--application",))
    ]
    routed: Annotated[bool, Doc("Only numbers with (or without) a route.", off_flag="--unrouted")]
    contains: Annotated[str, Doc("Digits the number contains.")]
    created_after: Annotated[
        datetime, Doc("Bought after this time (ISO 8601; UTC when it has no offset).")
    ]
    created_before: Annotated[datetime, Doc("Bought before this time (ISO 8601).")]
    updated_since: Annotated[datetime, Doc("Changed since this time (ISO 8601).")]
    sort: Annotated[str, Doc("created_at, e164 or updated_at; prefix - for descending.")]


class NumberListParams(NumberFilters, PageParams, total=False):
    """``numbers.list`` keywords: the number filters plus paging, by ``page`` or by an opaque
    ``cursor`` (``""`` for the first page; the next pages follow ``next_cursor``)."""

    cursor: Annotated[
        str, Doc("Page by cursor: the next_cursor of the page before (not with --page).")
    ]


class InventorySearchParams(PageParams, total=False):
    """``inventory.search`` keywords (API.md §3.1b); always ordered by number."""

    country: Annotated[str, Doc("ISO 3166-1 alpha-2 code, e.g. US.")]
    type: Annotated[str, Doc("local, toll_free or mobile.")]
    region: Annotated[str, Doc("State or region, e.g. CA.")]
    capability: Annotated[str | Sequence[str], Doc("voice, sms or mms; repeat to require several.")]
    contains: Annotated[str, Doc("Digits the number contains.")]


class EventListParams(PageParams, total=False):
    """``events.list`` keywords: filter by event ``type`` or by number."""

    type: Annotated[str, Doc("Only this type, e.g. number.released.")]
    e164: Annotated[str, Doc("Only events of this E.164 number.", aliases=("--number",))]


class TrunkFields(TypedDict, total=False):
    """Optional fields of a trunk (``name`` and ``auth_type`` are arguments of their own)."""

    termination_uri: str | None
    origination_uris: Sequence[str]
    max_channels: int


class TrunkUpdate(TrunkFields, total=False):
    """Fields ``trunks.update`` may change: only those passed change, the others stay."""

    name: str
    auth_type: str


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


class JobListParams(PageParams, total=False):
    """``jobs.list`` keywords: filter by ``status``."""

    status: Annotated[str, Doc("queued, running, succeeded, failed or cancelled.")]


class JobResultParams(PageParams, total=False):
    """``jobs.results`` keywords: filter by ``outcome``."""

    outcome: Annotated[str, Doc("changed, unchanged or failed.")]


class BulkFilters(TypedDict, total=False):
    """The list filters as ``vox numbers bulk`` takes them: those of ``NumberFilters``, but
    ``--trunk`` and ``--application`` name the bulk action's target there, so the filters
    on the current route are only ``--trunk-id`` and ``--application-id``."""

    country: Annotated[str, Doc("ISO 3166-1 alpha-2 code, e.g. US.")]
    status: Annotated[str, Doc("active, pending, suspended or released.")]
    type: Annotated[str, Doc("local, toll_free or mobile.")]
    capability: Annotated[str | Sequence[str], Doc("voice, sms or mms; repeat to require several.")]
    region: Annotated[str, Doc("State or region, e.g. CA.")]
    trunk_id: Annotated[str, Doc("Numbers routed to this trunk id now.")]
    application_id: Annotated[str, Doc("Numbers routed to this application id now.")]
    routed: Annotated[bool, Doc("Only numbers with (or without) a route.", off_flag="--unrouted")]
    contains: Annotated[str, Doc("Digits the number contains.")]
    created_after: Annotated[
        datetime, Doc("Bought after this time (ISO 8601; UTC when it has no offset).")
    ]
    created_before: Annotated[datetime, Doc("Bought before this time (ISO 8601).")]
    updated_since: Annotated[datetime, Doc("Changed since this time (ISO 8601).")]
