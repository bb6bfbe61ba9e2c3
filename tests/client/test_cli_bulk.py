"""``vox numbers bulk …`` and ``vox jobs …`` against the real server (served in a thread)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.client.support import AppThread, Wiretap
from tests.client.test_cli import VoxCli, as_answered, bound_factory
from tests.factories import US_NUMBERS, Tenant, entry, stock
from voxnumbers.db.engine import Database
from voxnumbers.settings import Settings
from voxnumbers_client.cli import build_app
from voxnumbers_client.resources.jobs import BulkJob

# Polls this far apart leave the server idle between them: polled without a pause, it would
# be busy answering them, and the job would rest (``jobs.runner.rest_after``).
POLL = "0.05"


@pytest.fixture(autouse=True)
def sleeps() -> list[float]:
    """Here the clients really wait between polls (the conftest's waits are instant), as
    ``vox`` does: the job runs meanwhile."""
    return []


@pytest.fixture
def settings() -> Settings:
    return Settings(log_level="warning", run_worker=False, job_poll_seconds=0.01)


@pytest.fixture
def vox(tenant: Tenant, database_url: str, settings: Settings) -> Iterator[VoxCli]:
    with AppThread(database_url, settings) as server:
        wire = Wiretap(server.transport())
        app = build_app(client_factory=bound_factory(wire), load_plugins=False)
        yield VoxCli(app, tenant, wire)


async def bought(vox: VoxCli, database: Database, count: int) -> list[str]:
    numbers = US_NUMBERS[:count]
    await stock(database, *(entry(e164) for e164 in numbers))
    vox.ok("numbers", "buy", *numbers, "--country", "US")
    return numbers


async def test_assign_trunk_from_a_file_follows_the_job(
    vox: VoxCli, database: Database, tmp_path: Path
) -> None:
    numbers = await bought(vox, database, 3)
    trunk = vox.ok("trunks", "create", "--name", "Edge", "--auth-type", "ip")["id"]
    listing = tmp_path / "numbers.txt"
    listing.write_text(f"# to move\n{numbers[0]}\n\n{numbers[1]}  # second\n")

    plan = vox.ok(
        "numbers", "bulk", "assign-trunk", "--trunk", trunk, "--file", str(listing), "--dry-run"
    )
    as_answered(plan, vox.answer)
    assert (plan["matched"], plan["would_change"]) == (2, 2)

    job = vox.ok(
        "numbers",
        "bulk",
        "assign-trunk",
        "--trunk",
        trunk,
        "--file",
        str(listing),
        "--poll-interval",
        POLL,
    )
    as_answered(job, vox.answer)
    assert (job["status"], job["changed"]) == ("succeeded", 2)
    assert vox.ok("numbers", "get", numbers[0])["trunk_id"] == trunk
    assert vox.ok("numbers", "get", numbers[2])["trunk_id"] is None

    listed = vox.ok("jobs", "list")
    assert [item["id"] for item in listed] == [job["id"]]
    assert vox.ok("jobs", "get", job["id"]) == job
    results = vox.ok("jobs", "results", job["id"], "--outcome", "changed")
    assert sorted(item["e164"] for item in results) == numbers[:2]


async def test_a_filtered_release_asks_first_and_reports_failures(
    vox: VoxCli, database: Database
) -> None:
    await bought(vox, database, 2)
    refused = vox("numbers", "bulk", "release", "--country", "US", input="n\n")
    assert refused.exit_code == 1
    assert "Release 2 numbers" in refused.stderr and "50.00" in refused.stderr
    assert vox.ok("jobs", "list") == []

    job = vox.ok("numbers", "bulk", "release", "--country", "US", "--yes", "--poll-interval", POLL)
    assert (job["status"], job["changed"]) == ("succeeded", 2)

    again = vox(
        "numbers",
        "bulk",
        "unassign",
        "--number",
        US_NUMBERS[0],
        "--number",
        US_NUMBERS[40],
        "--poll-interval",
        POLL,
        "--output",
        "json",
    )
    assert again.exit_code == 1
    assert json.loads(again.stdout)["failed"] == 1
    assert "vox jobs results" in again.stderr and "--outcome failed" in again.stderr


async def test_bad_selections_are_refused_before_any_request(vox: VoxCli) -> None:
    neither = vox("numbers", "bulk", "unassign")
    both = vox("numbers", "bulk", "unassign", "--number", US_NUMBERS[0], "--country", "US")
    assert neither.exit_code == both.exit_code == 2
    assert vox.wire.exchanges == []
    unknown = vox(
        "numbers", "bulk", "assign-trunk", "--trunk", "trunk_nope", "--number", US_NUMBERS[0]
    )
    assert unknown.exit_code == 1 and "trunk_id" in unknown.stderr


async def test_ctrl_c_leaves_the_job_running_and_says_how_to_follow_it(
    vox: VoxCli, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await bought(vox, database, 1)

    def interrupted(self: BulkJob, **_: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(BulkJob, "wait", interrupted)
    result = vox("numbers", "bulk", "unassign", "--number", US_NUMBERS[0])
    job_id = vox.wire.exchanges[-1].json()["id"]
    assert result.exit_code == 130
    assert f"vox jobs get {job_id}" in result.stderr
    assert f"vox jobs cancel {job_id}" in result.stderr
    assert all(not e.request.url.path.endswith("/cancel") for e in vox.wire.exchanges)
