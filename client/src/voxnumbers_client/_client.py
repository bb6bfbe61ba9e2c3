"""The two clients. They differ only in how a request is sent; see ``_base`` for the rest."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from voxnumbers_client._base import BaseClient
from voxnumbers_client._config import ClientConfig
from voxnumbers_client._errors import connection_error, error_from_response
from voxnumbers_client._pagination import AsyncPaginator, Page, PageRequest
from voxnumbers_client._request import APIRequest
from voxnumbers_client._streaming import AsyncExportStream, ExportStream
from voxnumbers_client.resources import (
    Applications,
    AsyncApplications,
    AsyncEvents,
    AsyncInventory,
    AsyncJobs,
    AsyncNumbers,
    AsyncTrunks,
    AsyncWebhooks,
    Events,
    Inventory,
    Jobs,
    Numbers,
    Trunks,
    Webhooks,
)

T = TypeVar("T")


async def _asyncio_sleep(delay: float) -> None:
    # asyncio is imported on first use: the blocking client and `vox` never need it.
    import asyncio

    await asyncio.sleep(delay)


class Client(BaseClient[httpx.Client]):
    """A client of the TryVox numbers API (blocking I/O).

    Every argument falls back to the environment: ``api_key`` to ``VOX_API_KEY``,
    ``account_id`` to ``VOX_ACCOUNT_ID``, ``base_url`` to ``VOX_BASE_URL`` (default
    ``https://api.tryvox.io``). ``timeout`` is in seconds or an ``httpx.Timeout``;
    ``max_retries`` (default 2, 0 disables) bounds retries of 429, 503 and network errors.
    ``transport`` replaces the network, e.g. with ``httpx.MockTransport`` in tests.

    >>> with Client() as client:
    ...     for number in client.numbers.list(country="US"):
    ...         print(number.e164, number.monthly_fee)
    """

    #: Waits between retries (a class attribute so tests can make it instant).
    _sleep = staticmethod(time.sleep)

    def __init__(
        self,
        api_key: str | None = None,
        *,
        account_id: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        config = ClientConfig.resolve(
            api_key=api_key,
            account_id=account_id,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
        )
        http = httpx.Client(
            base_url=config.base_url,
            headers=config.headers(),
            timeout=config.timeout,
            transport=transport,
        )
        super().__init__(config, http)
        #: The account's numbers.
        self.numbers = Numbers(self)
        #: Numbers available to buy.
        self.inventory = Inventory(self)
        #: SIP trunks (with ``credentials`` and ``ip_acl``).
        self.trunks = Trunks(self)
        #: Voice applications.
        self.applications = Applications(self)
        #: Webhook endpoints.
        self.webhooks = Webhooks(self)
        #: Events of the account's numbers.
        self.events = Events(self)
        #: Bulk jobs (start one with ``numbers.bulk``).
        self.jobs = Jobs(self)

    def close(self) -> None:
        """Close the connection pool; the client cannot be used afterwards."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- what resources call ----------------------------------------------------------------

    def _request(self, call: APIRequest[T]) -> T:
        return self._exchange(call)[0]

    def _exchange(self, call: APIRequest[T]) -> tuple[T, httpx.Response]:
        """The result of ``call`` and the response it came in."""
        response = self._remember(self._send(self._build_request(call)))
        return self._parse(call, response), response

    def _page(self, call: PageRequest[T]) -> Page[T]:
        return Page(call, self._request(call), self._request)

    def _stream(self, call: APIRequest[Any]) -> ExportStream:
        return ExportStream(lambda: self._open_stream(call))

    def _open_stream(self, call: APIRequest[Any]) -> httpx.Response:
        response = self._remember(self._send(self._build_request(call), stream=True))
        if response.is_error:
            response.read()
            response.close()
            raise error_from_response(response)
        return response

    def _send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        """Send ``request``, retrying what the policy allows; the same request every time."""
        attempt = 0
        while True:
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                delay = self._retry.delay_after_error(attempt, request, exc)
                if delay is None:
                    raise connection_error(exc) from exc
            else:
                delay = self._retry.delay_after_response(attempt, response)
                if delay is None:
                    return response
                response.close()
            self._sleep(delay)
            attempt += 1


class AsyncClient(BaseClient[httpx.AsyncClient]):
    """A client of the TryVox numbers API for ``asyncio``; the same methods as
    :class:`Client`, awaited. List methods return an :class:`AsyncPaginator`: ``await`` it
    for the first page or ``async for`` over every item.

    >>> async with AsyncClient() as client:
    ...     async for number in client.numbers.list(country="US"):
    ...         print(number.e164)
    """

    #: Waits between retries (a class attribute so tests can make it instant).
    _sleep = staticmethod(_asyncio_sleep)

    def __init__(
        self,
        api_key: str | None = None,
        *,
        account_id: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        config = ClientConfig.resolve(
            api_key=api_key,
            account_id=account_id,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
        )
        http = httpx.AsyncClient(
            base_url=config.base_url,
            headers=config.headers(),
            timeout=config.timeout,
            transport=transport,
        )
        super().__init__(config, http)
        #: The account's numbers.
        self.numbers = AsyncNumbers(self)
        #: Numbers available to buy.
        self.inventory = AsyncInventory(self)
        #: SIP trunks (with ``credentials`` and ``ip_acl``).
        self.trunks = AsyncTrunks(self)
        #: Voice applications.
        self.applications = AsyncApplications(self)
        #: Webhook endpoints.
        self.webhooks = AsyncWebhooks(self)
        #: Events of the account's numbers.
        self.events = AsyncEvents(self)
        #: Bulk jobs (start one with ``numbers.bulk``).
        self.jobs = AsyncJobs(self)

    async def close(self) -> None:
        """Close the connection pool; the client cannot be used afterwards."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- what resources call ----------------------------------------------------------------

    async def _request(self, call: APIRequest[T]) -> T:
        return (await self._exchange(call))[0]

    async def _exchange(self, call: APIRequest[T]) -> tuple[T, httpx.Response]:
        """The result of ``call`` and the response it came in."""
        response = self._remember(await self._send(self._build_request(call)))
        return self._parse(call, response), response

    def _page(self, call: PageRequest[T]) -> AsyncPaginator[T]:
        return AsyncPaginator(call, self._request)

    def _stream(self, call: APIRequest[Any]) -> AsyncExportStream:
        return AsyncExportStream(lambda: self._open_stream(call))

    async def _open_stream(self, call: APIRequest[Any]) -> httpx.Response:
        response = self._remember(await self._send(self._build_request(call), stream=True))
        if response.is_error:
            await response.aread()
            await response.aclose()
            raise error_from_response(response)
        return response

    async def _send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        """Send ``request``, retrying what the policy allows; the same request every time."""
        attempt = 0
        while True:
            try:
                response = await self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                delay = self._retry.delay_after_error(attempt, request, exc)
                if delay is None:
                    raise connection_error(exc) from exc
            else:
                delay = self._retry.delay_after_response(attempt, response)
                if delay is None:
                    return response
                await response.aclose()
            await self._sleep(delay)
            attempt += 1
