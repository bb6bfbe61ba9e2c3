"""The application in process, on the test's database, in the test's event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from litestar import Litestar

from voxnumbers.app import create_app
from voxnumbers.kit.db import Database
from voxnumbers.settings import Settings


@pytest.fixture
def settings() -> Settings:
    return Settings(log_level="warning")


@pytest.fixture
def app(settings: Settings, database: Database) -> Litestar:
    return create_app(settings, database)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in process (lifespan started and stopped)."""
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
