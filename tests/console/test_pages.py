"""The console over HTTP, in process, on both databases: sessions, cookies, CSRF, errors,
and the same write rules as the API (one buyer of a number)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from asgi_lifespan import LifespanManager
from litestar import Litestar
from sqlalchemy import func, select, update

from tests.api.support import state_per_request
from tests.factories import Tenant, add_test_key, entry, make_tenant, stock
from voxnumbers.accounts import service as accounts
from voxnumbers.app import create_app
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import console_sessions, numbers
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.worlds import world_of
from voxnumbers.settings import Settings

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
REQUEST_ID = re.compile(r"request id <code>(req_\w+)</code>")


@contextlib.asynccontextmanager
async def browser(
    app: Litestar, base_url: str = "http://testserver"
) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client on the app in process, as a browser would hold it."""
    async with LifespanManager(state_per_request(app)) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
            yield http


@pytest.fixture
def app(database: Database) -> Litestar:
    return create_app(Settings(log_level="warning", run_worker=False), database)


@pytest.fixture
async def tenant(database: Database) -> Tenant:
    return await make_tenant(database)


async def sign_in(http: httpx.AsyncClient, key: str) -> str:
    """Sign in through the form; the CSRF token of the pages that follow."""
    form = await http.get("/console/sign-in")
    answer = await http.post(
        "/console/sign-in", data={"csrf": CSRF.search(form.text)[1], "api_key": key}
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/console/numbers"
    page = await http.get("/console/numbers")
    assert page.status_code == 200
    return CSRF.search(page.text)[1]


def shown_error(response: httpx.Response) -> str:
    """The error message a console page shows; its request id must be the response's."""
    assert response.headers["content-type"].startswith("text/html")
    assert REQUEST_ID.search(response.text)[1] == response.headers["x-request-id"]
    return re.search(r"<strong>([^<]+)</strong>", response.text)[1]


async def session_rows(database: Database) -> list[dict[str, object]]:
    async with database.transaction(write=False) as conn:
        return [dict(row._mapping) for row in await conn.execute(select(console_sessions))]


async def test_the_cookie_and_the_database_hold_no_key(
    app: Litestar, database: Database, tenant: Tenant
) -> None:
    async with browser(app) as http:
        await sign_in(http, tenant.key)
        token = http.cookies["vox_console"]
    [row] = await session_rows(database)
    assert row["key_id"] == tenant.key_id and row["account_id"] == tenant.account_id
    secret = tenant.key.split("_")[-1]
    assert secret not in token and token not in str(row) and secret not in str(row)
    assert row["expires_at"] - row["created_at"] == timedelta(hours=12)


async def test_cookies_are_secure_over_https(app: Litestar, tenant: Tenant) -> None:
    async with browser(app, "https://testserver") as http:
        form = await http.get("/console/sign-in")
        assert "; secure" in form.headers["set-cookie"].lower()
        answer = await http.post(
            "/console/sign-in", data={"csrf": CSRF.search(form.text)[1], "api_key": tenant.key}
        )
        session = next(
            c for c in answer.headers.get_list("set-cookie") if c.startswith("vox_console=")
        )
        assert {"httponly", "secure", "samesite=strict", "path=/console"} <= {
            part.strip().lower() for part in session.split(";")
        }


async def test_a_revoked_key_or_an_expired_session_signs_the_browser_out(
    app: Litestar, database: Database, tenant: Tenant
) -> None:
    async with browser(app) as http:
        await sign_in(http, tenant.key)
        async with database.transaction() as conn:
            await conn.execute(update(console_sessions).values(expires_at=utc_now()))
        gone = await http.get("/console/numbers")
        assert (gone.status_code, gone.headers["location"]) == (303, "/console/sign-in")

        await sign_in(http, tenant.key)
        async with database.transaction() as conn:
            await accounts.revoke_key(conn, tenant.key_id)
        gone = await http.get("/console/trunks")
        assert (gone.status_code, gone.headers["location"]) == (303, "/console/sign-in")
        # Signing in again says why, with the request id.
        form = await http.get("/console/sign-in")
        refused = await http.post(
            "/console/sign-in", data={"csrf": CSRF.search(form.text)[1], "api_key": tenant.key}
        )
        assert refused.status_code == 401
        assert shown_error(refused).startswith("That API key was not accepted")


async def test_the_sign_in_form_needs_its_own_token(
    app: Litestar, database: Database, tenant: Tenant
) -> None:
    async with browser(app) as http:
        await http.get("/console/sign-in")
        forged = await http.post("/console/sign-in", data={"csrf": "forged", "api_key": tenant.key})
        assert forged.status_code == 403
        assert "vox_console" not in forged.cookies
    async with browser(app) as http:  # no cookie from the sign-in page at all
        bare = await http.post("/console/sign-in", data={"csrf": "x", "api_key": tenant.key})
        assert bare.status_code == 403
        assert shown_error(bare) == "The sign-in form has expired; reload the page."
    assert await session_rows(database) == []


async def test_every_state_changing_route_refuses_a_missing_or_wrong_token(
    app: Litestar, database: Database, tenant: Tenant
) -> None:
    paths = sorted(
        route.path
        for route in app.routes
        if route.path.startswith("/console/")
        and "POST" in getattr(route, "methods", ())
        and route.path != "/console/sign-in"
    )
    assert len(paths) >= 15
    async with browser(app) as http:
        token = await sign_in(http, tenant.key)
        for path in paths:
            url = re.sub(r"{e164:str}", "%2B14155550100", path)
            url = re.sub(r"{(\w+):str}", r"\1", url)
            for data, headers in (({}, {}), ({"csrf": token[::-1]}, {"X-CSRF-Token": "x"})):
                refused = await http.post(url, data=data, headers=headers)
                assert refused.status_code == 403, (path, refused.text)
                assert shown_error(refused).startswith("This form has expired")
        # The header htmx sends is as good as the form field.
        created = await http.post(
            "/console/applications", data={"name": "Via header"}, headers={"X-CSRF-Token": token}
        )
        assert created.status_code == 303


async def test_sign_out_deletes_the_session(
    app: Litestar, database: Database, tenant: Tenant
) -> None:
    async with browser(app) as http:
        token = await sign_in(http, tenant.key)
        cookie = http.cookies["vox_console"]
        out = await http.post("/console/sign-out", data={"csrf": token})
        assert (out.status_code, out.headers["location"]) == (303, "/console/sign-in")
    assert await session_rows(database) == []
    async with browser(app) as http:
        http.cookies.set("vox_console", cookie)
        assert (await http.get("/console/numbers")).status_code == 303


async def test_errors_show_the_envelope_message_and_request_id(
    app: Litestar, tenant: Tenant
) -> None:
    async with browser(app) as http:
        token = await sign_in(http, tenant.key)
        bad = await http.get("/console/numbers", params={"country": "USA"})
        assert bad.status_code == 400
        assert "country" in shown_error(bad)
        unknown = await http.get("/console/numbers", params={"colour": "red"})
        assert unknown.status_code == 400
        assert "<code>colour</code> is not a field of this form" in unknown.text
        missing = await http.get("/console/numbers/+14155550100")
        assert missing.status_code == 404
        assert shown_error(missing) == "No such number in this account."
        short = await http.post(
            "/console/trunks",
            data={"csrf": token, "name": "T", "auth_type": "ip", "max_channels": "-1"},
        )
        assert short.status_code == 400
        assert "max_channels" in shown_error(short)
        # htmx asks for a part of the page: the error comes as that part, into #messages.
        part = await http.get(
            "/console/numbers", params={"page": "0"}, headers={"HX-Request": "true"}
        )
        assert part.status_code == 400 and part.headers["hx-retarget"] == "#messages"
        assert not part.text.lstrip().startswith("<!doctype")


async def test_htmx_gets_the_results_alone(app: Litestar, tenant: Tenant) -> None:
    async with browser(app) as http:
        await sign_in(http, tenant.key)
        part = await http.get("/console/numbers", headers={"HX-Request": "true"})
        assert part.status_code == 200
        assert part.text.startswith('<div id="results">')
        page = await http.get("/console/numbers")
        assert page.text.startswith("<!doctype html>")
        # A field's extra attributes are markup, not text.
        assert '<input type="text" name="country" value="" maxlength="2" autocomplete="off"' in (
            page.text
        )
        assert page.headers["content-security-policy"].startswith("default-src 'none'")


async def test_of_concurrent_console_buyers_exactly_one_gets_the_number(
    app: Litestar, database: Database
) -> None:
    e164 = "+14155550142"
    await stock(database, entry(e164))
    buyers = [await make_tenant(database, f"Buyer {i}") for i in range(4)]
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(browser(app)) for _ in buyers]
        tokens = [await sign_in(http, b.key) for http, b in zip(clients, buyers, strict=True)]
        answers = await asyncio.gather(
            *(
                http.post("/console/inventory/buy", data={"csrf": t, "e164": e164, "country": "US"})
                for http, t in zip(clients, tokens, strict=True)
            )
        )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [303, 409, 409, 409], [a.text[:300] for a in answers]
    for answer in answers:
        if answer.status_code == 409:
            assert shown_error(answer)
    async with database.transaction(write=False) as conn:
        owners = (await conn.execute(select(func.count()).where(numbers.c.e164 == e164))).scalar()
    assert owners == 1


