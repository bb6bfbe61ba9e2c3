"""Bulk operations (API.md §9): the dry run, jobs, their results and cancellation, the
order of one account's jobs, idempotent creation, and refusals of bad input."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from tests.api.support import (
    TIME,
    app_on,
    assert_error,
    bought,
    counted_and_scanned,
    own,
    running,
)
from tests.factories import GB_NUMBERS, US_NUMBERS, Tenant, entry, make_tenant, stock
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import bulk_jobs, events, webhook_deliveries
from voxnumbers.jobs import service as jobs_service
from voxnumbers.jobs.runner import JobRunner, rest_after, run_pending
from voxnumbers.kit.activity import RequestActivity
from voxnumbers.kit.clock import utc_now
from voxnumbers.settings import Settings

JOB_KEYS = [
    "id",
    "action",
    "status",
    "matched",
    "processed",
    "changed",
    "unchanged",
    "failed",
    "created_at",
    "started_at",
    "finished_at",
]
PLAN_KEYS = [
    "action",
    "dry_run",
    "matched",
    "would_change",
    "unchanged",
    "conflict_count",
    "conflicts",
    "early_termination_fee_total",
    "currency",
]
FINISHED = {"succeeded", "failed", "cancelled"}


@pytest.fixture
def settings() -> Settings:
    # Small batches, so that a job of a few numbers takes several transactions.
    return Settings(log_level="warning", run_worker=False, job_batch_size=3, job_poll_seconds=0.02)


async def bulk(client: httpx.AsyncClient, tenant: Tenant, **body: Any) -> httpx.Response:
    return await client.post(tenant.path("/numbers/bulk"), json=body, headers=tenant.bearer)


async def finished(client: httpx.AsyncClient, tenant: Tenant, job_id: str) -> dict[str, Any]:
    """The job once it has ended (the runner inside the app runs it), polled every 50 ms:
    polls that kept the process busy would make the job rest (``runner.rest_after``). Polls
    that outrun the key's rate limit wait as ``Retry-After`` says, as a client would."""
    for _ in range(2000):
        response = await client.get(tenant.path(f"/jobs/{job_id}"), headers=tenant.bearer)
        if response.status_code == 429:
            await asyncio.sleep(float(response.headers["retry-after"]))
            continue
        assert response.status_code == 200, response.text
        if response.json()["status"] in FINISHED:
            return response.json()  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} never ended")


