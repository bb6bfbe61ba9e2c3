"""The delivery worker against a real HTTP receiver on 127.0.0.1, on both databases."""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import timedelta

import httpx

from tests.factories import US_NUMBERS, make_tenant
from tests.integration.events.helpers import add_endpoint, add_event, deliveries
from tests.integration.events.receiver import Receiver, always, fail_first
from voxnumbers.db.engine import Database
from voxnumbers.events import repository
from voxnumbers.events.delivery import USER_AGENT, DeliveryPolicy, run_once
from voxnumbers.events.signing import verify_signature
from voxnumbers.kit.clock import utc_now

# Fixed jitter: each backoff is exactly its ceiling, so schedules can be asserted.
STEADY = DeliveryPolicy(backoff_base_seconds=60, backoff_cap_seconds=3600, jitter=lambda: 1.0)
# Retries due at once: for tests driven by the real clock.
QUICK = DeliveryPolicy(backoff_base_seconds=0.001, backoff_cap_seconds=0.001, timeout_seconds=5)


async def test_a_delivery_is_signed_with_the_endpoint_secret(database):
    tenant = await make_tenant(database)
    with Receiver() as receiver:
        endpoint = await add_endpoint(database, tenant.account_id, receiver.url)
        event_id = await add_event(database, tenant.account_id, US_NUMBERS[0], data={"k": "v"})

        assert await run_once(database) == 1

        [request] = receiver.snapshot()
    signature = request.headers["x-tryvox-signature"]
    assert verify_signature(request.body, signature, endpoint.secret)
    assert not verify_signature(request.body, signature, "whsec_not_the_secret")
    assert not verify_signature(request.body + b" ", signature, endpoint.secret)
    assert signature.startswith(f"t={request.headers['x-tryvox-timestamp']},v1=")
    assert request.headers["user-agent"] == USER_AGENT
    assert request.headers["content-type"] == "application/json"
    payload = json.loads(request.body)
    assert list(payload) == ["id", "type", "created_at", "data", "livemode"]
    assert payload["livemode"] is True
    assert payload["id"] == event_id
    assert payload["type"] == "number.routing_changed"
    assert payload["data"] == {"k": "v"}
    assert payload["created_at"].endswith("Z")
    assert b" " not in request.body  # compact JSON
    [state] = await deliveries(database, endpoint.id)
    assert (state.status, state.attempts, state.last_error) == ("delivered", 1, None)
    assert state.delivered_at is not None
    assert await run_once(database) == 0  # nothing is sent twice


async def test_a_failing_receiver_gets_the_event_exactly_once_after_retries(database):
    tenant = await make_tenant(database)
    with Receiver(fail_first(3)) as receiver:
        endpoint = await add_endpoint(database, tenant.account_id, receiver.url)
        await add_event(database, tenant.account_id, US_NUMBERS[0])
        now = utc_now()
        for attempt, ceiling in enumerate((60, 120, 240), start=1):
            assert await run_once(database, STEADY, now=now) == 1
            [state] = await deliveries(database, endpoint.id)
            assert (state.status, state.attempts, state.last_error) == (
                "pending",
                attempt,
                "HTTP 500",
            )
            assert state.locked_until is None
            assert state.next_attempt_at == now + timedelta(seconds=ceiling)
            # Not due before its time...
            assert (
                await run_once(database, STEADY, now=state.next_attempt_at - timedelta(seconds=1))
                == 0
            )
            now = state.next_attempt_at  # ...and due at it.
        assert await run_once(database, STEADY, now=now) == 1
        assert await run_once(database, STEADY, now=now + timedelta(hours=2)) == 0

        statuses = [r.status for r in receiver.snapshot()]
    assert statuses == [500, 500, 500, 200]
    [state] = await deliveries(database, endpoint.id)
    assert (state.status, state.attempts, state.last_error) == ("delivered", 4, None)


