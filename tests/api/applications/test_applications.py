"""Voice applications over HTTP (``spec/API.md`` §5), including TryVox's
``/v1/voice/applications/{app_id}`` [compat], on both databases."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.api.support import TIME, assert_error, assert_page_shape, list_all
from tests.factories import US_NUMBERS, Tenant, entry, make_tenant, stock
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import applications

APPLICATION_KEYS = [
    "id",
    "name",
    "answer_url",
    "answer_method",
    "hangup_url",
    "hangup_method",
    "fallback_url",
    "created_at",
    "updated_at",
    "has_webhook_secret",
]
SECRET = "whsec_s3cr3t-value"
NUMBER = US_NUMBERS[0]
URL_FIELDS = ["answer_url", "hangup_url", "fallback_url"]


@pytest.fixture
async def me(database: Database) -> Tenant:
    return await make_tenant(database, "Me")


@pytest.fixture
async def other(database: Database) -> Tenant:
    return await make_tenant(database, "Other")


async def create_application(
    client: httpx.AsyncClient, tenant: Tenant, **fields: Any
) -> dict[str, Any]:
    body = {"name": "ivr", **fields}
    r = await client.post(tenant.path("/applications"), json=body, headers=tenant.bearer)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def get_application(client: httpx.AsyncClient, tenant: Tenant, app_id: str) -> dict:
    r = await client.get(tenant.path(f"/applications/{app_id}"), headers=tenant.bearer)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def stored_secret(database: Database, app_id: str) -> str | None:
    async with database.transaction(write=False) as conn:
        query = select(applications.c.webhook_secret).where(applications.c.id == app_id)
        return (await conn.execute(query)).scalar_one()  # type: ignore[no-any-return]


async def route_number_to(
    client: httpx.AsyncClient, database: Database, tenant: Tenant, app_id: str
) -> None:
    await stock(database, entry(NUMBER))
    r = await client.post(
        tenant.path("/numbers/purchase-from-inventory"),
        json={"e164": NUMBER, "country": "US"},
        headers=tenant.bearer,
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        tenant.path(f"/numbers/{NUMBER}/application"),
        json={"application_id": app_id},
        headers=tenant.bearer,
    )
    assert r.status_code == 200, r.text


async def number_application(client: httpx.AsyncClient, tenant: Tenant) -> str | None:
    r = await client.get(tenant.path(f"/numbers/{NUMBER}"), headers=tenant.bearer)
    assert r.status_code == 200, r.text
    return r.json()["application_id"]  # type: ignore[no-any-return]


# --- create, read, list ---------------------------------------------------------------------


async def test_create_answers_201_with_the_application(client, me, database):
    r = await client.post(
        me.path("/applications"),
        json={
            "name": "Support IVR",
            "answer_url": "https://example.com/voice/answer",
            "answer_method": "GET",
            "hangup_url": "http://example.com:8080/voice/hangup?x=1",
            "hangup_method": "POST",
            "fallback_url": "https://[2001:db8::1]/fallback",
            "webhook_secret": SECRET,
        },
        headers=me.bearer,
    )
    assert r.status_code == 201, r.text
    app = r.json()
    assert list(app) == APPLICATION_KEYS
    assert app["id"].startswith("app_")
    assert app["name"] == "Support IVR"
    assert app["answer_url"] == "https://example.com/voice/answer"
    assert app["answer_method"] == "GET"
    assert app["hangup_url"] == "http://example.com:8080/voice/hangup?x=1"
    assert app["hangup_method"] == "POST"
    assert app["fallback_url"] == "https://[2001:db8::1]/fallback"
    assert app["has_webhook_secret"] is True
    assert TIME.match(app["created_at"]) and app["updated_at"] == app["created_at"]
    assert SECRET not in r.text
    assert await stored_secret(database, app["id"]) == SECRET


async def test_optional_fields_take_their_defaults(client, me):
    app = await create_application(client, me)
    assert app["answer_url"] is None and app["hangup_url"] is None and app["fallback_url"] is None
    assert app["answer_method"] == "POST" and app["hangup_method"] == "POST"
    assert app["has_webhook_secret"] is False


async def test_get_answers_what_create_answered_on_both_paths(client, me):
    app = await create_application(client, me, answer_url="https://example.com/a")
    assert await get_application(client, me, app["id"]) == app
    for headers in (me.bearer, me.basic):
        r = await client.get(f"/v1/voice/applications/{app['id']}", headers=headers)
        assert r.status_code == 200, r.text
        assert r.json() == app


async def test_the_webhook_secret_is_never_returned(client, me):
    app = await create_application(client, me, webhook_secret=SECRET)
    responses = [
        await client.get(me.path(f"/applications/{app['id']}"), headers=me.bearer),
        await client.get(f"/v1/voice/applications/{app['id']}", headers=me.bearer),
        await client.get(me.path("/applications"), headers=me.bearer),
        await client.patch(
            me.path(f"/applications/{app['id']}"), json={"name": "x"}, headers=me.bearer
        ),
        await client.delete(me.path(f"/applications/{app['id']}"), headers=me.bearer),
    ]
    for response in responses:
        assert response.status_code == 200, response.text
        assert SECRET not in response.text and '"webhook_secret"' not in response.text


async def test_list_pages_in_creation_order_with_exact_totals(client, me, other):
    created = [await create_application(client, me, name=f"a{n}") for n in range(3)]
    await create_application(client, other, name="not mine")
    expected = sorted(created, key=lambda a: (a["created_at"], a["id"]))
    r = await client.get(me.path("/applications"), params={"per_page": 2}, headers=me.bearer)
    first = r.json()
    assert_page_shape(first, APPLICATION_KEYS)
    assert first["pagination"] == {
        "total": 3,
        "count": 2,
        "per_page": 2,
        "current_page": 1,
        "total_pages": 2,
    }
    r = await client.get(
        me.path("/applications"), params={"per_page": 2, "page": 2}, headers=me.bearer
    )
    assert first["data"] + r.json()["data"] == expected
    r = await client.get(me.path("/applications"), params={"page": 9}, headers=me.bearer)
    assert r.status_code == 200 and r.json()["data"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("per_page=101", "per_page"),
        ("name=x", "name"),
        ("page=1&page=2", "page"),
    ],
)
async def test_list_refuses_bad_parameters(client, me, query, field):
    assert_error(await client.get(me.path(f"/applications?{query}"), headers=me.bearer), 400, field)


# --- validation -----------------------------------------------------------------------------


BAD_URLS = [
    "",
    "example.com/answer",
    "/voice/answer",
    "ftp://example.com/answer",
    "javascript:alert(1)",
    "http://",
    "https:///path",
    "https://exa mple.com/",
    "https://example.com/\n",
    "https://example.com/\u0000",
    "https://example.com:99999/",
    "https://example.com:port/",
    "https://[2001:db8::1/",
    "https://example.com/" + "a" * 2000,
    5,
]


@pytest.mark.parametrize("field", URL_FIELDS)
@pytest.mark.parametrize("url", BAD_URLS, ids=[repr(u)[:30] for u in BAD_URLS])
async def test_urls_must_be_absolute_http_urls(client, me, field, url):
    r = await client.post(
        me.path("/applications"), json={"name": "ivr", field: url}, headers=me.bearer
    )
    assert_error(r, 400, field)
    app = await create_application(client, me, **{field: "https://example.com/ok"})
    r = await client.patch(
        me.path(f"/applications/{app['id']}"), json={field: url}, headers=me.bearer
    )
    assert_error(r, 400, field)
    assert (await get_application(client, me, app["id"]))[field] == "https://example.com/ok"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "   "),
        ("name", "n" * 201),
        ("name", "a\u0000b"),
        ("name", None),
        ("name", ["ivr"]),
        ("answer_method", "PUT"),
        ("answer_method", "post"),
        ("answer_method", None),
        ("hangup_method", "DELETE"),
        ("hangup_method", 1),
        ("webhook_secret", ""),
        ("webhook_secret", "s" * 201),
        ("webhook_secret", "bad\u0000secret"),
        ("webhook_secret", 12345),
        ("colour", "red"),
    ],
)
async def test_invalid_fields_are_refused_on_create_and_patch(client, me, field, value):
    r = await client.post(
        me.path("/applications"), json={"name": "ivr", field: value}, headers=me.bearer
    )
    assert_error(r, 400, field)
    app = await create_application(client, me, name="before")
    r = await client.patch(
        me.path(f"/applications/{app['id']}"), json={field: value}, headers=me.bearer
    )
    assert_error(r, 400, field)
    assert await get_application(client, me, app["id"]) == app


async def test_name_is_required_on_create(client, me):
    r = await client.post(
        me.path("/applications"), json={"answer_url": "https://example.com"}, headers=me.bearer
    )
    assert_error(r, 400, "name")


@pytest.mark.parametrize("body", [b'{"name": ', b"[]", b"null", b'"ivr"'])
async def test_a_body_that_is_not_an_object_is_refused(client, me, body):
    headers = {**me.bearer, "content-type": "application/json"}
    assert_error(await client.post(me.path("/applications"), content=body, headers=headers), 400)
    app = await create_application(client, me)
    r = await client.patch(me.path(f"/applications/{app['id']}"), content=body, headers=headers)
    assert_error(r, 400)


async def test_limits_are_inclusive(client, me):
    url = "https://example.com/" + "a" * (2000 - len("https://example.com/"))
    app = await create_application(
        client, me, name="n" * 200, answer_url=url, webhook_secret="s" * 200
    )
    assert app["answer_url"] == url and app["name"] == "n" * 200


# --- patch ----------------------------------------------------------------------------------


async def test_patch_changes_only_the_fields_given(client, me):
    app = await create_application(
        client,
        me,
        answer_url="https://example.com/answer",
        hangup_url="https://example.com/hangup",
        fallback_url="https://example.com/fallback",
        webhook_secret=SECRET,
    )
    r = await client.patch(
        me.path(f"/applications/{app['id']}"),
        json={"name": "renamed", "hangup_method": "GET", "fallback_url": None},
        headers=me.bearer,
    )
    assert r.status_code == 200, r.text
    patched = r.json()
    assert list(patched) == APPLICATION_KEYS
    assert patched == {
        **app,
        "name": "renamed",
        "hangup_method": "GET",
        "fallback_url": None,
        "updated_at": patched["updated_at"],
    }
    assert patched["updated_at"] >= app["updated_at"]
    assert await get_application(client, me, app["id"]) == patched


async def test_an_empty_patch_changes_nothing(client, me):
    app = await create_application(client, me, answer_url="https://example.com/a")
    r = await client.patch(me.path(f"/applications/{app['id']}"), json={}, headers=me.bearer)
    assert r.status_code == 200 and r.json() == app


async def test_null_clears_the_webhook_secret(client, me, database):
    app = await create_application(client, me, webhook_secret=SECRET)
    r = await client.patch(
        me.path(f"/applications/{app['id']}"), json={"webhook_secret": None}, headers=me.bearer
    )
    assert r.status_code == 200 and r.json()["has_webhook_secret"] is False
    assert await stored_secret(database, app["id"]) is None


async def test_a_real_tryvox_client_updates_with_basic_auth(client, me, database):
    """What TryVox's own client sends: Basic auth (account id, key), no account in the path."""
    app = await create_application(client, me)
    r = await client.patch(
        f"/v1/voice/applications/{app['id']}",
        json={
            "answer_url": "https://client.example.com/answer",
            "answer_method": "POST",
            "webhook_secret": SECRET,
        },
        headers=me.basic,
    )
    assert r.status_code == 200, r.text
    updated = r.json()
    assert list(updated) == APPLICATION_KEYS
    assert updated["answer_url"] == "https://client.example.com/answer"
    assert updated["answer_method"] == "POST"
    assert updated["has_webhook_secret"] is True
    assert SECRET not in r.text
    assert await stored_secret(database, app["id"]) == SECRET
    assert await get_application(client, me, app["id"]) == updated


