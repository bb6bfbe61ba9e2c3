"""Fixtures: the fake API, sync and async clients bound to it, instant retries."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fake_api import ACCOUNT_ID, API_KEY, FakeTryVox

from voxnumbers_client import AsyncClient, Client
from voxnumbers_client.resources._base import AsyncResource

BASE_URL = "https://api.tryvox.test"


@pytest.fixture(autouse=True)
def _no_vox_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up the developer's own VOX_* settings."""
    for name in ("VOX_API_KEY", "VOX_ACCOUNT_ID", "VOX_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake() -> FakeTryVox:
    return FakeTryVox()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Make retry waits instant; the delays the clients asked for are recorded here."""
    recorded: list[float] = []

    async def async_sleep(delay: float) -> None:
        recorded.append(delay)

    monkeypatch.setattr(Client, "_sleep", staticmethod(recorded.append))
    monkeypatch.setattr(AsyncClient, "_sleep", staticmethod(async_sleep))
    return recorded


def make_client(fake: FakeTryVox, **options: Any) -> Client:
    options = {"account_id": ACCOUNT_ID, "base_url": BASE_URL, **options}
    return Client(API_KEY, transport=fake.transport, **options)


def make_async_client(fake: FakeTryVox, **options: Any) -> AsyncClient:
    options = {"account_id": ACCOUNT_ID, "base_url": BASE_URL, **options}
    return AsyncClient(API_KEY, transport=fake.transport, **options)


@pytest.fixture
def client(fake: FakeTryVox, sleeps: list[float]) -> Iterator[Client]:
    with make_client(fake) as client:
        yield client


@pytest.fixture
async def async_client(fake: FakeTryVox, sleeps: list[float]) -> AsyncIterator[AsyncClient]:
    async with make_async_client(fake) as client:
        yield client


class Blocking:
    """Drives an ``AsyncClient`` from synchronous test code, so one test covers both clients.

    Attribute access walks resources; calling a method runs its coroutine (or awaits the
    paginator it returns) to completion on a private event loop.
    """

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._target, self._loop = target, loop

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if isinstance(value, AsyncResource):
            return Blocking(value, self._loop)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            result = value(*args, **kwargs)
            if inspect.isawaitable(result):
                return self._loop.run_until_complete(_wait(result))
            return result

        return call


async def _wait(awaitable: Any) -> Any:
    return await awaitable


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest, fake: FakeTryVox, sleeps: list[float]) -> Iterator[Any]:
    """The sync client, then the async client behind :class:`Blocking`: the same calls."""
    if request.param == "sync":
        with make_client(fake) as client:
            yield client
        return
    loop = asyncio.new_event_loop()
    async_client = make_async_client(fake)
    try:
        yield Blocking(async_client, loop)
    finally:
        loop.run_until_complete(async_client.close())
        loop.close()


def last_request(fake: FakeTryVox) -> Any:
    return fake.requests[-1]


def raw_target(request: Any) -> str:
    """The request's path and query exactly as sent (percent-encoding kept)."""
    return request.url.raw_path.decode()