async def test_events_of_one_number_arrive_in_order_even_after_a_failure(database):
    tenant = await make_tenant(database)
    number, other = US_NUMBERS[0], US_NUMBERS[1]
    with Receiver() as receiver:
        endpoint = await add_endpoint(database, tenant.account_id, receiver.url)
        ids = [await add_event(database, tenant.account_id, number) for _ in range(3)]
        unrelated = await add_event(database, tenant.account_id, other)
        receiver.respond = fail_first(1, only={ids[0]})
        now = utc_now()

        # The first event fails; the other number is not held up by it.
        assert await run_once(database, STEADY, now=now) == 2
        # While the first is pending, the second and third wait even when time passes.
        [head, *_] = await deliveries(database, endpoint.id)
        assert (
            await run_once(database, STEADY, now=head.next_attempt_at - timedelta(seconds=1)) == 0
        )
        later = head.next_attempt_at
        for _ in range(3):
            assert await run_once(database, STEADY, now=later) == 1
        assert await run_once(database, STEADY, now=later) == 0

        arrivals = [(r.event_id, r.status) for r in receiver.snapshot()]
    of_number = [a for a in arrivals if a[0] != unrelated]
    assert of_number == [(ids[0], 500), (ids[0], 200), (ids[1], 200), (ids[2], 200)]
    assert (unrelated, 200) in arrivals


async def test_two_workers_deliver_each_event_exactly_once_and_in_order(database_url):
    setup = Database(database_url, pool_size=5)
    workers = [Database(database_url, pool_size=5), Database(database_url, pool_size=5)]
    numbers = US_NUMBERS[:6]
    try:
        tenant = await make_tenant(setup)
        with Receiver(delay=0.005) as receiver:
            endpoint = await add_endpoint(setup, tenant.account_id, receiver.url)
            ids = [
                await add_event(setup, tenant.account_id, numbers[i % len(numbers)])
                for i in range(30)
            ]
            # Every third event fails once, so retries race with first attempts.
            receiver.respond = fail_first(1, only=set(ids[::3]))
            policy = DeliveryPolicy(
                backoff_base_seconds=0.001, backoff_cap_seconds=0.001, batch_size=4
            )
            attempted_by = [0, 0]

            async def work(worker: int, database: Database) -> None:
                async with httpx.AsyncClient() as http:
                    while True:
                        attempted = await run_once(database, policy, client=http)
                        attempted_by[worker] += attempted
                        if attempted == 0:
                            states = await deliveries(database, endpoint.id)
                            if all(s.status == "delivered" for s in states):
                                return
                            await asyncio.sleep(0.01)

            async with asyncio.timeout(60):
                await asyncio.gather(*(work(n, db) for n, db in enumerate(workers)))
            arrivals = receiver.snapshot()
    finally:
        for db in (setup, *workers):
            await db.dispose()

    assert sum(attempted_by) == len(arrivals)  # every attempt reported is one request sent
    accepted = [r.event_id for r in arrivals if r.status == 200]
    assert sorted(accepted) == sorted(ids)  # each exactly once
    assert len(arrivals) == len(ids) + len(ids[::3])  # plus one failed try each
    for n, number in enumerate(numbers):
        of_number = [i for i in accepted if i in ids[n :: len(numbers)]]
        assert of_number == ids[n :: len(numbers)]
        tries = [r.event_id for r in arrivals if r.event_id in ids[n :: len(numbers)]]
        # Never a later event of the number before an earlier one was accepted.
        assert tries == sorted(tries, key=ids.index)


async def test_a_delivery_older_than_the_max_age_fails_for_good(database):
    tenant = await make_tenant(database)
    with Receiver(always(503)) as receiver:
        endpoint = await add_endpoint(database, tenant.account_id, receiver.url)
        await add_event(database, tenant.account_id, US_NUMBERS[0])
        [queued] = await deliveries(database, endpoint.id)
        late = queued.next_attempt_at + timedelta(hours=25)

        assert await run_once(database, STEADY, now=late) == 1  # one last try

        [state] = await deliveries(database, endpoint.id)
        assert (state.status, state.attempts, state.last_error) == ("failed", 1, "HTTP 503")
        assert await run_once(database, STEADY, now=late + timedelta(days=1)) == 0
        assert len(receiver.snapshot()) == 1


