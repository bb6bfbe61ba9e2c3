"""``GET /v1/account/{account_id}/numbers``: the seed (``spec/API.md`` §3.1 and
``seed-list-your-numbers.txt``), rule by rule."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.api.support import (
    NUMBER_KEYS,
    TIME,
    assert_page_shape,
    bought,
    list_all,
    own,
)
from tests.factories import GB_NUMBERS, IN_NUMBERS, US_NUMBERS, entry, make_tenant, stock
from voxnumbers.db.tables import applications, trunks
from voxnumbers.kit.clock import iso_z
from voxnumbers.vocabulary import to_mask


# The seed page's response, verbatim.
def seed_response() -> str:
    """The response body of TryVox's "List Your Numbers" page, verbatim, read from the copy
    of the page kept in the repository."""
    page = (Path(__file__).resolve().parents[3] / "docs/compat/list-your-numbers.txt").read_text()
    start = page.index('{\n"data"')
    return page[start : page.index("}Response Fields", start) + 1]


SEED_RESPONSE = seed_response()


def compact(text: str) -> str:
    """JSON text without the whitespace between tokens (strings untouched)."""
    return re.sub(r'\s+(?=(?:[^"]*"[^"]*")*[^"]*$)', "", text)


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


async def seed_account(database):
    """An account holding exactly the seed's two numbers, routed as in the seed."""
    tenant = await make_tenant(database, "acc_123abc")
    async with database.transaction() as conn:
        stamp = at("2026-03-01T00:00:00Z")
        await conn.execute(
            trunks.insert().values(
                id="trunk_abc123",
                account_id=tenant.account_id,
                name="Main trunk",
                auth_type="ip",
                origination_uris=[],
                created_at=stamp,
                updated_at=stamp,
            )
        )
        await conn.execute(
            applications.insert().values(
                id="app_xyz789",
                account_id=tenant.account_id,
                name="IVR",
                created_at=stamp,
                updated_at=stamp,
            )
        )
    await own(
        database,
        tenant,
        "+14155551234",
        created_at=at("2026-03-15T08:20:00Z"),
        updated_at=at("2026-04-01T14:30:00Z"),
        capabilities=to_mask(["voice", "sms", "mms"]),
        trunk_id="trunk_abc123",
    )
    await own(
        database,
        tenant,
        "+919876543210",
        created_at=at("2026-04-09T10:30:00Z"),
        type="local",
        region="Maharashtra",
        monthly_fee_cents=250,
        application_id="app_xyz789",
    )
    return tenant


async def test_the_seed_example_byte_for_byte(client, database):
    tenant = await seed_account(database)
    response = await client.get(tenant.path("/numbers"), headers=tenant.bearer)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    expected = compact(SEED_RESPONSE).replace(
        '"total":47,"count":2,"per_page":20,"current_page":1,"total_pages":3',
        '"total":2,"count":2,"per_page":20,"current_page":1,"total_pages":1',
    )
    assert response.text == expected
    assert_page_shape(response.json(), NUMBER_KEYS)


async def test_the_seed_country_example(client, database):
    """``?country=US&per_page=50``: only the US number, and the page size asked for."""
    tenant = await seed_account(database)
    response = await client.get(
        tenant.path("/numbers?country=US&per_page=50"), headers=tenant.bearer
    )
    assert response.status_code == 200
    us_number = compact(SEED_RESPONSE).split('"data":[', 1)[1].split(",{", 1)[0]
    assert response.text == (
        f'{{"data":[{us_number}],"pagination":'
        '{"total":1,"count":1,"per_page":50,"current_page":1,"total_pages":1}}'
    )


async def test_money_has_two_decimals_and_times_are_utc_seconds(client, database):
    tenant = await make_tenant(database)
    await stock(
        database,
        entry(US_NUMBERS[0], monthly=100, setup=0),
        entry(US_NUMBERS[1], monthly=5, setup=1999),
        entry(US_NUMBERS[2], monthly=120, setup=100000),
    )
    await bought(client, tenant, *US_NUMBERS[:3])
    response = await client.get(tenant.path("/numbers"), headers=tenant.bearer)
    text = response.text
    for fee in ('"monthly_fee":1.00', '"setup_fee":0.00', '"monthly_fee":0.05'):
        assert fee in text
    for fee in ('"setup_fee":19.99', '"monthly_fee":1.20', '"setup_fee":1000.00'):
        assert fee in text
    times = re.findall(r'"(?:created_at|updated_at)":"([^"]*)"', text)
    assert len(times) == 6
    assert all(TIME.match(value) for value in times), times
    # Decoded, money is a number (never a string) and equals the cents stored.
    fees = [(n["monthly_fee"], n["setup_fee"]) for n in json.loads(text)["data"]]
    assert sorted(fees) == [(0.05, 19.99), (1.0, 0.0), (1.2, 1000.0)]