async def test_concurrent_sign_ins_and_outs_keep_their_own_sessions(
    app: Litestar, database: Database, tenant: Tenant
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(browser(app)) for _ in range(6)]
        tokens = await asyncio.gather(*(sign_in(http, tenant.key) for http in clients))
        assert len(await session_rows(database)) == 6
        await asyncio.gather(
            *(
                http.post("/console/sign-out", data={"csrf": t})
                for http, t in zip(clients[:3], tokens[:3], strict=True)
            )
        )
        assert len(await session_rows(database)) == 3
        still = await asyncio.gather(*(http.get("/console/numbers") for http in clients))
    assert [s.status_code for s in still] == [303, 303, 303, 200, 200, 200]


async def test_export_applications_webhooks_and_events_pages(
    app: Litestar, database: Database, tenant: Tenant
) -> None:
    await stock(database, entry("+14155550142"), entry("+442079460123"))
    async with browser(app) as http:
        token = await sign_in(http, tenant.key)
        for e164, country in (("+14155550142", "US"), ("+442079460123", "GB")):
            bought = await http.post(
                "/console/inventory/buy", data={"csrf": token, "e164": e164, "country": country}
            )
            assert bought.headers["location"] == f"/console/numbers/{e164.replace('+', '%2B')}"
        # The export link of a filtered page exports what the filter matches.
        page = await http.get("/console/numbers", params={"country": "gb"})
        link = re.search(r'href="(/console/numbers/export\?[^"]+)"', page.text)[1]
        exported = await http.get(link.replace("&amp;", "&"))
        assert exported.headers["content-type"].startswith("text/csv")
        assert [line.split(",")[0] for line in exported.text.splitlines()] == [
            "e164",
            "+442079460123",
        ]
        created = await http.post(
            "/console/applications",
            data={"csrf": token, "name": "IVR", "answer_url": "https://example.com/answer"},
        )
        assert created.status_code == 303
        listed = (await http.get("/console/applications")).text
        application_id = re.search(r"<code>(app_\w+)</code>", listed)[1]
        assert "POST https://example.com/answer" in listed

        hook = await http.post(
            "/console/webhooks",
            data={
                "csrf": token,
                "url": "https://hooks.example.org/vox",
                "event_types": ["number.released", "number.purchased"],
            },
        )
        assert hook.status_code == 201
        secret = re.search(r'<p class="secret">(whsec_\w+)</p>', hook.text)[1]
        hooks = (await http.get("/console/webhooks")).text
        assert "https://hooks.example.org/vox" in hooks and secret not in hooks
        webhook_id = re.search(r'action="/console/webhooks/(whk_\w+)/delete"', hooks)[1]
        deleted = await http.post(f"/console/webhooks/{webhook_id}/delete", data={"csrf": token})
        assert deleted.status_code == 303
        assert "https://hooks.example.org/vox" not in (await http.get("/console/webhooks")).text

        events = await http.get("/console/events", params={"e164": "+14155550142"})
        assert re.findall(r'<td data-label="Event">([\w.]+)</td>', events.text) == [
            "number.purchased"
        ]
        assert "1 event · page 1 of 1" in events.text
        assert "+442079460123" not in events.text
        gone = await http.post(
            f"/console/applications/{application_id}/delete", data={"csrf": token}
        )
        assert gone.status_code == 303
        assert application_id not in (await http.get("/console/applications")).text


