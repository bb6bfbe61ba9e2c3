"""The console as a person uses it, in headless Chromium against a real ``vox serve``:
what the pages show is checked against what the API answers for the same account."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import expect

from tests.console.conftest import DESKTOP, PHONE, SCREENSHOTS, Visit

pytestmark = pytest.mark.e2e


def ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


def listed_numbers(page: Any) -> list[str]:
    return page.locator("#results tbody td[data-label=Number]").all_inner_texts()


def test_sign_in_shows_the_account_and_the_key_mode_and_never_stores_the_key(
    visit: Visit,
) -> None:
    page = visit.sign_in()
    header = page.locator("header.top")
    assert visit.server.account_id in header.inner_text()
    # The demo key is a test key (tvx_sk_test_…): the console says so.
    assert header.locator(".badge").inner_text().lower() == "test mode"
    assert page.title() == "Numbers · voxnumbers console"
    cookies = {cookie["name"]: cookie for cookie in visit.context.cookies()}
    session = cookies["vox_console"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert session["secure"] is False  # plain HTTP here; Secure over HTTPS
    assert session["path"] == "/console"
    secret = visit.server.key.split("_")[-1]
    assert all(secret not in cookie["value"] for cookie in cookies.values())
    assert visit.server.key not in page.content()


def test_a_wrong_key_is_refused_with_the_message_and_request_id(visit: Visit) -> None:
    page = visit.page
    page.goto("/console/sign-in")
    page.get_by_label("API key").fill("tvx_sk_live_" + "x" * 40)
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    assert "That API key was not accepted" in alert.inner_text()
    assert re.search(r"401 UNAUTHORIZED · request id req_\w+", alert.inner_text())
    assert "vox_console" not in {cookie["name"] for cookie in visit.context.cookies()}


@pytest.fixture(scope="module")
def more_us_numbers(api: httpx.Client) -> None:
    """Enough active US numbers in the demo account for two pages (bought with the API),
    leaving some for sale for the tests that buy one."""
    for_sale = ok(api.get("/inventory/numbers", params={"country": "US", "per_page": 40}))
    assert for_sale["pagination"]["total"] > 24
    for item in for_sale["data"][:20]:
        ok(
            api.post(
                "/numbers/purchase-from-inventory", json={"e164": item["e164"], "country": "US"}
            )
        )


def test_filter_by_country_and_status_and_page_through(
    visit: Visit, api: httpx.Client, more_us_numbers: None
) -> None:
    page = visit.sign_in()
    page.get_by_label("Country (ISO code)").fill("us")
    page.get_by_label("Status").select_option("active")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"country=us.*status=active|status=active.*country=us"))
    expected = ok(api.get("/numbers", params={"country": "US", "status": "active"}))
    total = expected["pagination"]["total"]
    assert total > 20, "the demo needs more than one page of active US numbers"
    summary = page.locator("#results .total").first
    pages = expected["pagination"]["total_pages"]
    assert summary.inner_text() == f"{total:,} numbers · page 1 of {pages:,}"
    assert listed_numbers(page) == [n["e164"] for n in expected["data"]]
    statuses = page.locator("#results tbody td[data-label=Status]").all_inner_texts()
    assert set(statuses) == {"active"}

    page.get_by_role("link", name="Next page").first.click()
    page.wait_for_url(re.compile(r"page=2"))
    second = ok(api.get("/numbers", params={"country": "US", "status": "active", "page": 2}))
    page.wait_for_function(
        "document.querySelector('#results .total').textContent.includes('page 2')"
    )
    assert listed_numbers(page) == [n["e164"] for n in second["data"]]
    # The filter form still says what is listed.
    assert page.get_by_label("Country (ISO code)").input_value() == "us"
    assert page.get_by_label("Status").input_value() == "active"


def test_buy_from_inventory(visit: Visit, api: httpx.Client) -> None:
    page = visit.sign_in()
    page.get_by_role("link", name="Buy numbers").click()
    page.get_by_label("Country (ISO code)").fill("US")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/console/inventory\?country=US"))
    first = page.locator("#results tbody td[data-label=Number]").first.inner_text()
    page.get_by_role("button", name=f"Buy {first}").click()
    page.wait_for_url(re.compile(re.escape(f"/console/numbers/{quote(first)}") + "$"))
    assert page.get_by_role("heading", level=1).inner_text().startswith(first)
    bought = ok(api.get(f"/numbers/{quote(first)}"))
    assert bought["status"] in ("active", "pending")
    assert "number.purchased" in page.locator("table.list").last.inner_text()


def _first_active_number(api: httpx.Client) -> str:
    numbers = ok(api.get("/numbers", params={"status": "active", "routed": "false"}))["data"]
    return str(numbers[0]["e164"])


def test_create_a_trunk_and_route_a_number_to_it(visit: Visit, api: httpx.Client) -> None:
    page = visit.sign_in()
    page.get_by_role("link", name="Trunks").click()
    page.get_by_label("Name", exact=True).fill("Browser trunk")
    page.get_by_label("Authentication").select_option("credential")
    page.get_by_label("Origination URIs (one per line)").fill(
        "sip:edge1.example.com\nsip:edge2.example.com"
    )
    page.get_by_role("button", name="Create trunk").click()
    page.wait_for_url(re.compile(r"/console/trunks/trunk_\w+$"))
    trunk_id = page.url.rsplit("/", 1)[1]
    page.get_by_label("Username").fill("pbx-one")
    page.get_by_label("Password (12 characters or more)").fill("correct horse battery")
    page.get_by_role("button", name="Add credential").click()
    page.get_by_label("IP address", exact=True).fill("203.0.113.0")
    page.get_by_label("Mask (default 32 for IPv4, 128 for IPv6)").fill("24")
    page.get_by_role("button", name="Add network").click()
    assert "203.0.113.0/24" in page.locator("table.list").last.inner_text()
    assert "pbx-one" in page.locator("table.list").first.inner_text()
    trunk = ok(api.get(f"/trunks/{trunk_id}"))
    assert trunk["origination_uris"] == ["sip:edge1.example.com", "sip:edge2.example.com"]
    assert [c["username"] for c in ok(api.get(f"/trunks/{trunk_id}/credentials"))["data"]] == [
        "pbx-one"
    ]

    e164 = _first_active_number(api)
    page.goto(f"/console/numbers/{quote(e164)}")
    page.get_by_label("SIP trunk").select_option(trunk_id)
    page.get_by_role("button", name="Route to trunk").click()
    page.wait_for_selector(f"dd a[href='/console/trunks/{trunk_id}']")
    assert ok(api.get(f"/numbers/{quote(e164)}"))["trunk_id"] == trunk_id
    page.get_by_role("button", name="Remove trunk").click()
    page.wait_for_selector("text=Route to trunk")
    assert ok(api.get(f"/numbers/{quote(e164)}"))["trunk_id"] is None


def test_release_after_the_preview_then_cancel(visit: Visit, api: httpx.Client) -> None:
    page = visit.sign_in()
    e164 = _first_active_number(api)
    page.goto(f"/console/numbers/{quote(e164)}")
    page.get_by_role("link", name="Preview release").click()
    preview = ok(api.get(f"/numbers/{quote(e164)}/release-preview"))
    fee = f"${preview['early_termination_fee']:.2f} USD"
    # htmx brought the preview into the page (the URL did not change).
    page.wait_for_selector("#release-preview #preview")
    assert fee in page.locator("#release-preview").inner_text()
    assert page.url.endswith(f"/console/numbers/{quote(e164)}")
    page.get_by_role("button", name=f"Release {e164}").click()
    page.wait_for_selector("h1 .status.released")
    assert (
        ok(api.get("/numbers", params={"status": "released", "contains": e164[1:]}))["pagination"][
            "total"
        ]
        == 1
    )
    page.get_by_role("button", name="Cancel release").click()
    page.wait_for_selector("h1 .status.active")
    assert ok(api.get(f"/numbers/{quote(e164)}"))["status"] == "active"
    events = page.locator("table.list").last.inner_text()
    assert "number.released" in events and "number.release_cancelled" in events


def test_sign_out_ends_the_session_on_the_server(visit: Visit) -> None:
    page = visit.sign_in()
    cookie = next(c for c in visit.context.cookies() if c["name"] == "vox_console")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/console/sign-in$"))
    assert "vox_console" not in {c["name"] for c in visit.context.cookies()}
    # The old cookie, replayed, opens nothing: the session is gone server-side.
    replay = httpx.get(
        f"{visit.server.base_url}/console/numbers",
        cookies={"vox_console": cookie["value"]},
        follow_redirects=False,
    )
    assert replay.status_code == 303
    assert replay.headers["location"] == "/console/sign-in"


def test_a_post_without_the_csrf_token_is_refused(visit: Visit, api: httpx.Client) -> None:
    page = visit.sign_in()
    before = ok(api.get("/trunks"))["pagination"]["total"]
    script = """async (token) => {
        const body = new URLSearchParams({name: "forged", auth_type: "ip"});
        if (token !== null) body.set("csrf", token);
        const r = await fetch("/console/trunks", {method: "POST", body, redirect: "manual"});
        return [r.status, await r.text()];
    }"""
    for token in (None, "not-the-token"):
        status, body = page.evaluate(script, token)
        assert status == 403
        assert "This form has expired or did not come from the console" in body
        assert re.search(r"request id <code>req_\w+</code>", body)
    assert ok(api.get("/trunks"))["pagination"]["total"] == before


def test_a_bulk_jobs_progress_is_shown_live_until_it_ends(visit: Visit, api: httpx.Client) -> None:
    # 50,000 numbers nobody owns here: each batch fails them (NOT_FOUND), so the job
    # changes nothing and takes long enough to be seen running.
    strangers = [f"+1{area}555{i:04d}" for area in (212, 646, 718, 917, 347) for i in range(10_000)]
    page = visit.sign_in()
    page.get_by_role("link", name="Jobs").click()
    page.wait_for_url(re.compile(r"/console/jobs$"))
    created = api.post("/numbers/bulk", json={"action": "unassign", "numbers": strangers})
    assert created.status_code == 202, created.text
    job_id = created.json()["id"]

    page.goto(f"/console/jobs/{job_id}")
    first = page.locator("#progress dd[data-status]").get_attribute("data-status")
    assert first in ("queued", "running")
    page.evaluate("window.sameDocument = true")  # gone if the page were loaded again
    page.wait_for_selector("#progress dd[data-status=succeeded]", timeout=120_000)
    assert page.evaluate("window.sameDocument") is True
    progress = page.locator("#progress").inner_text()
    assert "50000 of 50000 numbers processed" in progress
    assert "Failed\n50000" in progress
    assert page.get_by_role("button", name="Cancel the job").count() == 0
    page.get_by_role("link", name="All jobs").click()
    assert job_id in page.locator("table.list").inner_text()
    assert visit.foreign_requests() == []


def test_every_input_has_a_label_and_pages_fit_360_px(phone: Visit) -> None:
    page = phone.sign_in()
    for path in [
        "/console/numbers",
        "/console/inventory",
        "/console/trunks",
        "/console/applications",
        "/console/events",
        "/console/webhooks",
        "/console/jobs",
    ]:
        page.goto(path)
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input, select, textarea')]
                .filter(e => e.type !== 'hidden' && e.labels.length === 0)
                .map(e => e.name)"""
        )
        assert unlabelled == [], path
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width} px wide"