async def test_the_compat_path_takes_the_account_from_the_key(client, me, other):
    mine = await create_application(client, me)
    r = await client.patch(
        f"/v1/voice/applications/{mine['id']}", json={"name": "stolen"}, headers=other.basic
    )
    assert_error(r, 404)
    r = await client.get(f"/v1/voice/applications/{mine['id']}", headers=other.bearer)
    assert_error(r, 404)
    assert (await get_application(client, me, mine["id"]))["name"] == "ivr"


async def test_the_compat_path_needs_a_key(client, me):
    app = await create_application(client, me)
    assert_error(await client.get(f"/v1/voice/applications/{app['id']}"), 401)
    wrong_account = httpx.BasicAuth(f"acc_{'0' * 16}", me.key)
    r = await client.get(f"/v1/voice/applications/{app['id']}", auth=wrong_account)
    assert_error(r, 401)


async def test_the_compat_path_offers_only_get_and_patch(client, me):
    app = await create_application(client, me)
    r = await client.delete(f"/v1/voice/applications/{app['id']}", headers=me.bearer)
    assert_error(r, 405)
    assert await get_application(client, me, app["id"]) == app


# --- delete ---------------------------------------------------------------------------------


async def test_delete_answers_the_final_state_and_the_application_is_gone(client, me):
    app = await create_application(client, me, webhook_secret=SECRET)
    r = await client.delete(me.path(f"/applications/{app['id']}"), headers=me.bearer)
    assert r.status_code == 200 and r.json() == app
    assert_error(await client.get(me.path(f"/applications/{app['id']}"), headers=me.bearer), 404)
    assert_error(await client.get(f"/v1/voice/applications/{app['id']}", headers=me.bearer), 404)
    assert await list_all(client, me, "/applications") == []
    assert_error(await client.delete(me.path(f"/applications/{app['id']}"), headers=me.bearer), 404)


