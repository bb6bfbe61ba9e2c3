"""The app as a server process builds it: what it does beyond ``create_app``."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.api.support import running
from voxnumbers.app import app_from_environment, create_app
from voxnumbers.db.engine import Database
from voxnumbers.settings import Settings


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # what a test froze goes back to the collector


async def test_a_server_leaves_its_startup_objects_out_of_garbage_collection(
    unfrozen: None, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOX_DATABASE_URL", database_url)
    monkeypatch.setenv("VOX_RUN_WORKER", "false")
    app = app_from_environment()
    assert gc.get_freeze_count() == 0
    async with running(app) as http:
        assert gc.get_freeze_count() > 0
        assert (await http.get("/healthz")).status_code == 200


async def test_an_app_of_create_app_freezes_nothing(unfrozen: None, database: Database) -> None:
    async with running(create_app(Settings(log_level="warning", run_worker=False), database)):
        assert gc.get_freeze_count() == 0


def test_the_app_is_imported_and_built_without_deprecation_warnings(tmp_path) -> None:
    """What the framework has deprecated (an import path, a style of declaring parameters)
    breaks on its next major release: a fresh interpreter that treats every deprecation
    warning as an error imports and builds the app."""
    database = tmp_path / "warnings.sqlite3"
    build = (
        "from voxnumbers.app import create_app\n"
        "from voxnumbers.settings import Settings\n"
        f"create_app(Settings(database_url='sqlite+aiosqlite:///{database}'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", build],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