async def test_the_last_retry_is_at_the_max_age(database):
    tenant = await make_tenant(database)
    policy = DeliveryPolicy(
        backoff_base_seconds=3600,
        backoff_cap_seconds=3600,
        jitter=lambda: 1.0,
        max_age=timedelta(hours=24),
    )
    with Receiver(always(500)) as receiver:
        endpoint = await add_endpoint(database, tenant.account_id, receiver.url)
        await add_event(database, tenant.account_id, US_NUMBERS[0])
        [queued] = await deliveries(database, endpoint.id)
        deadline = queued.next_attempt_at + timedelta(hours=24)  # queued when it happened

        assert await run_once(database, policy, now=deadline - timedelta(minutes=10)) == 1
        [state] = await deliveries(database, endpoint.id)
        assert (state.status, state.next_attempt_at) == ("pending", deadline)
        assert await run_once(database, policy, now=deadline) == 1
        [state] = await deliveries(database, endpoint.id)
        assert (state.status, state.attempts) == ("failed", 2)
        assert len(receiver.snapshot()) == 2


async def test_a_delivery_leased_by_a_worker_that_died_is_sent_after_the_lease(database):
    tenant = await make_tenant(database)
    with Receiver() as receiver:
        endpoint = await add_endpoint(database, tenant.account_id, receiver.url)
        await add_event(database, tenant.account_id, US_NUMBERS[0])
        now = utc_now()
        lease = STEADY.lease_duration
        async with database.transaction() as conn:  # a worker claims, then vanishes
            [claimed] = await repository.claim_due(conn, now, lease_until=now + lease, limit=10)

        assert await run_once(database, STEADY, now=now + lease - timedelta(seconds=1)) == 0
        assert await run_once(database, STEADY, now=now + lease + timedelta(seconds=1)) == 1
        assert len(receiver.accepted()) == 1

        # The vanished worker comes back: its result is not recorded over the other's.
        async with database.transaction() as conn:
            assert not await repository.mark_delivered(conn, claimed, at=now)
    [state] = await deliveries(database, endpoint.id)
    assert (state.status, state.attempts) == ("delivered", 1)


async def test_unreachable_and_slow_receivers_are_failed_attempts(database):
    tenant = await make_tenant(database)
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{closed.getsockname()[1]}/hook"
    with Receiver(delay=2.0) as slow:
        dead = await add_endpoint(database, tenant.account_id, dead_url)
        sluggish = await add_endpoint(database, tenant.account_id, slow.url)
        await add_event(database, tenant.account_id, US_NUMBERS[0])

        policy = DeliveryPolicy(timeout_seconds=0.3)
        assert await run_once(database, policy) == 2

    [dead_state] = await deliveries(database, dead.id)
    [slow_state] = await deliveries(database, sluggish.id)
    assert (dead_state.status, dead_state.last_error) == ("pending", "ConnectError")
    assert (slow_state.status, slow_state.last_error) == ("pending", "Timeout")


async def test_endpoints_get_only_the_event_types_they_asked_for(database):
    tenant = await make_tenant(database)
    with Receiver() as receiver:
        released = await add_endpoint(
            database, tenant.account_id, receiver.url, ["number.released"]
        )
        everything = await add_endpoint(database, tenant.account_id, receiver.url)
        await add_event(database, tenant.account_id, US_NUMBERS[0], "number.purchased")
        await add_event(database, tenant.account_id, US_NUMBERS[0], "number.released")

        assert await run_once(database) == 2  # one number: one delivery per endpoint per pass
        assert await run_once(database) == 1

        types = sorted(r.event["type"] for r in receiver.accepted())
    assert types == ["number.purchased", "number.released", "number.released"]
    assert [s.status for s in await deliveries(database, released.id)] == ["delivered"]
    assert len(await deliveries(database, everything.id)) == 2
