"""Page-number pagination shared by every list (``{data, pagination}``)."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Annotated, Generic, Protocol, TypeVar

import msgspec
from litestar.params import Parameter

PER_PAGE_MAX = 100
PER_PAGE_DEFAULT = 20

PageNumber = Annotated[int, Parameter(ge=1, description="Page number, from 1.")]
PerPage = Annotated[
    int, Parameter(ge=1, le=PER_PAGE_MAX, description=f"Items per page, 1 to {PER_PAGE_MAX}.")
]


Item = TypeVar("Item")


class Pagination(msgspec.Struct, kw_only=True):
    """The seed's pagination block: exact ``total``, items on this page, page count; and,
    only when the request paged with ``cursor``, ``next_cursor`` (null on the last page)."""

    total: int
    count: int
    per_page: int
    current_page: int
    total_pages: int
    next_cursor: str | msgspec.UnsetType | None = msgspec.UNSET


class Page(msgspec.Struct, Generic[Item], kw_only=True):
    """A list's answer: the page's items and its pagination block. Each list names its own
    page (``class NumberPage(Page[Number])``), the name its OpenAPI schema goes by."""

    data: list[Item]
    pagination: Pagination


def total_pages(total: int, per_page: int) -> int:
    """ceil(total / per_page), 0 when there is nothing."""
    return -(-total // per_page)


def pagination(total: int, count: int, page: int, per_page: int) -> Pagination:
    return Pagination(
        total=total,
        count=count,
        per_page=per_page,
        current_page=page,
        total_pages=total_pages(total, per_page),
    )


def offset_of(page: int, per_page: int) -> int:
    return (page - 1) * per_page


Item_co = TypeVar("Item_co", covariant=True)


class PageReader(Protocol[Item_co]):
    """Reads ``limit`` items from ``offset`` on, in the list's order."""

    def __call__(self, *, limit: int, offset: int) -> Awaitable[Sequence[Item_co]]: ...


async def read_page(
    read: PageReader[Item], total: int, page: int, per_page: int
) -> tuple[list[Item], Pagination]:
    """The items on page ``page`` of a list of ``total`` items, and the pagination block
    that describes them. Past the end nothing is read (a huge page's offset would overflow
    SQL integers)."""
    offset = offset_of(page, per_page)
    items = list(await read(limit=per_page, offset=offset)) if offset < total else []
    return items, pagination(total, len(items), page, per_page)