async def results(client: httpx.AsyncClient, tenant: Tenant, job_id: str, **params: Any) -> Any:
    response = await client.get(
        tenant.path(f"/jobs/{job_id}/results"),
        params={"per_page": 100, **params},
        headers=tenant.bearer,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def new_trunk(client: httpx.AsyncClient, tenant: Tenant) -> str:
    response = await client.post(
        tenant.path("/trunks"), json={"name": "t", "auth_type": "ip"}, headers=tenant.bearer
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def new_application(client: httpx.AsyncClient, tenant: Tenant) -> str:
    response = await client.post(
        tenant.path("/applications"), json={"name": "a"}, headers=tenant.bearer
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def number(client: httpx.AsyncClient, tenant: Tenant, e164: str) -> dict[str, Any]:
    response = await client.get(tenant.path(f"/numbers/{e164}"), headers=tenant.bearer)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def events_of(database: Database, account_id: str) -> list[tuple[str, str | None]]:
    """(type, e164) of every event of the account, in order."""
    async with database.transaction(write=False) as conn:
        query = (
            select(events.c.type, events.c.e164)
            .where(events.c.account_id == account_id)
            .order_by(events.c.seq)
        )
        return [(row.type, row.e164) for row in await conn.execute(query)]


async def job_count(database: Database) -> int:
    async with database.transaction(write=False) as conn:
        return int((await conn.execute(select(func.count()).select_from(bulk_jobs))).scalar_one())


@pytest.fixture
async def tenant(database: Database) -> Tenant:
    tenant = await make_tenant(database)
    await stock(database, *(entry(e164) for e164 in US_NUMBERS[:20] + GB_NUMBERS[:5]))
    return tenant


# --- dry run -----------------------------------------------------------------------------


async def test_a_dry_run_plans_and_changes_nothing(client, database, tenant):
    await bought(client, tenant, *US_NUMBERS[:4])
    trunk = await new_trunk(client, tenant)
    assign = await client.post(
        tenant.path(f"/numbers/{US_NUMBERS[1]}/assign"),
        json={"trunk_id": trunk},
        headers=tenant.bearer,
    )
    assert assign.status_code == 200
    released = await client.delete(tenant.path(f"/numbers/{US_NUMBERS[2]}"), headers=tenant.bearer)
    assert released.status_code == 200
    # What the single-number endpoint answers for the released number (it changes nothing).
    single = await client.post(
        tenant.path(f"/numbers/{US_NUMBERS[2]}/assign"),
        json={"trunk_id": trunk},
        headers=tenant.bearer,
    )
    refusal = assert_error(single, 409)
    before = await events_of(database, tenant.account_id)

    response = await bulk(
        client,
        tenant,
        action="assign_trunk",
        trunk_id=trunk,
        numbers=[US_NUMBERS[0], US_NUMBERS[1], US_NUMBERS[2], US_NUMBERS[3], US_NUMBERS[19]],
        dry_run=True,
    )

    assert response.status_code == 200, response.text
    plan = response.json()
    assert list(plan) == PLAN_KEYS
    assert plan == {
        "action": "assign_trunk",
        "dry_run": True,
        "matched": 5,
        "would_change": 2,
        "unchanged": 1,
        "conflict_count": 2,
        "conflicts": [
            {"e164": US_NUMBERS[2], "code": "CONFLICT", "message": refusal["message"]},
            {
                "e164": US_NUMBERS[19],
                "code": "NOT_FOUND",
                "message": "No such number in this account.",
            },
        ],
        "early_termination_fee_total": 0.0,
        "currency": "USD",
    }
    assert await events_of(database, tenant.account_id) == before
    assert (await number(client, tenant, US_NUMBERS[0]))["trunk_id"] is None
    assert await job_count(database) == 0


async def test_a_release_dry_run_totals_the_early_termination_fees(client, database, tenant):
    await bought(client, tenant, *US_NUMBERS[:3])
    await own(database, tenant, US_NUMBERS[10], created_at=utc_now() - timedelta(days=200))
    await own(database, tenant, US_NUMBERS[11], status="pending")

    response = await bulk(client, tenant, action="release", filter={"country": "us"}, dry_run=True)

    assert response.status_code == 200, response.text
    plan = response.json()
    assert (plan["matched"], plan["would_change"], plan["unchanged"]) == (5, 4, 0)
    assert plan["early_termination_fee_total"] == 75.0
    assert '"early_termination_fee_total":75.00' in response.text
    assert [(c["e164"], c["code"]) for c in plan["conflicts"]] == [(US_NUMBERS[11], "CONFLICT")]
    for e164 in US_NUMBERS[:3]:
        preview = await client.get(
            tenant.path(f"/numbers/{e164}/release-preview"), headers=tenant.bearer
        )
        assert preview.json()["early_termination_fee"] == 25.0


async def test_a_dry_run_lists_the_first_100_conflicts_and_counts_them_all(client, tenant):
    strangers = [f"+1212555{n:04d}" for n in range(150)]
    response = await bulk(client, tenant, action="unassign", numbers=strangers, dry_run=True)
    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["conflict_count"] == 150 and plan["matched"] == 150
    assert [c["e164"] for c in plan["conflicts"]] == strangers[:100]


# --- jobs --------------------------------------------------------------------------------


async def test_a_job_assigns_each_number_as_its_single_endpoint_would(client, database, tenant):
    await bought(client, tenant, *US_NUMBERS[:7])
    trunk = await new_trunk(client, tenant)
    app_id = await new_application(client, tenant)
    await client.post(
        tenant.path(f"/numbers/{US_NUMBERS[0]}/application"),
        json={"application_id": app_id},
        headers=tenant.bearer,
    )
    await client.post(
        tenant.path(f"/numbers/{US_NUMBERS[1]}/assign"),
        json={"trunk_id": trunk},
        headers=tenant.bearer,
    )
    before = len(await events_of(database, tenant.account_id))
    listed = [*US_NUMBERS[:7], US_NUMBERS[18], US_NUMBERS[0]]  # a stranger and a repeat

    response = await bulk(client, tenant, action="assign_trunk", trunk_id=trunk, numbers=listed)

    assert response.status_code == 202, response.text
    job = response.json()
    assert list(job) == JOB_KEYS
    assert job["id"].startswith("job_") and job["action"] == "assign_trunk"
    assert job["status"] in ("queued", "running") and job["matched"] == 8
    assert TIME.match(job["created_at"])
    assert response.headers["location"] == f"/v1/account/{tenant.account_id}/jobs/{job['id']}"
    done = await finished(client, tenant, job["id"])
    assert done["status"] == "succeeded"
    assert (done["processed"], done["changed"], done["unchanged"], done["failed"]) == (8, 6, 1, 1)
    assert TIME.match(done["started_at"]) and TIME.match(done["finished_at"])
    for e164 in US_NUMBERS[:7]:
        assert (await number(client, tenant, e164))["trunk_id"] == trunk
        assert (await number(client, tenant, e164))["application_id"] is None
    after = (await events_of(database, tenant.account_id))[before:]
    changed = sorted(set(US_NUMBERS[:7]) - {US_NUMBERS[1]})
    assert sorted(e for t, e in after if t == "number.routing_changed") == changed
    assert after[-1] == ("job.finished", None)
    # Each event carries the number as the API shows it after the change, as a single
    # assign's event does.
    feed = await client.get(
        tenant.path("/events"),
        params={"e164": US_NUMBERS[2], "per_page": 1},
        headers=tenant.bearer,
    )
    [event] = feed.json()["data"]
    assert event["type"] == "number.routing_changed"
    assert event["data"] == {"number": await number(client, tenant, US_NUMBERS[2])}
    page = await results(client, tenant, job["id"])
    assert page["pagination"]["total"] == 8
    by_number = {item["e164"]: item for item in page["data"]}
    assert by_number[US_NUMBERS[1]] == {
        "e164": US_NUMBERS[1],
        "outcome": "unchanged",
        "error": None,
    }
    assert by_number[US_NUMBERS[18]] == {
        "e164": US_NUMBERS[18],
        "outcome": "failed",
        "error": {"code": "NOT_FOUND", "message": "No such number in this account."},
    }
    failed = await results(client, tenant, job["id"], outcome="failed")
    assert [item["e164"] for item in failed["data"]] == [US_NUMBERS[18]]


async def test_a_filtered_job_changes_the_numbers_matched_when_it_was_created(database, tenant):
    settings = Settings(log_level="warning", run_worker=False, run_jobs=False, job_batch_size=2)
    async with running(app_on(database, run_jobs=False)) as client:
        await bought(client, tenant, *US_NUMBERS[:5], GB_NUMBERS[0])
        app_id = await new_application(client, tenant)
        response = await bulk(
            client,
            tenant,
            action="assign_application",
            application_id=app_id,
            filter={"country": "US"},
        )
        assert response.status_code == 202, response.text
        job = response.json()
        assert job["matched"] == 5 and job["status"] == "queued"
        await bought(client, tenant, US_NUMBERS[5])  # after the job was created
        assert await run_pending(database, settings) == 1
        done = (await client.get(tenant.path(f"/jobs/{job['id']}"), headers=tenant.bearer)).json()
        assert (done["status"], done["changed"]) == ("succeeded", 5)
        for e164 in US_NUMBERS[:5]:
            assert (await number(client, tenant, e164))["application_id"] == app_id
        assert (await number(client, tenant, US_NUMBERS[5]))["application_id"] is None
        assert (await number(client, tenant, GB_NUMBERS[0]))["application_id"] is None


async def test_release_and_cancel_release_jobs_keep_the_single_number_rules(
    client, database, tenant
):
    await bought(client, tenant, *US_NUMBERS[:3])
    await own(database, tenant, US_NUMBERS[10], status="pending")
    trunk = await new_trunk(client, tenant)
    await client.post(
        tenant.path(f"/numbers/{US_NUMBERS[0]}/assign"),
        json={"trunk_id": trunk},
        headers=tenant.bearer,
    )
    listed = [*US_NUMBERS[:3], US_NUMBERS[10]]

    released = await bulk(client, tenant, action="release", numbers=listed)
    done = await finished(client, tenant, released.json()["id"])

    assert (done["changed"], done["failed"]) == (3, 1)
    page = await results(client, tenant, done["id"], outcome="failed")
    assert page["data"][0]["error"]["code"] == "CONFLICT"
    async with database.transaction(write=False) as conn:
        rows = await conn.execute(
            select(events.c.e164, events.c.data).where(events.c.type == "number.released")
        )
        fees = {row.e164: row.data["early_termination_fee"] for row in rows}
    assert fees == {e164: Decimal("25.00") for e164 in US_NUMBERS[:3]}
    assert (await number(client, tenant, US_NUMBERS[0]))["status"] == "released"

    cancelled = await bulk(client, tenant, action="cancel_release", filter={"status": "released"})
    done = await finished(client, tenant, cancelled.json()["id"])
    assert (done["matched"], done["changed"]) == (3, 3)
    restored = await number(client, tenant, US_NUMBERS[0])
    assert (restored["status"], restored["trunk_id"]) == ("active", trunk)

    unassigned = await bulk(client, tenant, action="unassign", numbers=US_NUMBERS[:3])
    done = await finished(client, tenant, unassigned.json()["id"])
    assert (done["changed"], done["unchanged"]) == (1, 2)
    assert (await number(client, tenant, US_NUMBERS[0]))["trunk_id"] is None


async def test_jobs_are_listed_newest_first_and_job_finished_is_an_event(client, database, tenant):
    await bought(client, tenant, US_NUMBERS[0])
    hook = await client.post(
        tenant.path("/webhooks"),
        json={"url": "https://example.com/h", "event_types": ["job.finished"]},
        headers=tenant.bearer,
    )
    assert hook.status_code == 201, hook.text
    first = (await bulk(client, tenant, action="unassign", numbers=[US_NUMBERS[0]])).json()
    second = (await bulk(client, tenant, action="unassign", numbers=[US_NUMBERS[0]])).json()
    await finished(client, tenant, first["id"])
    await finished(client, tenant, second["id"])

    listed = await client.get(tenant.path("/jobs"), headers=tenant.bearer)
    assert [job["id"] for job in listed.json()["data"]] == [second["id"], first["id"]]
    assert listed.json()["pagination"]["total"] == 2
    only = await client.get(tenant.path("/jobs?status=queued"), headers=tenant.bearer)
    assert only.json()["data"] == []
    feed = await client.get(tenant.path("/events?type=job.finished"), headers=tenant.bearer)
    assert feed.status_code == 200, feed.text
    finished_jobs = [event["data"]["job"] for event in feed.json()["data"]]
    assert [job["id"] for job in finished_jobs] == [second["id"], first["id"]]
    assert finished_jobs[0]["status"] == "succeeded" and list(finished_jobs[0]) == JOB_KEYS
    async with database.transaction(write=False) as conn:
        queued = (
            await conn.execute(select(func.count()).select_from(webhook_deliveries))
        ).scalar_one()
    assert queued == 2  # one per job.finished; the endpoint wants no number events


# --- ordering, leases, resumption ------------------------------------------------------------


async def test_one_accounts_jobs_run_in_order_and_others_are_not_held_up(database):
    settings = Settings(log_level="warning", run_worker=False, run_jobs=False)
    acme, other = await make_tenant(database, "Acme"), await make_tenant(database, "Other")
    await stock(database, *(entry(e164) for e164 in US_NUMBERS[:4]))
    async with running(app_on(database, run_jobs=False)) as client:
        await bought(client, acme, US_NUMBERS[0])
        await bought(client, other, US_NUMBERS[1])
        a1 = (await bulk(client, acme, action="unassign", numbers=[US_NUMBERS[0]])).json()
        a2 = (await bulk(client, acme, action="unassign", numbers=[US_NUMBERS[0]])).json()
        b1 = (await bulk(client, other, action="unassign", numbers=[US_NUMBERS[1]])).json()
    lease = timedelta(seconds=60)

    claimed = [await database.run(lambda c: jobs_service.claim_job(c, "r1", lease))]
    claimed.append(await database.run(lambda c: jobs_service.claim_job(c, "r2", lease)))
    nothing = await database.run(lambda c: jobs_service.claim_job(c, "r3", lease))

    # Acme's second job waits for its first; the other account's job runs beside it.
    assert [job.id for job in claimed if job] == [a1["id"], b1["id"]]
    assert nothing is None
    assert await run_pending(database, settings) == 0  # both held by live leases
    async with database.transaction() as conn:
        await conn.execute(update(bulk_jobs).values(locked_until=utc_now() - lease))
    assert await run_pending(database, settings) == 3
    async with running(app_on(database, run_jobs=False)) as client:
        for tenant, job in ((acme, a1), (acme, a2), (other, b1)):
            got = await client.get(tenant.path(f"/jobs/{job['id']}"), headers=tenant.bearer)
            assert got.json()["status"] == "succeeded"


class _AlwaysBusy(RequestActivity):
    """A process whose requests took another second every time it is asked."""

    @property  # type: ignore[override]
    def busy_seconds(self) -> float:
        self._asked = getattr(self, "_asked", 0) + 1
        return float(self._asked)

    @busy_seconds.setter
    def busy_seconds(self, value: float) -> None:
        pass


def test_a_batch_rests_only_when_requests_kept_the_process_busy_beside_it() -> None:
    # Requests in flight throughout (concurrent ones summed): the batch takes its share of
    # the time.
    assert rest_after(0.2, 0.5, busy_seconds=0.2) == pytest.approx(0.2)
    assert rest_after(0.2, 0.25, busy_seconds=0.9) == pytest.approx(0.6)
    # In flight half of the batch's time: the same rest.
    assert rest_after(0.2, 0.25, busy_seconds=0.1) == pytest.approx(0.6)
    # Less than that (a status poll now and then), no request, or a share of 1: no rest.
    assert rest_after(0.2, 0.25, busy_seconds=0.099) == 0
    assert rest_after(0.2, 0.25, busy_seconds=0.004) == 0
    assert rest_after(0.2, 0.5, busy_seconds=0) == 0
    assert rest_after(0.2, 1, busy_seconds=0.2) == 0


@pytest.mark.parametrize(
    ("activity", "share", "rests"),
    [(_AlwaysBusy, 0.5, True), (_AlwaysBusy, 1.0, False), (RequestActivity, 0.5, False)],
)
async def test_a_jobs_batches_give_way_to_requests(database, tenant, activity, share, rests):
    """Beside requests the runner rests between batches (and still finishes the job); with
    no request beside it, or a share of 1, it never does."""
    async with running(app_on(database, run_jobs=False)) as client:
        await bought(client, tenant, *US_NUMBERS[:5])
        trunk = await new_trunk(client, tenant)
        response = await bulk(
            client, tenant, action="assign_trunk", trunk_id=trunk, numbers=US_NUMBERS[:5]
        )
        assert response.status_code == 202, response.text
    settings = Settings(
        log_level="warning", run_worker=False, job_batch_size=2, job_share_when_busy=share
    )
    runner = JobRunner(database, settings, activity())
    job = await runner.claim()
    assert job is not None
    await runner.run(job)

    assert (await runner.claim()) is None  # nothing left: the job ended
    async with database.transaction() as conn:
        status = await conn.scalar(select(bulk_jobs.c.status).where(bulk_jobs.c.id == job.id))
    assert status == "succeeded"
    assert (runner.rested_seconds > 0) is rests


async def test_a_job_resumed_after_its_runner_died_changes_no_number_twice(database, tenant):
    settings = Settings(log_level="warning", run_worker=False, run_jobs=False, job_batch_size=2)
    async with running(app_on(database, run_jobs=False)) as client:
        await bought(client, tenant, *US_NUMBERS[:7])
        trunk = await new_trunk(client, tenant)
        job = (
            await bulk(
                client, tenant, action="assign_trunk", trunk_id=trunk, numbers=US_NUMBERS[:7]
            )
        ).json()
    lease = timedelta(seconds=60)
    claimed = await database.run(lambda c: jobs_service.claim_job(c, "dead", lease))
    assert claimed is not None
    for _ in range(2):  # two batches, then the runner "dies" holding the lease
        await database.run(
            lambda c: jobs_service.run_batch(c, claimed.seq, "dead", settings, lease=lease)
        )
    assert await run_pending(database, settings) == 0  # its lease is still live
    async with database.transaction() as conn:
        await conn.execute(update(bulk_jobs).values(locked_until=utc_now() - lease))

    assert await run_pending(database, settings) == 1

    routed = [
        e for t, e in await events_of(database, tenant.account_id) if t == "number.routing_changed"
    ]
    assert sorted(routed) == sorted(US_NUMBERS[:7])  # each exactly once
    async with running(app_on(database, run_jobs=False)) as client:
        done = (await client.get(tenant.path(f"/jobs/{job['id']}"), headers=tenant.bearer)).json()
    assert (done["status"], done["processed"], done["changed"]) == ("succeeded", 7, 7)
    # The runner that died finds the job is no longer its own.
    stale = await database.run(
        lambda c: jobs_service.run_batch(c, claimed.seq, "dead", settings, lease=lease)
    )
    assert stale[0].processed == 0


async def test_a_job_whose_target_is_deleted_fails_and_stops(database, tenant):
    settings = Settings(log_level="warning", run_worker=False, run_jobs=False)
    async with running(app_on(database, run_jobs=False)) as client:
        await bought(client, tenant, US_NUMBERS[0])
        trunk = await new_trunk(client, tenant)
        job = (
            await bulk(
                client, tenant, action="assign_trunk", trunk_id=trunk, numbers=[US_NUMBERS[0]]
            )
        ).json()
        deleted = await client.delete(tenant.path(f"/trunks/{trunk}"), headers=tenant.bearer)
        assert deleted.status_code == 200
        await run_pending(database, settings)
        done = (await client.get(tenant.path(f"/jobs/{job['id']}"), headers=tenant.bearer)).json()
        assert (done["status"], done["processed"]) == ("failed", 0)
        assert (await number(client, tenant, US_NUMBERS[0]))["trunk_id"] is None


# --- cancel ------------------------------------------------------------------------------------


async def test_cancel_stops_a_job_and_answers_it(database, tenant):
    settings = Settings(log_level="warning", run_worker=False, run_jobs=False)
    async with running(app_on(database, run_jobs=False)) as client:
        await bought(client, tenant, US_NUMBERS[0])
        job = (await bulk(client, tenant, action="release", numbers=[US_NUMBERS[0]])).json()
        path = tenant.path(f"/jobs/{job['id']}/cancel")

        cancelled = await client.post(path, headers=tenant.bearer)
        again = await client.post(path, headers=tenant.bearer)

        assert cancelled.status_code == 200, cancelled.text
        assert list(cancelled.json()) == JOB_KEYS
        assert cancelled.json()["status"] == "cancelled"
        assert TIME.match(cancelled.json()["finished_at"])
        assert again.status_code == 200 and again.json() == cancelled.json()
        assert await run_pending(database, settings) == 0
        assert (await number(client, tenant, US_NUMBERS[0]))["status"] == "active"
        assert ("job.finished", None) in await events_of(database, tenant.account_id)

        done = (await bulk(client, tenant, action="unassign", numbers=[US_NUMBERS[0]])).json()
        await run_pending(database, settings)
        late = await client.post(tenant.path(f"/jobs/{done['id']}/cancel"), headers=tenant.bearer)
        assert_error(late, 409)


# --- idempotency, isolation, bad input -----------------------------------------------------------


async def test_a_retried_creation_answers_the_same_job_and_location(client, database, tenant):
    await bought(client, tenant, US_NUMBERS[0])
    headers = {**tenant.bearer, "Idempotency-Key": "bulk-1"}
    body = {"action": "unassign", "numbers": [US_NUMBERS[0]]}

    first = await client.post(tenant.path("/numbers/bulk"), json=body, headers=headers)
    again = await client.post(tenant.path("/numbers/bulk"), json=body, headers=headers)

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await job_count(database) == 1


async def test_other_accounts_jobs_are_not_found_and_their_paths_forbidden(
    client, database, tenant
):
    other = await make_tenant(database, "Other")
    await bought(client, tenant, US_NUMBERS[0])
    job = (await bulk(client, tenant, action="unassign", numbers=[US_NUMBERS[0]])).json()
    for suffix in ("", "/results"):
        assert_error(
            await client.get(other.path(f"/jobs/{job['id']}{suffix}"), headers=other.bearer), 404
        )
    assert_error(
        await client.post(other.path(f"/jobs/{job['id']}/cancel"), headers=other.bearer), 404
    )
    assert_error(await client.get(tenant.path("/jobs"), headers=other.bearer), 403)
    assert_error(await bulk(client, other, action="unassign", numbers=["bogus"]), 400, "numbers[0]")
    stranger = await bulk(client, other, action="release", numbers=[US_NUMBERS[0]], dry_run=True)
    assert stranger.json()["conflicts"][0]["code"] == "NOT_FOUND"
    assert_error(
        await client.get(tenant.path("/jobs/job_doesnotexist00"), headers=tenant.bearer), 404
    )


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (
            {"action": "assign_trunk", "numbers": ["+14155551200"]},
            "trunk_id",
            "is required for assign_trunk",
        ),
        (
            {"action": "assign_application", "numbers": ["+14155551200"]},
            "application_id",
            "is required for assign_application",
        ),
        (
            {"action": "release", "trunk_id": "trunk_x", "numbers": ["+14155551200"]},
            "trunk_id",
            "is not taken by release",
        ),
        (
            {"action": "assign_trunk", "trunk_id": "trunk_nope", "numbers": ["+14155551200"]},
            "trunk_id",
            "does not exist in this account",
        ),
        ({"action": "unassign"}, "numbers", "either numbers or filter is required"),
        (
            {"action": "unassign", "numbers": ["+14155551200"], "filter": {}},
            "filter",
            "cannot be combined with numbers",
        ),
        (
            {"action": "unassign", "numbers": ["+14155551200", "+1"]},
            "numbers[1]",
            "must be an E.164 number: '+' then 8 to 15 digits",
        ),
        (
            {"action": "unassign", "filter": {"country": "ZZ"}},
            "filter.country",
            "must be an ISO 3166-1 alpha-2 country code, e.g. US",
        ),
        (
            {"action": "unassign", "filter": {"contains": "12a"}},
            "filter.contains",
            "must be 1 to 15 digits",
        ),
    ],
)
async def test_bad_input_names_the_field_and_starts_nothing(
    client, database, tenant, body, field, reason
):
    response = await bulk(client, tenant, **body)
    error = assert_error(response, 400, field)
    assert error["details"] == [{"field": field, "reason": reason}]
    assert await job_count(database) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "move", "numbers": ["+14155551200"]}, "action"),
        ({"action": "unassign", "numbers": []}, "numbers"),
        ({"action": "unassign", "numbers": ["+14155551200"], "extra": 1}, "extra"),
        ({"action": "unassign", "filter": {"colour": "red"}}, "filter"),
        ({"numbers": ["+14155551200"]}, "action"),
    ],
)
async def test_bodies_that_do_not_fit_the_schema_are_refused(client, database, tenant, body, field):
    response = await bulk(client, tenant, **body)
    assert_error(response, 400)
    assert field in str(response.json()["error"]["details"])
    assert await job_count(database) == 0


