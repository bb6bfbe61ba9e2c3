"""Many writers in one account at once (issue: the write path at scale). On both databases;
the point is PostgreSQL, where they really run side by side: no deadlock or serialization
failure reaches a client (never a 500, and no 503 while the database is up), and what is
left is consistent: never two routes, released numbers unrouted, one event per change, the
kept totals equal to a count of the rows."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.api.support import app_on, assert_error, counted_and_scanned, own, running
from tests.factories import Tenant, counts_by_bucket, entry, make_tenant, stock
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import events, number_counts, number_totals, numbers
from voxnumbers.numbers import count_upkeep

PAIRS = 50
NUMBERS = [f"+1415555{n:04d}" for n in range(2000, 2000 + 2 * PAIRS)]
UNLIMITED = {"rate_limit_per_minute": 0}


@pytest.fixture
async def client(database: Database):
    async with running(app_on(database, **UNLIMITED)) as http:
        yield http


@pytest.fixture
async def tenant(database: Database) -> Tenant:
    return await make_tenant(database)


async def _create(client: httpx.AsyncClient, tenant: Tenant, path: str, body: dict) -> str:
    answer = await client.post(tenant.path(path), json=body, headers=tenant.bearer)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def test_fifty_release_and_cancel_release_pairs_in_one_account(
    client: httpx.AsyncClient, database: Database, tenant: Tenant
) -> None:
    """Each release moves one count from active to released while each cancellation moves
    one back: the two kinds of transactions touch the same count rows in opposite
    directions, at once."""
    to_release, to_cancel = NUMBERS[:PAIRS], NUMBERS[PAIRS:]
    trunk = await _create(client, tenant, "/trunks", {"name": "edge", "auth_type": "ip"})
    for e164 in to_release:
        await own(database, tenant, e164, trunk_id=trunk)
    for e164 in to_cancel:
        await own(database, tenant, e164, status="released", previous_trunk_id=trunk)

    async def release(e164: str) -> httpx.Response:
        return await client.delete(tenant.path(f"/numbers/{e164}"), headers=tenant.bearer)

    async def cancel(e164: str) -> httpx.Response:
        path = tenant.path(f"/numbers/{e164}/cancel-release")
        return await client.post(path, headers=tenant.bearer)

    calls = [release(e164) for e164 in to_release] + [cancel(e164) for e164 in to_cancel]
    order = list(range(len(calls)))
    random.Random(7).shuffle(order)
    answers = await asyncio.gather(*(calls[i] for i in order))

    assert Counter(a.status_code for a in answers) == {200: 2 * PAIRS}, _problems(answers)
    rows = await _numbers_of(database, tenant)
    for e164 in to_release:
        assert (rows[e164]["status"], rows[e164]["trunk_id"]) == ("released", None)
    for e164 in to_cancel:
        assert (rows[e164]["status"], rows[e164]["trunk_id"]) == ("active", trunk)
    assert await _event_types(database) == {
        "number.released": PAIRS,
        "number.release_cancelled": PAIRS,
    }
    assert await counted_and_scanned(database, tenant.account_id) == (PAIRS, PAIRS)
    await _assert_totals_equal_a_scan(database)


async def test_routing_changes_beside_forced_deletes_of_their_targets(
    client: httpx.AsyncClient, database: Database, tenant: Tenant
) -> None:
    """Assign, unassign, release and cancel on the same numbers while the trunk and the
    application they route to are deleted with ``force``."""
    mine = NUMBERS[:20]
    trunk = await _create(client, tenant, "/trunks", {"name": "edge", "auth_type": "ip"})
    app = await _create(client, tenant, "/applications", {"name": "ivr"})
    for i, e164 in enumerate(mine):
        if i % 4 == 3:
            await own(database, tenant, e164, status="released", previous_application_id=app)
        else:
            await own(database, tenant, e164, trunk_id=trunk if i % 2 else None)
    rng = random.Random(11)
    calls: list[Any] = []
    for e164 in mine * 3:
        path = tenant.path(f"/numbers/{e164}")
        calls.append(
            rng.choice(
                [
                    lambda p=path: client.post(
                        f"{p}/assign", json={"trunk_id": trunk}, headers=tenant.bearer
                    ),
                    lambda p=path: client.post(
                        f"{p}/application", json={"application_id": app}, headers=tenant.bearer
                    ),
                    lambda p=path: client.delete(f"{p}/assign", headers=tenant.bearer),
                    lambda p=path: client.delete(f"{p}/application", headers=tenant.bearer),
                    lambda p=path: client.delete(p, headers=tenant.bearer),
                    lambda p=path: client.post(f"{p}/cancel-release", headers=tenant.bearer),
                ]
            )
        )
    deletes = [
        lambda: client.delete(tenant.path(f"/trunks/{trunk}?force=true"), headers=tenant.bearer),
        lambda: client.delete(
            tenant.path(f"/applications/{app}?force=true"), headers=tenant.bearer
        ),
    ]
    calls[len(calls) // 3 : len(calls) // 3] = deletes
    answers = await asyncio.gather(*(call() for call in calls))

    assert not [a for a in answers if a.status_code >= 500], _problems(answers)
    for answer in answers:
        if answer.status_code != 200:
            # A target deleted first (400), a number not in a state for the change (409).
            assert_error(answer, answer.status_code)
            assert answer.status_code in {400, 409}, answer.text
    deleted = answers[len(calls) // 3 : len(calls) // 3 + 2]
    assert [a.status_code for a in deleted] == [200, 200], [a.text for a in deleted]

    rows = await _numbers_of(database, tenant)
    for e164, row in rows.items():
        assert row["trunk_id"] is None and row["application_id"] is None, (e164, row)
    await _assert_each_last_event_shows_the_number(database, rows)
    await _assert_totals_equal_a_scan(database)


async def test_concurrent_purchases_in_one_account_spread_their_counts(
    client: httpx.AsyncClient, database: Database, tenant: Tenant
) -> None:
    """32 purchasers: all succeed, and on PostgreSQL their count changes land in several
    slots rather than queueing on one row; folding puts them back into one."""
    mine = NUMBERS[:32]
    await stock(database, *(entry(e164) for e164 in mine))

    async def buy(e164: str) -> httpx.Response:
        return await client.post(
            tenant.path("/numbers/purchase-from-inventory"),
            json={"e164": e164, "country": "US"},
            headers=tenant.bearer,
        )

    answers = await asyncio.gather(*(buy(e164) for e164 in mine))
    assert [a.status_code for a in answers] == [201] * 32, _problems(answers)
    assert await counted_and_scanned(database, tenant.account_id) == (32, 32)
    async with database.transaction(write=False) as conn:
        slots = {row.slot for row in await conn.execute(select(number_totals.c.slot))}
    assert len(slots) > 1 if database.dialect == "postgresql" else slots == {0}

    folded = await database.run(count_upkeep.fold_count_slots)
    assert folded > 0 if database.dialect == "postgresql" else folded == 0
    async with database.transaction(write=False) as conn:
        slots = {row.slot for row in await conn.execute(select(number_totals.c.slot))}
    assert slots == {0}
    assert await counted_and_scanned(database, tenant.account_id) == (32, 32)
    await _assert_totals_equal_a_scan(database)


# --- what is left ------------------------------------------------------------------------


def _problems(answers: list[httpx.Response]) -> list[str]:
    return [f"{a.status_code} {a.text}" for a in answers if a.status_code >= 300][:5]


async def _numbers_of(database: Database, tenant: Tenant) -> dict[str, dict[str, Any]]:
    async with database.transaction(write=False) as conn:
        rows = await conn.execute(select(numbers).where(numbers.c.account_id == tenant.account_id))
        return {row.e164: dict(row._mapping) for row in rows}


async def _event_types(database: Database) -> dict[str, int]:
    async with database.transaction(write=False) as conn:
        return dict(Counter(row.type for row in await conn.execute(select(events.c.type))))


async def _assert_each_last_event_shows_the_number(
    database: Database, rows: dict[str, dict[str, Any]]
) -> None:
    """Events are written with their change, in the same transaction: the last event of a
    number shows it as it is now."""
    async with database.transaction(write=False) as conn:
        query = select(events.c.e164, events.c.data).order_by(events.c.seq)
        last = {row.e164: row.data for row in await conn.execute(query)}
    for e164, payload in last.items():
        shown = payload.get("number")
        if shown is None:
            continue
        row = rows[e164]
        assert (shown["status"], shown["trunk_id"], shown["application_id"]) == (
            row["status"],
            row["trunk_id"],
            row["application_id"],
        ), e164


async def _assert_totals_equal_a_scan(database: Database) -> None:
    async with database.transaction(write=False) as conn:
        totals = await counts_by_bucket(conn, number_totals)
        by_month = await counts_by_bucket(conn, number_counts)
        scanned: Counter[tuple[Any, ...]] = Counter()
        scanned_by_month: Counter[tuple[Any, ...]] = Counter()
        for row in await conn.execute(select(numbers)):
            key = (row.account_id, row.country, row.status)
            scanned[key] += 1
            scanned_by_month[(*key, count_upkeep.month_of(row.created_at))] += 1
    assert totals == dict(scanned)
    assert by_month == dict(scanned_by_month)
