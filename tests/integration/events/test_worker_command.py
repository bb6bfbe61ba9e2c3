"""``vox worker``: as a process of its own it delivers and stops cleanly on SIGTERM;
``--once`` sends what is due and exits."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner

from tests.factories import US_NUMBERS, make_tenant
from tests.integration.events.helpers import add_endpoint, add_event, deliveries
from tests.integration.events.receiver import Receiver
from voxnumbers.cli import register
from voxnumbers.db.engine import Database

VOX = str(Path(sys.executable).parent / "vox")


def _environment(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOX_")}
    return {**env, "VOX_DATABASE_URL": database_url, "VOX_WORKER_POLL_SECONDS": "0.1"}


async def test_the_worker_command_delivers_then_stops_on_sigterm(database: Database, database_url):
    tenant = await make_tenant(database)
    with Receiver() as receiver:
        endpoint = await add_endpoint(database, tenant.account_id, receiver.url)
        event_id = await add_event(database, tenant.account_id, US_NUMBERS[0])
        worker = await asyncio.create_subprocess_exec(
            VOX,
            "worker",
            env=_environment(database_url),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(30):
                [request] = await receiver.wait_for_accepted(1)
            worker.send_signal(signal.SIGTERM)
            async with asyncio.timeout(15):
                out, err = await worker.communicate()
        finally:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()

    assert worker.returncode == 0, err.decode()
    assert b"stopped" in out
    assert request.event_id == event_id
    [state] = await deliveries(database, endpoint.id)
    assert state.status == "delivered"


def test_worker_once_sends_what_is_due_and_exits(database_url, monkeypatch):
    async def prepare(url: str) -> None:
        database = Database(database_url)
        try:
            tenant = await make_tenant(database)
            await add_endpoint(database, tenant.account_id, url)
            await add_event(database, tenant.account_id, US_NUMBERS[0])
            await add_event(database, tenant.account_id, US_NUMBERS[1])
        finally:
            await database.dispose()

    vox = typer.Typer()
    register(vox)
    monkeypatch.setenv("VOX_DATABASE_URL", database_url)
    with Receiver() as receiver:
        asyncio.run(prepare(receiver.url))
        result = CliRunner().invoke(vox, ["worker", "--once"])
        assert len(receiver.accepted()) == 2

    assert result.exit_code == 0, result.output
    assert "attempted 2 deliveries" in result.output
