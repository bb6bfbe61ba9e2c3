"""Pages of list results, and walking through all of them.

A list method answers with the first page. Iterating over it (or ``auto_paging_iter``,
which can stop after ``limit`` items) yields every item of every page, fetching the next
page only when the current one is used up: by following ``pagination.next_cursor`` when the
API sent one (cursor paging: nothing skipped or repeated while the list changes), else by
incrementing ``page`` (the seed's paging, for lists without cursors).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from voxnumbers_client._models import Pagination
from voxnumbers_client._request import APIRequest

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageData(Generic[T]):
    """A decoded list response: ``{"data": [...], "pagination": {...}}``."""

    data: list[T]
    pagination: Pagination


def page_parser(parse_item: Callable[[Any], T]) -> Callable[[Any], PageData[T]]:
    """A parser of list responses whose items are read by ``parse_item``.

    A list answered without ``pagination`` is taken as one complete page.
    """

    def parse(body: Any) -> PageData[T]:
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise ValueError("expected a list response {data, pagination}")
        items = [parse_item(item) for item in body["data"]]
        raw = body.get("pagination")
        if raw is None:
            n = len(items)
            return PageData(items, Pagination(n, n, max(n, 1), 1, 1 if n else 0))
        return PageData(items, Pagination.from_json(raw))

    return parse


PageRequest = APIRequest[PageData[T]]


class _BasePage(Generic[T]):
    """What sync and async pages share: the content and how to ask for the next page."""

    def __init__(self, request: PageRequest[T], content: PageData[T]) -> None:
        self._request = request
        self._content = content

    @property
    def data(self) -> list[T]:
        """The items of this page only."""
        return self._content.data

    @property
    def pagination(self) -> Pagination:
        """This page's ``pagination`` object, as the API sent it."""
        return self._content.pagination

    def has_next_page(self) -> bool:
        """Whether another page follows this one."""
        return self._next_request() is not None

    def _next_request(self) -> PageRequest[T] | None:
        pagination = self.pagination
        if pagination.next_cursor is not None:
            return self._request.with_params(cursor=pagination.next_cursor, page=None)
        if self._request.param("cursor") is not None or not self.data:
            return None
        if pagination.current_page >= pagination.total_pages:
            return None
        return self._request.with_params(page=str(pagination.current_page + 1))

    def __repr__(self) -> str:
        p = self.pagination
        return (
            f"<{type(self).__name__} page {p.current_page}/{p.total_pages}: "
            f"{p.count} of {p.total} items>"
        )


class Page(_BasePage[T]):
    """One page of a list; iterate over it to get the items of this page and all after it.

    >>> for number in client.numbers.list(country="US"):   # walks every page
    ...     print(number.e164)
    """

    def __init__(
        self,
        request: PageRequest[T],
        content: PageData[T],
        fetch: Callable[[PageRequest[T]], PageData[T]],
    ) -> None:
        super().__init__(request, content)
        self._fetch = fetch

    def next_page(self) -> Page[T] | None:
        """Fetch the page after this one, or ``None`` when this is the last."""
        request = self._next_request()
        if request is None:
            return None
        return Page(request, self._fetch(request), self._fetch)

    def iter_pages(self) -> Iterator[Page[T]]:
        """This page, then each following page, fetched as the loop reaches it."""
        page: Page[T] | None = self
        while page is not None:
            yield page
            page = page.next_page()

    def auto_paging_iter(self, *, limit: int | None = None) -> Iterator[T]:
        """Every item of this page and the following ones, at most ``limit`` of them; no page
        is fetched beyond the one that reaches the limit.

        >>> for number in client.numbers.list(status="active").auto_paging_iter(limit=250):
        ...     print(number.e164)
        """
        _check_limit(limit)
        taken = 0
        page: Page[T] | None = self
        while page is not None:
            for item in page.data:
                if taken == limit:
                    return
                taken += 1
                yield item
            if taken == limit:
                return
            page = page.next_page()

    def __iter__(self) -> Iterator[T]:
        return self.auto_paging_iter()


class AsyncPage(_BasePage[T]):
    """One page of a list; ``async for`` over it yields the items of this and later pages."""

    def __init__(
        self,
        request: PageRequest[T],
        content: PageData[T],
        fetch: Callable[[PageRequest[T]], Awaitable[PageData[T]]],
    ) -> None:
        super().__init__(request, content)
        self._fetch = fetch

    async def next_page(self) -> AsyncPage[T] | None:
        """Fetch the page after this one, or ``None`` when this is the last."""
        request = self._next_request()
        if request is None:
            return None
        return AsyncPage(request, await self._fetch(request), self._fetch)

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        """This page, then each following page, fetched as the loop reaches it."""
        page: AsyncPage[T] | None = self
        while page is not None:
            yield page
            page = await page.next_page()

    async def auto_paging_iter(self, *, limit: int | None = None) -> AsyncIterator[T]:
        """Every item of this page and the following ones, at most ``limit`` of them."""
        _check_limit(limit)
        taken = 0
        page: AsyncPage[T] | None = self
        while page is not None:
            for item in page.data:
                if taken == limit:
                    return
                taken += 1
                yield item
            if taken == limit:
                return
            page = await page.next_page()

    def __aiter__(self) -> AsyncIterator[T]:
        return self.auto_paging_iter()


class AsyncPaginator(Generic[T]):
    """What async list methods return, before any request is made.

    ``await`` it for the first :class:`AsyncPage`, or ``async for`` over it to get every item
    of every page::

        page = await client.numbers.list(per_page=50)
        async for number in client.numbers.list(country="US"):
            ...
    """

    def __init__(
        self,
        request: PageRequest[T],
        fetch: Callable[[PageRequest[T]], Awaitable[PageData[T]]],
    ) -> None:
        self._request = request
        self._fetch = fetch

    async def _first_page(self) -> AsyncPage[T]:
        return AsyncPage(self._request, await self._fetch(self._request), self._fetch)

    def __await__(self) -> Generator[Any, None, AsyncPage[T]]:
        return self._first_page().__await__()

    async def auto_paging_iter(self, *, limit: int | None = None) -> AsyncIterator[T]:
        """Every item of every page, at most ``limit`` of them::

        async for number in client.numbers.list().auto_paging_iter(limit=250):
            ...
        """
        first = await self._first_page()
        async for item in first.auto_paging_iter(limit=limit):
            yield item

    def __aiter__(self) -> AsyncIterator[T]:
        return self.auto_paging_iter()


def _check_limit(limit: int | None) -> None:
    if limit is not None and (isinstance(limit, bool) or limit < 0):
        raise ValueError(f"limit must be a whole number >= 0, got {limit!r}")
