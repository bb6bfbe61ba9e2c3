"""The application in process, on the test's database, in the test's event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar

from tests.api.support import running
from voxnumbers.app import create_app
from voxnumbers.db.engine import Database
from voxnumbers.settings import Settings


@pytest.fixture
def settings() -> Settings:
    return Settings(log_level="warning", run_worker=False)


@pytest.fixture
def app(settings: Settings, database: Database) -> Litestar:
    return create_app(settings, database)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in process (lifespan started and stopped)."""
    async with running(app) as http:
        yield http
