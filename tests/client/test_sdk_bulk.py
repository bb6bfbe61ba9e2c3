"""``client.numbers.bulk`` and ``client.jobs`` (sync and async) against the real app."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.client.conftest import FakeClock, OpenVox
from tests.client.support import Vox, assert_matches_wire
from tests.factories import US_NUMBERS, entry, stock
from voxnumbers.db.engine import Database
from voxnumbers.kit.ratelimit import Quota, RateLimiter
from voxnumbers.settings import Settings
from voxnumbers_client import (
    AsyncBulkJob,
    BulkJob,
    BulkPlan,
    Job,
    ValidationFailedError,
)
from voxnumbers_client._retry import RetryPolicy


@pytest.fixture
def settings() -> Settings:
    return Settings(log_level="warning", run_worker=False, job_poll_seconds=0.01)


@pytest.fixture(autouse=True)
def sleeps() -> list[float]:
    """Here the clients really wait between polls (the conftest's are instant): the job
    runs meanwhile, and polling every 0.2 s stays within the key's rate limit however
    long the job takes."""
    return []


async def owned(vox: Vox, database: Database, count: int) -> list[str]:
    numbers = US_NUMBERS[:count]
    await stock(database, *(entry(e164) for e164 in numbers))
    for e164 in numbers:
        await vox(vox.client.numbers.purchase(e164, "US"))
    return numbers


async def test_a_dry_run_answers_the_plan(vox: Vox, database: Database) -> None:
    numbers = await owned(vox, database, 2)
    plan = await vox(
        vox.client.numbers.bulk("release", numbers=[*numbers, US_NUMBERS[30]], dry_run=True)
    )
    assert isinstance(plan, BulkPlan)
    assert_matches_wire(plan, vox.wire.last.json())
    assert (plan.matched, plan.would_change, plan.conflict_count) == (3, 2, 1)
    assert plan.early_termination_fee_total == Decimal("50.00")
    assert plan.conflicts[0].code == "NOT_FOUND"


async def test_a_job_is_waited_for_with_its_progress(vox: Vox, database: Database) -> None:
    numbers = await owned(vox, database, 3)
    trunk = await vox(vox.client.trunks.create("t", "ip"))

    job = await vox(
        vox.client.numbers.bulk(
            "assign_trunk", filter={"country": "US"}, trunk_id=trunk.id, idempotency_key="k"
        )
    )
    assert isinstance(job, BulkJob | AsyncBulkJob)
    assert vox.wire.last.response.status_code == 202
    seen: list[float] = []
    final = await vox(job.wait(poll_interval=0.2, on_progress=lambda j: seen.append(j.progress)))

    assert isinstance(final, Job) and final.done
    assert (final.status, final.matched, final.changed) == ("succeeded", 3, 3)
    assert seen[-1] == 1.0 and seen == sorted(seen)
    assert_matches_wire(final, vox.wire.last.json())
    results = await vox.items(job.results())
    assert sorted(result.e164 for result in results) == numbers
    assert {result.outcome for result in results} == {"changed"}
    listed = await vox.items(vox.client.jobs.list())
    assert [listed_job.id for listed_job in listed] == [job.id]
    again = await vox(vox.client.jobs.get(job.id))
    assert again == final


async def test_cancel_and_bad_input(vox: Vox, database: Database) -> None:
    await owned(vox, database, 1)
    with pytest.raises(ValidationFailedError) as refused:
        await vox(vox.client.numbers.bulk("assign_trunk", numbers=[US_NUMBERS[0]]))
    assert refused.value.details[0].field == "trunk_id"
    with pytest.raises(TypeError):
        await vox(vox.client.numbers.bulk("unassign", filter={"colour": "red"}))  # type: ignore[typeddict-unknown-key]
    job = await vox(vox.client.numbers.bulk("unassign", numbers=[US_NUMBERS[0]]))
    final = await vox(job.wait(poll_interval=0.2))
    assert final.status == "succeeded"
    failed = await vox.items(vox.client.jobs.results(job.id, outcome="failed"))
    assert failed == []


async def test_waiting_for_a_job_waits_out_the_rate_limit(
    connect: OpenVox, database: Database, clock: FakeClock
) -> None:
    """A poll refused with 429 (the client's own retries used up) is waited out as
    Retry-After says, and the wait goes on to the job's end."""
    async with connect(rate_limit_per_minute=60, rate_limit_burst=5) as vox:
        await owned(vox, database, 2)
        job = await vox(vox.client.numbers.bulk("unassign", filter={"country": "US"}))
        vox.app.state.rate_limits.limiter = RateLimiter(Quota(60, 1), clock=clock)
        vox.client._retry = RetryPolicy(max_retries=0)
        final = await vox(job.wait(poll_interval=0.0))

    assert final.status == "succeeded"
    refused = [e for e in vox.wire.exchanges if e.response.status_code == 429]
    assert refused, "the limit was never reached: the test shows nothing"
    assert all(e.response.headers["retry-after"] == "1" for e in refused)
    assert 1.0 in clock.waited