async def test_defaults_are_page_1_and_20_per_page(client, database):
    tenant = await make_tenant(database)
    for e164 in US_NUMBERS[:25]:
        await own(database, tenant, e164)
    response = await client.get(tenant.path("/numbers"), headers=tenant.bearer)
    body = response.json()
    assert_page_shape(body, NUMBER_KEYS)
    assert body["pagination"] == {
        "total": 25,
        "count": 20,
        "per_page": 20,
        "current_page": 1,
        "total_pages": 2,
    }
    assert [n["e164"] for n in body["data"]] == US_NUMBERS[:20]


async def test_per_page_goes_up_to_100(client, database):
    tenant = await make_tenant(database)
    many = [f"+1415555{n:04d}" for n in range(2000, 2105)]
    for e164 in many:
        await own(database, tenant, e164)
    first = (await client.get(tenant.path("/numbers?per_page=100"), headers=tenant.bearer)).json()
    assert first["pagination"] == {
        "total": 105,
        "count": 100,
        "per_page": 100,
        "current_page": 1,
        "total_pages": 2,
    }
    second = await client.get(tenant.path("/numbers?per_page=100&page=2"), headers=tenant.bearer)
    assert [n["e164"] for n in second.json()["data"]] == many[100:]
    too_many = await client.get(tenant.path("/numbers?per_page=101"), headers=tenant.bearer)
    assert too_many.status_code == 400


@pytest.mark.parametrize(
    ("owned", "per_page", "total_pages"),
    [(0, 20, 0), (1, 20, 1), (20, 20, 1), (21, 20, 2), (7, 3, 3), (9, 3, 3), (5, 1, 5)],
)
async def test_total_is_exact_and_total_pages_is_the_ceiling(
    client, database, owned, per_page, total_pages
):
    tenant = await make_tenant(database)
    for e164 in US_NUMBERS[:owned]:
        await own(database, tenant, e164)
    response = await client.get(
        tenant.path("/numbers"), params={"per_page": per_page}, headers=tenant.bearer
    )
    pagination = response.json()["pagination"]
    assert pagination["total"] == owned
    assert pagination["total_pages"] == total_pages
    assert pagination["count"] == min(owned, per_page)


async def test_a_page_past_the_end_is_empty_not_an_error(client, database):
    tenant = await make_tenant(database)
    for e164 in US_NUMBERS[:3]:
        await own(database, tenant, e164)
    for page in (2, 3, 1000, 2**63, 10**20):
        response = await client.get(
            tenant.path("/numbers"), params={"page": page, "per_page": 3}, headers=tenant.bearer
        )
        assert response.status_code == 200
        assert response.json() == {
            "data": [],
            "pagination": {
                "total": 3,
                "count": 0,
                "per_page": 3,
                "current_page": page,
                "total_pages": 1,
            },
        }


async def test_an_empty_account_lists_nothing(client, database):
    tenant = await make_tenant(database)
    response = await client.get(tenant.path("/numbers?page=2"), headers=tenant.bearer)
    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["pagination"]["total_pages"] == 0


async def test_order_is_created_at_then_e164(client, database):
    """Purchase time first; numbers bought in the same second are ordered by e164."""
    tenant = await make_tenant(database)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    # (number, seconds after base): ties at +10 s, and e164 order opposite to time order.
    plan = [
        (US_NUMBERS[9], 0),
        (US_NUMBERS[5], 10),
        (US_NUMBERS[1], 10),
        (US_NUMBERS[7], 10),
        (GB_NUMBERS[0], 5),
        (US_NUMBERS[0], 30),
        (IN_NUMBERS[0], 20),
    ]
    for e164, seconds in reversed(plan):
        await own(database, tenant, e164, created_at=base + timedelta(seconds=seconds))
    expected = [e164 for e164, seconds in sorted(plan, key=lambda p: (p[1], p[0]))]
    assert [n["e164"] for n in await list_all(client, tenant)] == expected


