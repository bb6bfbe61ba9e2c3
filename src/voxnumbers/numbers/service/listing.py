"""Listing and reading numbers (the seed and its neighbours)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.errors import NotFound, ValidationFailed
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.cursor import InvalidCursor, decode_cursor, encode_cursor
from voxnumbers.kit.pagination import PER_PAGE_DEFAULT, offset_of, pagination
from voxnumbers.numbers import repository
from voxnumbers.numbers.schemas import (
    ListFilterFields,
    ListOrder,
    Number,
    NumberFilter,
    NumberPage,
    Position,
)
from voxnumbers.numbers.service.common import owned_number
from voxnumbers.vocabulary import country_filter, digits_filter, to_mask


class ListFilters(ListFilterFields, frozen=True, kw_only=True):
    """The list's filters as the request gave them (validated by ``number_filter``)."""

    capabilities: tuple[str, ...] = ()


def number_filter(filters: ListFilters) -> NumberFilter:
    """The validated filter, or ``400`` naming the first bad field."""
    region = filters.region.strip() if filters.region is not None else None
    if region is not None and not region:
        raise ValidationFailed.on("region", "must not be blank")
    return NumberFilter(
        country=country_filter(filters.country),
        status=filters.status,
        now=utc_now(),
        trunk_id=filters.trunk_id,
        application_id=filters.application_id,
        routed=filters.routed,
        type=filters.type,
        region=region,
        capabilities_mask=to_mask(filters.capabilities),
        contains=digits_filter(filters.contains),
        created_after=_as_utc("created_after", filters.created_after),
        created_before=_as_utc("created_before", filters.created_before),
        updated_since=_as_utc("updated_since", filters.updated_since),
    )


NO_FILTERS = ListFilters()


async def list_numbers(
    conn: AsyncConnection,
    account_id: str,
    filters: ListFilters = NO_FILTERS,
    *,
    page: int | None = None,
    per_page: int = PER_PAGE_DEFAULT,
    sort: str = "created_at",
    cursor: str | None = None,
) -> NumberPage:
    """The seed: a page of the account's numbers with the exact total of the filter.

    Released numbers appear only when asked for with ``status=released`` (and only while
    cooling off). Totals of the seed filters come from the maintained counts; other filters
    (routing, released numbers, whose cooling-off ends with time alone, …) are counted.
    Pages are chosen by number (``page``) or, when ``cursor`` is given (empty: the first
    page), by keyset, and the answer then carries ``next_cursor``. ``filters`` are validated
    once, into the ``NumberFilter`` the repository takes.
    """
    where = number_filter(filters)
    order = ListOrder.parse(sort)
    if cursor is not None:
        if page is not None:
            raise ValidationFailed.on("page", "cannot be combined with cursor")
        return await _cursor_page(conn, account_id, where, order, cursor, per_page)
    page = page or 1
    items, total = await repository.page_of_numbers(
        conn, account_id, where, limit=per_page, offset=offset_of(page, per_page), order=order
    )
    return NumberPage(data=items, pagination=pagination(total, len(items), page, per_page))


async def _cursor_page(
    conn: AsyncConnection,
    account_id: str,
    where: NumberFilter,
    order: ListOrder,
    cursor: str,
    per_page: int,
) -> NumberPage:
    fingerprint = _fingerprint(where, order)
    after, page = _read_cursor(cursor, fingerprint, order) if cursor else (None, 1)
    rows, total = await repository.page_of_numbers(
        conn, account_id, where, limit=per_page + 1, order=order, after=after
    )
    items, more = rows[:per_page], len(rows) > per_page
    next_cursor = None
    if more:
        last = repository.position_of(items[-1], order)
        next_cursor = encode_cursor(
            {
                "f": fingerprint,
                "p": page + 1,
                "v": last.value.isoformat() if isinstance(last.value, datetime) else last.value,
                "e": last.e164,
            }
        )
    block = pagination(total, len(items), page, per_page)
    block.next_cursor = next_cursor
    return NumberPage(data=items, pagination=block)


def _read_cursor(cursor: str, fingerprint: str, order: ListOrder) -> tuple[Position, int]:
    try:
        payload = decode_cursor(cursor)
        if payload.get("f") != fingerprint:
            raise InvalidCursor("was made for other filters or another sort; start again")
        page, value, e164 = payload["p"], payload["v"], payload["e"]
        if not (
            isinstance(page, int) and page > 1 and isinstance(value, str) and isinstance(e164, str)
        ):
            raise InvalidCursor("is not a cursor returned by this API")
        mark: datetime | str = datetime.fromisoformat(value) if order.column != "e164" else value
    except (InvalidCursor, KeyError, ValueError) as exc:
        reason = (
            str(exc) if isinstance(exc, InvalidCursor) else "is not a cursor returned by this API"
        )
        raise ValidationFailed.on("cursor", reason) from exc
    return Position(value=mark, e164=e164), page


def _fingerprint(where: NumberFilter, order: ListOrder) -> str:
    """What a cursor is only valid for: the same filters (not the time) and sort. The
    fields are hashed in ``_FINGERPRINTED``'s order, whatever the struct's, so that cursors
    stay valid across releases."""
    fields: dict[str, Any] = {name: getattr(where, name) for name in _FINGERPRINTED}
    fields["now"] = None
    fields["sort"] = order.key
    return hashlib.sha256(msgspec.json.encode(fields)).hexdigest()[:16]


# NumberFilter's fields in the order cursors have been fingerprinted in since the first
# release (a new filter goes at the end).
_FINGERPRINTED = (
    "country",
    "status",
    "now",
    "trunk_id",
    "application_id",
    "routed",
    "type",
    "region",
    "capabilities_mask",
    "contains",
    "created_after",
    "created_before",
    "updated_since",
)


def _as_utc(field: str, moment: datetime | None) -> datetime | None:
    """An aware UTC time; a time without an offset is taken as UTC. ``400`` on ``field``
    for a time whose UTC falls outside the calendar (``9999-12-31T23:59:59-01:00``)."""
    if moment is None:
        return None
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        raise ValidationFailed.on(field, "is out of range once converted to UTC") from None


async def get_number(conn: AsyncConnection, account_id: str, e164: str) -> Number:
    """One of the account's numbers; another account's number is simply not found."""
    record = await owned_number(conn, account_id, e164, utc_now(), lock=False)
    number = await repository.find_number(conn, account_id, record.e164)
    assert number is not None
    return number


async def readable_number(conn: AsyncConnection, account_id: str, e164: str) -> Number | None:
    """The number as ``get_number`` answers it, or ``None`` where that answer is ``404``
    (for instance just after a release with no cooling-off period)."""
    try:
        return await get_number(conn, account_id, e164)
    except NotFound:
        return None
