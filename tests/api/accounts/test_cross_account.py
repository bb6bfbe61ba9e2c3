"""Account B's key never sees or changes account A's numbers, on any route
(``spec/API.md`` §1 "Account in the path": other accounts' objects do not exist for you)."""

from __future__ import annotations

import base64
import re

import pytest
from litestar import Litestar

from tests.api.support import assert_error, buy, event_count, owners_of
from tests.factories import GB_NUMBERS, US_NUMBERS, entry, make_tenant, stock
from voxnumbers.db.tables import applications, trunks
from voxnumbers.kit.clock import utc_now

A_NUMBER = US_NUMBERS[0]
NOBODYS_NUMBER = GB_NUMBERS[7]  # valid, never stocked, never owned
B_TRUNK, B_APPLICATION = "trunk_bbbbbbbbbbbbbbbb", "app_bbbbbbbbbbbbbbbb"
_PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")


def account_routes(app: Litestar) -> list[tuple[str, str]]:
    """(method, path template) of every route under ``/v1/account/{account_id}``."""
    routes = []
    for route in app.routes:
        if not route.path.startswith("/v1/account/{account_id"):
            continue
        for method in sorted(getattr(route, "methods", ())):
            if method not in ("OPTIONS", "HEAD"):
                routes.append((method, _PARAMETER.sub(r"{\1}", route.path)))
    return routes


def fill(template: str, account_id: str, e164: str) -> str:
    values = {"account_id": account_id, "e164": e164}
    return _PARAMETER.sub(
        lambda m: values.get(m[1], f"{m[1].split('_')[0]}_0000000000000000"), template
    )


def body_for(method: str, template: str = "") -> dict[str, object] | None:
    """A body that would succeed for the caller's own number (B's trunk or application)."""
    if template.endswith("/assign") and method == "POST":
        return {"trunk_id": B_TRUNK}
    if template.endswith("/application") and method == "POST":
        return {"application_id": B_APPLICATION}
    return {} if method in ("POST", "PUT", "PATCH") else None


@pytest.fixture
async def a_and_b(client, database):
    """Account A owns a number; account B owns another."""
    a = await make_tenant(database, "A")
    b = await make_tenant(database, "B")
    await stock(database, entry(A_NUMBER), entry(US_NUMBERS[1]), entry(US_NUMBERS[2]))
    assert (await buy(client, a, A_NUMBER)).status_code == 201
    assert (await buy(client, b, US_NUMBERS[1])).status_code == 201
    async with database.transaction() as conn:
        stamp = utc_now()
        await conn.execute(
            trunks.insert().values(
                id=B_TRUNK,
                account_id=b.account_id,
                name="B's trunk",
                auth_type="ip",
                origination_uris=[],
                created_at=stamp,
                updated_at=stamp,
            )
        )
        await conn.execute(
            applications.insert().values(
                id=B_APPLICATION,
                account_id=b.account_id,
                name="B's app",
                created_at=stamp,
                updated_at=stamp,
            )
        )
    return a, b


async def snapshot(client, tenant):
    """What A sees of its numbers: the list and each number."""
    listed = await client.get(tenant.path("/numbers"), headers=tenant.bearer)
    one = await client.get(tenant.path(f"/numbers/{A_NUMBER}"), headers=tenant.bearer)
    return listed.json(), one.json()


async def test_every_route_refuses_another_accounts_path(client, database, app, a_and_b):
    a, b = a_and_b
    routes = account_routes(app)
    assert ("GET", "/v1/account/{account_id}/numbers") in routes
    assert ("POST", "/v1/account/{account_id}/numbers/purchase-from-inventory") in routes
    before = await snapshot(client, a)
    for method, template in routes:
        response = await client.request(
            method, fill(template, a.account_id, A_NUMBER), headers=b.bearer, json=body_for(method)
        )
        assert response.status_code == 403, (method, template, response.text)
        assert_error(response, 403)
    assert await snapshot(client, a) == before
    assert await event_count(database, A_NUMBER) == 1


async def test_another_accounts_number_is_indistinguishable_from_none(
    client, database, app, a_and_b
):
    """On B's own path, A's number gets exactly the answer a number nobody owns gets."""
    a, b = a_and_b
    before = await snapshot(client, a)
    number_routes = [(m, t) for m, t in account_routes(app) if "{e164}" in t]
    assert ("GET", "/v1/account/{account_id}/numbers/{e164}") in number_routes
    for method, template in number_routes:
        answers = []
        for e164 in (A_NUMBER, NOBODYS_NUMBER):
            response = await client.request(
                method,
                fill(template, b.account_id, e164),
                headers=b.bearer,
                json=body_for(method, template),
            )
            error = assert_error(response, response.status_code)
            answers.append((response.status_code, error["code"], error["message"]))
        assert answers[0] == answers[1], (method, template, answers)
        assert answers[0][0] == 404, (method, template, answers)
    assert await snapshot(client, a) == before
    assert await event_count(database, A_NUMBER) == 1


async def test_b_gets_404_for_as_number_in_every_spelling(client, a_and_b):
    _, b = a_and_b
    for spelling in (A_NUMBER, "%2B" + A_NUMBER[1:], A_NUMBER[1:]):
        response = await client.get(b.path(f"/numbers/{spelling}"), headers=b.bearer)
        assert_error(response, 404)


async def test_b_cannot_buy_as_number(client, database, a_and_b):
    a, b = a_and_b
    before = await snapshot(client, a)
    assert_error(await buy(client, b, A_NUMBER), 409)
    assert await owners_of(database, A_NUMBER) == [a.account_id]
    assert await snapshot(client, a) == before


async def test_b_never_sees_as_numbers(client, a_and_b):
    _, b = a_and_b
    listed = await client.get(b.path("/numbers"), headers=b.bearer)
    assert [n["e164"] for n in listed.json()["data"]] == [US_NUMBERS[1]]
    assert listed.json()["pagination"]["total"] == 1
    for query in ("?status=active", "?country=US", "?status=released", "?per_page=100"):
        page = await client.get(b.path(f"/numbers{query}"), headers=b.bearer)
        assert A_NUMBER not in page.text
    search = await client.get(b.path("/inventory/numbers"), headers=b.bearer)
    assert [n["e164"] for n in search.json()["data"]] == [US_NUMBERS[2]]


async def test_basic_auth_cannot_borrow_another_accounts_id(client, a_and_b):
    a, b = a_and_b
    token = base64.b64encode(f"{a.account_id}:{b.key}".encode()).decode()
    response = await client.get(a.path("/numbers"), headers={"Authorization": f"Basic {token}"})
    assert_error(response, 401)