async def test_docs_names_no_other_host_and_serves_its_assets(app: Litestar) -> None:
    async with browser(app) as http:
        docs = await http.get("/docs")
        assert docs.status_code == 200
        assert re.findall(r"(?:src|href)=['\"]([^'\"]+)", docs.text) == [
            "/docs/assets/favicon-32x32.png",
            "/docs/assets/swagger-ui.css",
            "/docs/assets/swagger-ui-bundle.js",
            "/docs/assets/swagger-ui-standalone-preset.js",
        ]
        assert "https://" not in docs.text.split("<script type='text/javascript'>")[0]
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
            served = await http.get(f"/docs/assets/{asset}")
            assert served.status_code == 200 and len(served.content) > 500


async def test_a_test_keys_console_is_the_test_world(
    app: Litestar, database: Database, tenant: Tenant
) -> None:
    """Signed in with a test key, the console searches and buys in the test world: the live
    inventory is untouched, and the live key's console never sees the test number."""
    live_only = "+14155550142"
    await stock(database, entry(live_only))
    test = await add_test_key(database, tenant)
    async with browser(app) as http:
        token = await sign_in(http, test.key)
        header = (await http.get("/console/numbers")).text
        assert tenant.account_id in header and world_of(tenant.account_id, live=False) not in header
        search = await http.get("/console/inventory")
        assert search.status_code == 200 and live_only not in search.text
        bought = await http.post(
            "/console/inventory/buy", data={"csrf": token, "e164": "+15005550006", "country": "US"}
        )
        assert bought.status_code == 303, bought.text[:300]
        assert "+15005550006" in (await http.get("/console/numbers")).text
    async with browser(app) as http:
        await sign_in(http, tenant.key)
        listed = (await http.get("/console/numbers")).text
        assert "+15005550006" not in listed
        assert live_only in (await http.get("/console/inventory")).text