async def test_up_to_100000_numbers_fit_in_one_request_and_no_more(client, database, tenant):
    many = [f"+1212{exchange}{line:04d}" for exchange in range(234, 244) for line in range(10_000)]
    accepted = await bulk(client, tenant, action="unassign", numbers=many, dry_run=True)
    assert accepted.status_code == 200, accepted.text[:300]
    assert accepted.json()["conflict_count"] == 100_000

    too_many = await bulk(client, tenant, action="unassign", numbers=[*many, "+13125550000"])
    assert_error(too_many, 400)
    assert await job_count(database) == 0
    # Only this route takes a large body.
    large = await client.post(
        tenant.path("/trunks"),
        json={"name": "x" * 70_000, "auth_type": "ip"},
        headers=tenant.bearer,
    )
    assert_error(large, 413)


# --- concurrent clients ---------------------------------------------------------------------


async def test_jobs_and_single_number_writes_run_together_without_errors(database, tenant):
    """A job assigns 20 numbers in batches of 3 while eight clients route, release and
    cancel releases of the same numbers one by one, and another client creates jobs with
    one Idempotency-Key: no server error, one job for the key, every number changed by the
    job has its outcome once, and the maintained totals still agree with the rows."""
    settings = {"job_batch_size": 3, "job_poll_seconds": 0.01}
    async with running(app_on(database, **settings)) as client:
        await bought(client, tenant, *US_NUMBERS[:20])
        trunk = await new_trunk(client, tenant)
        other = await new_trunk(client, tenant)
        job = (
            await bulk(
                client, tenant, action="assign_trunk", trunk_id=trunk, numbers=US_NUMBERS[:20]
            )
        ).json()

        async def single(index: int) -> list[int]:
            statuses = []
            for round_ in range(6):
                e164 = US_NUMBERS[(index * 3 + round_) % 20]
                path = tenant.path(f"/numbers/{e164}")
                if round_ % 3 == 0:
                    answer = await client.post(
                        f"{path}/assign", json={"trunk_id": other}, headers=tenant.bearer
                    )
                elif round_ % 3 == 1:
                    answer = await client.delete(path, headers=tenant.bearer)
                else:
                    answer = await client.post(f"{path}/cancel-release", headers=tenant.bearer)
                statuses.append(answer.status_code)
            return statuses

        async def keyed() -> list[int]:
            answers = await asyncio.gather(
                *(
                    client.post(
                        tenant.path("/numbers/bulk"),
                        json={"action": "unassign", "numbers": US_NUMBERS[:2]},
                        headers={**tenant.bearer, "Idempotency-Key": "same"},
                    )
                    for _ in range(4)
                )
            )
            return [answer.status_code for answer in answers]

        outcomes = await asyncio.gather(*(single(i) for i in range(8)), keyed())
        done = await finished(client, tenant, job["id"])
        statuses = {status for statuses in outcomes for status in statuses}
        assert statuses <= {200, 202, 404, 409}, statuses
        assert done["status"] == "succeeded"
        assert done["processed"] == 20
        assert done["changed"] + done["unchanged"] + done["failed"] == 20
        page = await results(client, tenant, job["id"])
        assert sorted(item["e164"] for item in page["data"]) == sorted(US_NUMBERS[:20])
        listed = await client.get(tenant.path("/jobs?per_page=100"), headers=tenant.bearer)
        assert listed.json()["pagination"]["total"] == 2  # the job, and one for the key
    counted, scanned = await counted_and_scanned(database, tenant.account_id)
    assert counted == scanned


