"""Running ``vox`` commands in process against the test's database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from click.testing import Result
from typer.testing import CliRunner

from voxnumbers.db.engine import Database
from voxnumbers_client.cli import build_app

T = TypeVar("T")


class Vox:
    """``vox …`` with ``VOX_DATABASE_URL`` set to the test's database."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.app = build_app()
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(self.app, list(args), env={"VOX_DATABASE_URL": self.database_url})

    def on_database(self, work: Callable[[Database], Awaitable[T]]) -> T:
        """Run ``work`` on the same database (tests here are synchronous: the commands run
        their own event loop)."""

        async def _run() -> T:
            database = Database(self.database_url)
            try:
                return await work(database)
            finally:
                await database.dispose()

        return asyncio.run(_run())


@pytest.fixture
def vox(database_url: str) -> Vox:
    return Vox(database_url)
