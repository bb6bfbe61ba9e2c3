"""The real application, served to the SDK and to ``vox``.

``AsyncClient`` talks to the app in process through ``httpx.ASGITransport``, in the test's
event loop, on the test's ``database``. The blocking ``Client`` (and the CLI built on it)
cannot share that loop while the test awaits, so :class:`AppThread` serves the app on a
private event loop in a daemon thread, with its own :class:`Database` on the same URL (a
connection of asyncpg belongs to the loop that opened it). No socket is opened: the sync
transport hands each request to that loop and waits for the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from asgi_lifespan import LifespanManager
from litestar import Litestar

from tests.api.support import state_per_request
from tests.factories import Tenant
from voxnumbers.app import create_app
from voxnumbers.db.engine import Database
from voxnumbers.settings import Settings
from voxnumbers_client import AsyncClient, AsyncPaginator, Client, Model, Page
from voxnumbers_client._json import loads

T = TypeVar("T")
BASE_URL = "http://testserver"
_ANSWER_TIMEOUT_SECONDS = 60.0


@contextlib.asynccontextmanager
async def asgi_transport(app: Litestar) -> AsyncIterator[httpx.ASGITransport]:
    """A transport into the app, its lifespan started and, at the end, stopped.

    Each request gets its own copy of the lifespan state, as from a real ASGI server
    (see ``tests.api.support.state_per_request``)."""
    async with LifespanManager(state_per_request(app)) as manager:
        yield httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)


class AppThread:
    """The app served on a private event loop in a daemon thread (``with`` starts and stops
    it). ``transport()`` gives a blocking ``httpx`` transport into it."""

    def __init__(self, database_url: str, settings: Settings) -> None:
        self.database = Database(database_url, pool_size=10, pool_timeout=30)
        self.app = create_app(settings, self.database)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="vox-app", daemon=True)
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._asgi: httpx.ASGITransport | None = None
        self._failure: BaseException | None = None

    def __enter__(self) -> Self:
        self._thread.start()
        self._ready.wait(_ANSWER_TIMEOUT_SECONDS)
        if self._failure is not None or self._asgi is None:
            self._thread.join(_ANSWER_TIMEOUT_SECONDS)
            raise RuntimeError("the app did not start") from self._failure
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(_ANSWER_TIMEOUT_SECONDS)

    def transport(self) -> httpx.BaseTransport:
        """A blocking transport whose requests the app answers on its own loop."""
        return _ThreadTransport(self)

    def handle(self, request: httpx.Request) -> httpx.Response:
        """The app's answer to ``request``, handled on the app's loop and read in full."""
        future = asyncio.run_coroutine_threadsafe(self._answer(request), self._loop)
        return future.result(_ANSWER_TIMEOUT_SECONDS)

    async def _answer(self, request: httpx.Request) -> httpx.Response:
        assert self._asgi is not None
        response = await self._asgi.handle_async_request(request)
        body = b"".join([chunk async for chunk in response.aiter_raw()])
        return httpx.Response(response.status_code, headers=response.headers, content=body)

    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:
            self._failure = exc
        finally:
            self._loop.close()
            self._ready.set()

    async def _serve(self) -> None:
        try:
            async with asgi_transport(self.app) as transport:
                self._stop = asyncio.Event()
                self._asgi = transport
                self._ready.set()
                await self._stop.wait()
        finally:
            await self.database.dispose()


class _ThreadTransport(httpx.BaseTransport):
    def __init__(self, server: AppThread) -> None:
        self._server = server

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        forwarded = httpx.Request(
            request.method, request.url, headers=request.headers, content=body
        )
        return self._server.handle(forwarded)


@dataclass
class Exchange:
    """One request the SDK sent and the answer the app gave (read in full)."""

    request: httpx.Request
    response: httpx.Response

    def json(self) -> Any:
        """The answer's body, money as ``Decimal`` (as the SDK reads it)."""
        return loads(self.response.content)


@dataclass
class Wiretap(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Sits between a client and the app: keeps every exchange, and can lose answers.

    ``lose_answers = n`` makes the next ``n`` requests reach the app and be fully handled,
    then fail with ``httpx.ConnectError`` as if the connection broke before the answer
    arrived."""

    inner: Any
    exchanges: list[Exchange] = field(default_factory=list)
    lose_answers: int = 0

    @property
    def last(self) -> Exchange:
        return self.exchanges[-1]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        return self._keep(request, response)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        return self._keep(request, response)

    def _keep(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        self.exchanges.append(Exchange(request, response))
        if self.lose_answers:
            self.lose_answers -= 1
            raise httpx.ConnectError("connection lost before the answer", request=request)
        return response


@dataclass
class Vox:
    """An SDK client of one flavour (``sync`` or ``async``) on the real app, the account it
    acts for, and what one async test needs to drive either flavour the same way."""

    flavour: str
    client: Any  # Client | AsyncClient: the same methods, awaited or not
    tenant: Tenant
    app: Litestar
    wire: Wiretap

    async def __call__(self, result: Awaitable[T] | T) -> T:
        """The result of a client call, awaited when the client is async."""
        if inspect.isawaitable(result):
            return await result
        return result

    async def items(self, listing: Page[T] | AsyncPaginator[T]) -> list[T]:
        """Every item of a list method's answer, walking all pages."""
        if isinstance(listing, AsyncPaginator):
            return [item async for item in listing]
        return list(listing)

    async def pages(self, listing: Page[T] | AsyncPaginator[T]) -> list[Any]:
        """Every page of a list method's answer, in order."""
        if isinstance(listing, AsyncPaginator):
            return [page async for page in (await listing).iter_pages()]
        return list(listing.iter_pages())


def assert_matches_wire(result: Model, body: Any) -> None:
    """The typed result holds exactly what the server answered: every key of ``body`` with
    its value (money as ``Decimal``, times as the server wrote them), and nothing the server
    did not send except fields left at ``None``."""
    mine = result.to_dict()
    assert set(body) <= set(mine), f"server keys the SDK drops: {set(body) - set(mine)}"
    assert {k: v for k, v in mine.items() if k in body or v is not None} == body


@contextlib.asynccontextmanager
async def open_vox(
    flavour: str, tenant: Tenant, database: Database, database_url: str, settings: Settings
) -> AsyncIterator[Vox]:
    """A :class:`Vox` of ``flavour`` for ``tenant`` on a fresh app with ``settings``."""
    options: dict[str, Any] = {"account_id": tenant.account_id, "base_url": BASE_URL}
    if flavour == "sync":
        with AppThread(database_url, settings) as server:
            wire = Wiretap(server.transport())
            with Client(tenant.key, transport=wire, **options) as client:
                yield Vox(flavour, client, tenant, server.app, wire)
        return
    app = create_app(settings, database)
    async with asgi_transport(app) as asgi:
        wire = Wiretap(asgi)
        async with AsyncClient(tenant.key, transport=wire, **options) as async_client:
            yield Vox(flavour, async_client, tenant, app, wire)