async def test_paging_never_repeats_or_skips(client, database):
    tenant = await make_tenant(database)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    numbers = US_NUMBERS[:23] + GB_NUMBERS[:10]
    for i, e164 in enumerate(numbers):
        # Many numbers share a purchase second: only the e164 tie-break keeps order total.
        await own(database, tenant, e164, created_at=base + timedelta(seconds=i // 4))
    everything = [n["e164"] for n in await list_all(client, tenant)]
    assert sorted(everything) == sorted(numbers)
    for per_page in (1, 3, 7, 10):
        paged: list[str] = []
        page = 1
        while True:
            response = await client.get(
                tenant.path("/numbers"),
                params={"page": page, "per_page": per_page},
                headers=tenant.bearer,
            )
            body = response.json()
            if not body["data"]:
                break
            paged.extend(n["e164"] for n in body["data"])
            page += 1
        assert paged == everything, per_page
        assert page - 1 == body["pagination"]["total_pages"]
    # The same request twice gives the same page (stable order).
    again = [
        (await client.get(tenant.path("/numbers?per_page=7&page=2"), headers=tenant.bearer)).text
        for _ in range(2)
    ]
    assert again[0] == again[1]


async def test_country_filter_is_case_insensitive(client, database):
    tenant = await make_tenant(database)
    for e164 in US_NUMBERS[:3] + GB_NUMBERS[:2] + IN_NUMBERS[:1]:
        await own(database, tenant, e164)
    answers = []
    for spelling in ("GB", "gb", "Gb", "gB"):
        response = await client.get(
            tenant.path("/numbers"), params={"country": spelling}, headers=tenant.bearer
        )
        assert response.status_code == 200
        answers.append(response.json())
    assert all(answer == answers[0] for answer in answers)
    assert [n["e164"] for n in answers[0]["data"]] == GB_NUMBERS[:2]
    assert answers[0]["pagination"]["total"] == 2
    us = await client.get(tenant.path("/numbers?country=us"), headers=tenant.bearer)
    assert us.json()["pagination"]["total"] == 3
    none = await client.get(tenant.path("/numbers?country=fr"), headers=tenant.bearer)
    assert none.status_code == 200
    assert none.json()["pagination"]["total"] == 0


async def test_status_filter_and_released_numbers(client, database):
    """Each status lists its own; released numbers appear only with ``status=released``
    (while cooling off), never in the default list or its total."""
    tenant = await make_tenant(database)
    now = datetime.now(UTC).replace(microsecond=0)
    await own(database, tenant, US_NUMBERS[0], status="active")
    await own(database, tenant, US_NUMBERS[1], status="active")
    await own(database, tenant, US_NUMBERS[2], status="pending")
    await own(database, tenant, US_NUMBERS[3], status="suspended")
    await own(database, tenant, US_NUMBERS[4], status="released")
    await own(database, tenant, GB_NUMBERS[0], status="released")
    await own(
        database,
        tenant,
        US_NUMBERS[5],
        status="released",
        created_at=now - timedelta(days=100),
        available_after=now - timedelta(days=1),
    )

    async def listed(query: str) -> tuple[list[str], int]:
        response = await client.get(tenant.path(f"/numbers{query}"), headers=tenant.bearer)
        assert response.status_code == 200, response.text
        body = response.json()
        assert all(n["status"] == query.rpartition("=")[2] for n in body["data"]) or not query
        return [n["e164"] for n in body["data"]], body["pagination"]["total"]

    assert await listed("") == (US_NUMBERS[:4], 4)
    assert await listed("?status=active") == (US_NUMBERS[:2], 2)
    assert await listed("?status=pending") == ([US_NUMBERS[2]], 1)
    assert await listed("?status=suspended") == ([US_NUMBERS[3]], 1)
    # The one whose cooling-off is over is no longer the account's.
    assert await listed("?status=released") == ([US_NUMBERS[4], GB_NUMBERS[0]], 2)
    both = await client.get(
        tenant.path("/numbers?status=released&country=gb"), headers=tenant.bearer
    )
    assert [n["e164"] for n in both.json()["data"]] == [GB_NUMBERS[0]]
    assert both.json()["pagination"]["total"] == 1


async def test_released_numbers_say_when_they_were_released_and_return(client, database):
    """[ext] ``status=released`` items add ``released_at`` and ``available_after`` after the
    number object's keys; every other list keeps exactly the seed's keys."""
    tenant = await make_tenant(database)
    now = datetime.now(UTC).replace(microsecond=0)
    await own(database, tenant, US_NUMBERS[0], status="active")
    await own(
        database,
        tenant,
        US_NUMBERS[1],
        status="released",
        created_at=now - timedelta(days=3),
        available_after=now + timedelta(days=27),
    )
    released = await client.get(tenant.path("/numbers?status=released"), headers=tenant.bearer)
    (item,) = released.json()["data"]
    assert list(item) == [*NUMBER_KEYS, "released_at", "available_after"]
    assert (item["released_at"], item["available_after"]) == (
        iso_z(now - timedelta(days=3)),
        iso_z(now + timedelta(days=27)),
    )
    for query in ("", "?status=active", "?cursor="):
        response = await client.get(tenant.path(f"/numbers{query}"), headers=tenant.bearer)
        assert [list(n) for n in response.json()["data"]] == [NUMBER_KEYS], query


async def test_status_and_country_combine(client, database):
    tenant = await make_tenant(database)
    await own(database, tenant, US_NUMBERS[0], status="active")
    await own(database, tenant, US_NUMBERS[1], status="suspended")
    await own(database, tenant, GB_NUMBERS[0], status="suspended")
    response = await client.get(
        tenant.path("/numbers"),
        params={"country": "US", "status": "suspended"},
        headers=tenant.bearer,
    )
    assert [n["e164"] for n in response.json()["data"]] == [US_NUMBERS[1]]
    assert response.json()["pagination"]["total"] == 1


async def test_the_list_shows_only_the_callers_numbers(client, database):
    mine = await make_tenant(database, "Mine")
    theirs = await make_tenant(database, "Theirs")
    await own(database, mine, US_NUMBERS[0])
    await own(database, theirs, US_NUMBERS[1])
    await own(database, theirs, US_NUMBERS[2])
    response = await client.get(mine.path("/numbers"), headers=mine.bearer)
    assert [n["e164"] for n in response.json()["data"]] == [US_NUMBERS[0]]
    assert response.json()["pagination"]["total"] == 1
