"""``GET /v1/account/{account_id}/inventory/numbers``: what a buyer may choose from
(``spec/API.md`` §3.1b): filters, the list's pagination rules, ``e164`` order."""

from __future__ import annotations

import re

import pytest

from tests.api.support import AVAILABLE_KEYS, assert_page_shape, bought, list_all, own
from tests.factories import (
    GB_NUMBERS,
    IN_NUMBERS,
    US_NUMBERS,
    US_TOLL_FREE,
    entry,
    make_tenant,
    stock,
)

NY = "+12125550100"  # local, region NY
MOBILE_DE = "+4915112345678"


@pytest.fixture
async def shop(database):
    """An inventory of several countries, types, regions and capabilities."""
    await stock(
        database,
        entry(US_NUMBERS[2], capabilities=("voice",)),
        entry(US_NUMBERS[0], capabilities=("voice", "sms", "mms"), monthly=100, setup=50),
        entry(US_NUMBERS[1], capabilities=("sms",)),
        entry(US_TOLL_FREE, capabilities=("voice",), monthly=300),
        entry(NY, capabilities=("voice", "sms")),
        entry(GB_NUMBERS[0], capabilities=("voice", "sms")),
        entry(GB_NUMBERS[1], capabilities=("voice", "mms")),
        entry(IN_NUMBERS[0], capabilities=("voice", "sms", "mms")),
        entry(MOBILE_DE, capabilities=("sms", "mms")),
    )
    return await make_tenant(database)


ALL = sorted([*US_NUMBERS[:3], US_TOLL_FREE, NY, *GB_NUMBERS[:2], IN_NUMBERS[0], MOBILE_DE])


async def search(client, tenant, **params):
    response = await client.get(
        tenant.path("/inventory/numbers"), params=params, headers=tenant.bearer
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert_page_shape(body, AVAILABLE_KEYS)
    return body


def numbers_of(body) -> list[str]:
    return [item["e164"] for item in body["data"]]


async def test_everything_for_sale_in_e164_order_with_the_list_shape(client, shop):
    body = await search(client, shop)
    assert numbers_of(body) == ALL
    assert body["pagination"] == {
        "total": 9,
        "count": 9,
        "per_page": 20,
        "current_page": 1,
        "total_pages": 1,
    }
    first = body["data"][ALL.index(US_NUMBERS[0])]
    assert first == {
        "e164": US_NUMBERS[0],
        "country": "US",
        "type": "local",
        "region": "CA",
        "capabilities": ["voice", "sms", "mms"],
        "monthly_fee": 1.0,
        "setup_fee": 0.5,
        "currency": "USD",
    }


async def test_money_is_two_decimals_in_the_raw_json(client, shop):
    response = await client.get(shop.path("/inventory/numbers"), headers=shop.bearer)
    assert '"monthly_fee":1.00,"setup_fee":0.50' in response.text
    assert '"monthly_fee":3.00,"setup_fee":0.00' in response.text
    assert not re.search(r'"(monthly|setup)_fee":"', response.text)


@pytest.mark.parametrize("spelling", ["GB", "gb", "gB"])
async def test_country_filter_is_case_insensitive(client, shop, spelling):
    body = await search(client, shop, country=spelling)
    assert numbers_of(body) == GB_NUMBERS[:2]
    assert body["pagination"]["total"] == 2


@pytest.mark.parametrize(
    ("number_type", "expected"),
    [("toll_free", [US_TOLL_FREE]), ("mobile", sorted([IN_NUMBERS[0], MOBILE_DE]))],
)
async def test_type_filter(client, shop, number_type, expected):
    assert numbers_of(await search(client, shop, type=number_type)) == expected


async def test_type_local_excludes_toll_free_and_mobile(client, shop):
    local = numbers_of(await search(client, shop, type="local"))
    assert US_TOLL_FREE not in local and MOBILE_DE not in local
    assert set(local) == {US_NUMBERS[0], US_NUMBERS[1], US_NUMBERS[2], NY, *GB_NUMBERS[:2]}


async def test_region_filter(client, shop):
    assert numbers_of(await search(client, shop, region="NY")) == [NY]
    assert numbers_of(await search(client, shop, region="London")) == GB_NUMBERS[:2]
    assert numbers_of(await search(client, shop, region="london")) == GB_NUMBERS[:2]
    assert numbers_of(await search(client, shop, region="Atlantis")) == []


async def test_capability_filter_requires_every_capability_given(client, shop):
    assert numbers_of(await search(client, shop, capability="mms")) == sorted(
        [US_NUMBERS[0], GB_NUMBERS[1], IN_NUMBERS[0], MOBILE_DE]
    )
    both = await search(client, shop, capability=["voice", "mms"])
    assert numbers_of(both) == sorted([US_NUMBERS[0], GB_NUMBERS[1], IN_NUMBERS[0]])
    assert both["pagination"]["total"] == 3
    every = await search(client, shop, capability=["sms", "voice", "mms"])
    assert numbers_of(every) == sorted([US_NUMBERS[0], IN_NUMBERS[0]])
    for item in every["data"]:
        assert item["capabilities"] == ["voice", "sms", "mms"]


@pytest.mark.parametrize(
    ("contains", "expected"),
    [
        ("5551201", [US_NUMBERS[1]]),
        ("+1415", US_NUMBERS[:3]),
        ("8005", [US_TOLL_FREE]),
        ("999999", []),
    ],
)
async def test_contains_filter(client, shop, contains, expected):
    assert numbers_of(await search(client, shop, contains=contains)) == expected


async def test_filters_combine(client, shop):
    body = await search(client, shop, country="us", type="local", capability="sms", region="CA")
    assert numbers_of(body) == US_NUMBERS[:2]


async def test_pagination_follows_the_list_rules(client, shop):
    pages = [await search(client, shop, per_page=4, page=page) for page in (1, 2, 3, 4)]
    assert [numbers_of(page) for page in pages[:3]] == [ALL[:4], ALL[4:8], ALL[8:]]
    assert pages[3]["data"] == []
    for number, page in enumerate(pages, start=1):
        assert page["pagination"]["total"] == 9
        assert page["pagination"]["total_pages"] == 3
        assert page["pagination"]["current_page"] == number
        assert page["pagination"]["per_page"] == 4
    nothing = await search(client, shop, country="FR")
    assert nothing["pagination"] == {
        "total": 0,
        "count": 0,
        "per_page": 20,
        "current_page": 1,
        "total_pages": 0,
    }


@pytest.mark.parametrize("page", [10, 2**63, 10**20])
async def test_any_page_past_the_end_is_empty(client, shop, page):
    body = await search(client, shop, page=page)
    assert body["data"] == []
    assert body["pagination"]["current_page"] == page
    assert body["pagination"]["total"] == 9


async def test_owned_and_cooling_off_numbers_are_not_for_sale(client, database, shop):
    other = await make_tenant(database, "Other")
    await bought(client, other, US_NUMBERS[0])
    # Putting owned or cooling-off numbers up for sale again does nothing.
    await own(database, other, GB_NUMBERS[5], status="released")
    await stock(database, entry(US_NUMBERS[0]), entry(GB_NUMBERS[5]))
    listed = [n["e164"] for n in await list_all(client, shop, "/inventory/numbers")]
    assert US_NUMBERS[0] not in listed
    assert GB_NUMBERS[5] not in listed
    assert listed == [n for n in ALL if n != US_NUMBERS[0]]