def test_sign_in_and_filter_with_the_keyboard_alone(visit: Visit) -> None:
    page = visit.page
    page.goto("/console/sign-in")
    # The key field has the focus when the page opens (autofocus: waited for, as a loaded
    # machine may apply it after the load event); Enter submits.
    expect(page.locator("input[name=api_key]")).to_be_focused()
    page.keyboard.type(visit.server.key)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/console/numbers$"))
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    focus = page.locator("input[name=country]")
    for _ in range(20):
        page.keyboard.press("Tab")
        if focus.evaluate("e => e === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the country filter")
    page.keyboard.type("US")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"country=US"))
    assert set(page.locator("#results tbody td[data-label=Country]").all_inner_texts()) == {"US"}


def test_docs_serves_its_own_assets(visit: Visit) -> None:
    page = visit.page
    page.goto("/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "voxnumbers" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock").count() > 10
    assets = [url for url in visit.requested if "/docs/assets/" in url]
    assert len(assets) >= 3


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "360px"])
def test_screenshots_of_the_main_pages(
    browser: Any, demo_server: Any, api: httpx.Client, viewport: dict[str, int], tmp_path: Path
) -> None:
    """Take the screenshots docs/console.md shows (into docs/console when
    ``VOX_CONSOLE_SCREENSHOTS`` names it, else a temporary directory)."""
    if not ok(api.get("/trunks"))["data"]:
        ok(api.post("/trunks", json={"name": "Office PBX", "auth_type": "ip"}))
    visit = Visit(browser, demo_server, viewport)
    try:
        page = visit.sign_in()
        e164 = _first_active_number(api)
        # A job for the jobs page (unassigning an unrouted number changes nothing).
        job = api.post("/numbers/bulk", json={"action": "unassign", "numbers": [e164]})
        assert job.status_code == 202, job.text
        out = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
        out.mkdir(parents=True, exist_ok=True)
        size = "desktop" if viewport is DESKTOP else "360"
        shots = {
            "numbers": "/console/numbers?country=US&status=active",
            "number": f"/console/numbers/{quote(e164)}",
            "inventory": "/console/inventory?country=US",
            "trunks": "/console/trunks",
            "jobs": "/console/jobs",
        }
        for name, path in shots.items():
            page.goto(path)
            target = out / f"{name}-{size}.png"
            page.screenshot(path=str(target))
            assert target.stat().st_size > 5_000
        if viewport is PHONE:  # at 360 px the list's rows become cards: show them too
            page.goto(shots["numbers"])
            page.evaluate("document.querySelector('#results').scrollIntoView()")
            page.screenshot(path=str(out / "numbers-list-360.png"))
        page.goto("/console/sign-in")
        assert visit.foreign_requests() == []
    finally:
        visit.context.close()