async def test_delete_is_refused_while_numbers_route_to_the_application(client, me, database):
    app = await create_application(client, me)
    await route_number_to(client, database, me, app["id"])
    r = await client.delete(me.path(f"/applications/{app['id']}"), headers=me.bearer)
    assert_error(r, 409)
    assert await get_application(client, me, app["id"]) == app
    assert await number_application(client, me) == app["id"]


async def test_force_delete_unassigns_the_numbers(client, me, database):
    app = await create_application(client, me)
    await route_number_to(client, database, me, app["id"])
    r = await client.delete(me.path(f"/applications/{app['id']}?force=true"), headers=me.bearer)
    assert r.status_code == 200 and r.json() == app
    assert await number_application(client, me) is None
    assert await list_all(client, me, "/applications") == []


async def test_deleting_an_application_while_a_number_is_routed_to_it_is_all_or_nothing(
    client, me, database
):
    """A delete racing a routing change: one of them wins, never both, never a 500."""
    await route_number_to(client, database, me, (await create_application(client, me))["id"])
    for _ in range(8):
        app = await create_application(client, me)
        route, remove = await asyncio.gather(
            client.post(
                me.path(f"/numbers/{NUMBER}/application"),
                json={"application_id": app["id"]},
                headers=me.bearer,
            ),
            client.delete(me.path(f"/applications/{app['id']}"), headers=me.bearer),
        )
        if remove.status_code == 200:
            assert_error(route, 400, "application_id")
            assert await number_application(client, me) != app["id"]
        else:
            assert route.status_code == 200, route.text
            assert_error(remove, 409)
            assert await number_application(client, me) == app["id"]


