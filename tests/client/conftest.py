"""The SDK (sync and async) and ``vox`` on the real server app, on both databases."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.client.support import Vox, open_vox
from tests.factories import Tenant, make_tenant
from voxnumbers.db.engine import Database
from voxnumbers.settings import Settings
from voxnumbers_client import AsyncClient, Client

OpenVox = Callable[..., contextlib.AbstractAsyncContextManager[Vox]]


@pytest.fixture(autouse=True)
def _no_vox_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither the SDK nor ``vox`` picks up the developer's own VOX_* settings."""
    for name in ("VOX_API_KEY", "VOX_ACCOUNT_ID", "VOX_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry waits are instant; the delays the clients asked for are recorded here."""
    recorded: list[float] = []

    async def async_sleep(delay: float) -> None:
        recorded.append(delay)

    monkeypatch.setattr(Client, "_sleep", staticmethod(recorded.append))
    monkeypatch.setattr(AsyncClient, "_sleep", staticmethod(async_sleep))
    return recorded


@pytest.fixture
def settings() -> Settings:
    return Settings(log_level="warning", run_worker=False)


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    """Which client the test drives: ``Client`` or ``AsyncClient``."""
    return str(request.param)


@pytest.fixture
async def tenant(database: Database) -> Tenant:
    return await make_tenant(database)


@pytest.fixture
def connect(
    flavour: str, tenant: Tenant, database: Database, database_url: str, settings: Settings
) -> OpenVox:
    """``async with connect(**settings) as vox``: a client on an app with other settings."""

    def open_with(**changes: Any) -> contextlib.AbstractAsyncContextManager[Vox]:
        return open_vox(flavour, tenant, database, database_url, settings.with_overrides(**changes))

    return open_with


@pytest.fixture
async def vox(connect: OpenVox) -> AsyncIterator[Vox]:
    """A client of each flavour on the app with the tests' settings."""
    async with connect() as opened:
        yield opened


class FakeClock:
    """The rate limiter's clock (microseconds), moved only by the client's waits, which
    it records (``waited``, seconds) instead of sleeping."""

    def __init__(self) -> None:
        self.now = 1_000_000_000
        self.waited: list[float] = []

    def __call__(self) -> int:
        return self.now

    def wait(self, seconds: float) -> None:
        self.waited.append(seconds)
        self.now += int(seconds * 1_000_000)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The clients' sleeps (sync and async) advance this clock instead of sleeping."""
    fake = FakeClock()

    async def async_wait(seconds: float) -> None:
        fake.wait(seconds)

    monkeypatch.setattr(Client, "_sleep", staticmethod(fake.wait))
    monkeypatch.setattr(AsyncClient, "_sleep", staticmethod(async_wait))
    return fake