async def test_a_cancel_while_the_job_runs_stops_it_between_batches(database, tenant):
    async with running(app_on(database, job_batch_size=2, job_poll_seconds=0.01)) as client:
        await bought(client, tenant, *US_NUMBERS[:20])
        job = (await bulk(client, tenant, action="release", numbers=US_NUMBERS[:20])).json()
        cancelled = await client.post(
            tenant.path(f"/jobs/{job['id']}/cancel"), headers=tenant.bearer
        )
        assert cancelled.status_code == 200, cancelled.text
        final = cancelled.json()
        await asyncio.sleep(0.2)  # the runner had time to run on, if it were to
        later = (await client.get(tenant.path(f"/jobs/{job['id']}"), headers=tenant.bearer)).json()
        assert later == final and final["status"] == "cancelled"
        page = await results(client, tenant, job["id"])
        assert page["pagination"]["total"] == final["processed"]
        released = [
            e164
            for e164 in US_NUMBERS[:20]
            if (await number(client, tenant, e164))["status"] == "released"
        ]
        assert len(released) == final["changed"]


async def test_a_jobs_changes_are_audited_as_made_by_the_key_that_created_it(
    client, database, tenant
):
    await bought(client, tenant, *US_NUMBERS[:4])
    trunk = await new_trunk(client, tenant)

    response = await bulk(
        client, tenant, action="assign_trunk", trunk_id=trunk, numbers=US_NUMBERS[:4]
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    assert (await finished(client, tenant, job_id))["status"] == "succeeded"

    log = await client.get(tenant.path("/audit-log"), params={"limit": 100}, headers=tenant.bearer)
    assert log.status_code == 200, log.text
    entries = log.json()["data"]
    routed = [e for e in entries if e["action"] == "number.routing_changed"]
    assert sorted(e["object"]["id"] for e in routed) == sorted(US_NUMBERS[:4])
    for entry_ in routed:
        assert entry_["actor"] == {"type": "key", "id": tenant.key_id}
        assert entry_["changes"] == {"trunk_id": [None, trunk]}
    job_entries = [(e["action"], e["changes"]) for e in entries if e["object"]["id"] == job_id]
    assert job_entries == [
        ("job.finished", {"status": ["running", "succeeded"]}),
        ("job.created", {"status": [None, "queued"], "action": [None, "assign_trunk"]}),
    ]