async def test_force_must_be_a_boolean(client, me):
    app = await create_application(client, me)
    r = await client.delete(me.path(f"/applications/{app['id']}?force=yes"), headers=me.bearer)
    assert_error(r, 400, "force")
    assert await get_application(client, me, app["id"]) == app


# --- not found and other accounts -----------------------------------------------------------


def account_routes(app_id: str) -> list[tuple[str, str, Any]]:
    """Every route under the account that names an application: (method, path, body)."""
    return [
        ("GET", f"/applications/{app_id}", None),
        ("PATCH", f"/applications/{app_id}", {"name": "taken over"}),
        ("DELETE", f"/applications/{app_id}?force=true", None),
    ]


ROUTE_NAMES = [f"{m} {p.split('?')[0]}" for m, p, _ in account_routes("A")]


@pytest.mark.parametrize("route", range(len(ROUTE_NAMES)), ids=ROUTE_NAMES)
async def test_another_accounts_key_is_forbidden_on_this_accounts_paths(client, me, other, route):
    app = await create_application(client, me)
    method, path, body = account_routes(app["id"])[route]
    assert_error(await client.request(method, me.path(path), json=body, headers=other.bearer), 403)
    assert await get_application(client, me, app["id"]) == app


@pytest.mark.parametrize(
    ("method", "body"), [("GET", None), ("POST", {"name": "x"})], ids=["list", "create"]
)
async def test_another_accounts_key_is_forbidden_on_the_collection(client, me, other, method, body):
    r = await client.request(method, me.path("/applications"), json=body, headers=other.bearer)
    assert_error(r, 403)
    assert await list_all(client, me, "/applications") == []


@pytest.mark.parametrize("route", range(len(ROUTE_NAMES)), ids=ROUTE_NAMES)
async def test_another_accounts_application_is_not_found_on_my_paths(client, me, other, route):
    app = await create_application(client, me)
    await create_application(client, other)
    method, path, body = account_routes(app["id"])[route]
    r = await client.request(method, other.path(path), json=body, headers=other.bearer)
    missing_path = account_routes("app_0000000000000000")[route][1]
    missing = await client.request(
        method, other.path(missing_path), json=body, headers=other.bearer
    )
    assert_error(r, 404)
    assert_error(missing, 404)
    assert r.json()["error"]["message"] == missing.json()["error"]["message"]
    assert await get_application(client, me, app["id"]) == app


@pytest.mark.parametrize("route", range(len(ROUTE_NAMES)), ids=ROUTE_NAMES)
@pytest.mark.parametrize("bad_id", ["nope", "app_%00", "app_" + "x" * 300, "APP_1"])
async def test_ids_that_cannot_exist_are_not_found(client, me, route, bad_id):
    app = await create_application(client, me)
    method, path, body = account_routes(bad_id)[route]
    assert_error(await client.request(method, me.path(path), json=body, headers=me.bearer), 404)
    r = await client.get(f"/v1/voice/applications/{bad_id}", headers=me.bearer)
    assert_error(r, 404)
    assert await get_application(client, me, app["id"]) == app
