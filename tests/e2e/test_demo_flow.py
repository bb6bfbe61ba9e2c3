"""The demo, walked over real HTTP against a real ``vox serve``: what ``./dev serve`` gives a
developer, from the first list to a cancelled release, and the same again after a restart."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.api.support import (
    AVAILABLE_KEYS,
    NUMBER_KEYS,
    TIME,
    assert_error,
    assert_page_shape,
)
from tests.e2e.conftest import VoxServer

pytestmark = pytest.mark.e2e

STATUSES = ("active", "pending", "suspended", "released")
ROUTE_KEYS = ["e164", "trunk_id", "application_id", "status", "updated_at"]
TWO_DECIMALS = re.compile(r'"(?:monthly_fee|setup_fee|early_termination_fee)":(-?\d+(?:\.\d*)?)')


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-request-id"]
    return response.json()


def totals(api: httpx.Client) -> dict[str, int]:
    """How many numbers the demo account has in each status (and listed by default)."""
    counts = {"default": ok(api.get("/numbers", params={"per_page": 1}))["pagination"]["total"]}
    for status in STATUSES:
        page = ok(api.get("/numbers", params={"status": status, "per_page": 1}))
        counts[status] = page["pagination"]["total"]
    return counts


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_banner_tells_how_to_use_the_demo(demo_server: VoxServer) -> None:
    demo = demo_server.demo
    text = " ".join(demo.text.split())  # the console wraps long lines
    assert "Demo data created" in text
    assert f"account {demo.account_id}" in text
    assert f"API key {demo.key}" in text
    # One line to paste for the README's examples and the vox commands.
    assert demo.exports == {
        "VOX_ACCOUNT_ID": demo.account_id,
        "VOX_API_KEY": demo.key,
        "VOX_BASE_URL": demo_server.base_url,
    }
    assert re.fullmatch(r"acc_[0-9a-z]+", demo.account_id)
    assert re.fullmatch(r"tvx_sk_test_[0-9A-Za-z]+", demo.key)
    assert (demo_server.workdir / "var" / "demo.json").stat().st_mode & 0o077 == 0


def test_the_demo_account_owns_numbers_in_every_status(
    demo_server: VoxServer, api: httpx.Client
) -> None:
    counts = totals(api)
    assert all(counts[status] >= 1 for status in STATUSES), counts
    # Released numbers (cooling off) are listed only when asked for.
    assert counts["default"] == counts["active"] + counts["pending"] + counts["suspended"]
    owned = re.search(r"owns (\d+) numbers", " ".join(demo_server.demo.text.split()))
    assert owned and int(owned.group(1)) == sum(counts[status] for status in STATUSES)
    for status in STATUSES:
        page = ok(api.get("/numbers", params={"status": status, "per_page": 100}))
        assert {number["status"] for number in page["data"]} == {status}
    listed = ok(api.get("/numbers", params={"per_page": 100}))["data"]
    assert "released" not in {number["status"] for number in listed}


def test_the_list_has_the_seed_shape_key_for_key(api: httpx.Client) -> None:
    response = api.get("/numbers")
    body = ok(response)
    assert_page_shape(body, NUMBER_KEYS)
    pagination = body["pagination"]
    assert pagination["per_page"] == 20 and pagination["current_page"] == 1
    assert pagination["count"] == len(body["data"]) == min(pagination["total"], 20)
    assert pagination["total_pages"] == math.ceil(pagination["total"] / 20)
    for number in body["data"]:
        assert number["e164"].startswith("+") and number["currency"] == "USD"
        assert number["type"] in {"local", "toll_free", "mobile"}
        assert number["capabilities"] == [
            c for c in ("voice", "sms", "mms") if c in number["capabilities"]
        ]
        assert TIME.match(number["created_at"]) and TIME.match(number["updated_at"])
    # Money is written with two decimals (1.15, 0.00), as in the seed.
    fees = TWO_DECIMALS.findall(response.text)
    assert fees and all(re.fullmatch(r"\d+\.\d\d", fee) for fee in fees), fees
    # Default order: oldest purchase first.
    created = [(at(n["created_at"]), n["e164"]) for n in body["data"]]
    assert created == sorted(created)


def test_the_inventory_search_filters(api: httpx.Client) -> None:
    params = httpx.QueryParams(
        [("country", "US"), ("type", "local"), ("capability", "voice"), ("capability", "sms")]
    )
    body = ok(api.get("/inventory/numbers", params=params.set("per_page", "3")))
    assert_page_shape(body, AVAILABLE_KEYS)
    assert body["pagination"]["count"] == 3 < body["pagination"]["total"]
    for number in body["data"]:
        assert (number["country"], number["type"]) == ("US", "local")
        assert {"voice", "sms"} <= set(number["capabilities"])
    e164s = [number["e164"] for number in body["data"]]
    assert e164s == sorted(e164s)


def test_a_number_from_purchase_to_cancelled_release(api: httpx.Client) -> None:
    """Buy, read, route to a trunk then an application, release, cancel: every step as the
    user sees it, and the events that recorded it."""
    offer = ok(api.get("/inventory/numbers", params={"country": "US", "per_page": 1}))["data"][0]
    e164 = offer["e164"]

    bought = ok(
        api.post("/numbers/purchase-from-inventory", json={"e164": e164, "country": "US"}), 201
    )
    assert list(bought) == NUMBER_KEYS
    assert (bought["e164"], bought["status"]) == (e164, "active")
    assert (bought["trunk_id"], bought["application_id"]) == (None, None)
    gone = ok(api.get("/inventory/numbers", params={"contains": e164[1:]}))
    assert gone["pagination"]["total"] == 0
    assert_error(
        api.post("/numbers/purchase-from-inventory", json={"e164": e164, "country": "US"}), 409
    )

    spellings = [e164, quote(e164, safe=""), e164.lstrip("+")]
    assert spellings[1].startswith("%2B")
    for spelling in spellings:
        assert ok(api.get(f"/numbers/{spelling}")) == bought, spelling

    trunk = ok(
        api.post(
            "/trunks",
            json={"name": "edge", "auth_type": "ip", "termination_uri": "sip:pbx.example.com"},
        ),
        201,
    )
    assert trunk["id"].startswith("trunk_")
    routed = ok(api.post(f"/numbers/{e164}/assign", json={"trunk_id": trunk["id"]}))
    assert list(routed) == ROUTE_KEYS
    assert (routed["trunk_id"], routed["application_id"]) == (trunk["id"], None)
    on_trunk = ok(api.get("/numbers", params={"trunk_id": trunk["id"]}))["data"]
    assert [number["e164"] for number in on_trunk] == [e164]

    app = ok(
        api.post("/applications", json={"name": "ivr", "answer_url": "https://example.com/a"}),
        201,
    )
    assert app["id"].startswith("app_")
    routed = ok(api.post(f"/numbers/{e164}/application", json={"application_id": app["id"]}))
    assert (routed["trunk_id"], routed["application_id"]) == (None, app["id"])

    preview = ok(api.get(f"/numbers/{e164}/release-preview"))
    assert preview["can_release"] is True
    assert (preview["early_termination_fee"], preview["currency"]) == (25.0, "USD")
    assert preview["cooling_off_period_days"] == 30 and preview["warnings"]

    released = ok(api.delete(f"/numbers/{e164}"))
    assert (released["e164"], released["status"]) == (e164, "released")
    assert released["early_termination_fee"] == 25.0
    assert at(released["available_after"]) - at(released["released_at"]) == timedelta(days=30)
    assert ok(api.get(f"/numbers/{e164}"))["status"] == "released"
    listed = ok(api.get("/numbers", params={"per_page": 100}))["data"]
    assert e164 not in {number["e164"] for number in listed}
    cooling = ok(api.get("/numbers", params={"status": "released"}))["data"]
    assert e164 in {number["e164"] for number in cooling}
    assert_error(api.post(f"/numbers/{e164}/assign", json={"trunk_id": trunk["id"]}), 409)

    back = ok(api.post(f"/numbers/{e164}/cancel-release"))
    assert list(back) == NUMBER_KEYS
    assert back["status"] == "active"
    assert back["application_id"] == app["id"], "the routing before the release is restored"

    events = ok(api.get("/events", params={"e164": e164}))
    assert [event["type"] for event in events["data"]] == [
        "number.release_cancelled",
        "number.released",
        "number.routing_changed",
        "number.routing_changed",
        "number.purchased",
    ]
    assert all(event["e164"] == e164 for event in events["data"])


def test_errors_answer_the_envelope_with_the_request_id(
    demo_server: VoxServer, api: httpx.Client
) -> None:
    error = assert_error(api.get("/numbers", params={"per_page": 500}), 400, "per_page")
    assert error["request_id"].startswith("req_")
    assert_error(api.get("/numbers", params={"status": "lost"}), 400, "status")
    assert_error(api.get("/numbers/+14155550123"), 404)  # valid, but not the account's
    assert_error(api.get("/numbers/555"), 400, "e164")
    assert_error(api.get("/no-such-route"), 404)
    assert_error(httpx.get(f"{demo_server.account_url}/numbers"), 401)
    assert_error(httpx.get(f"{demo_server.base_url}/v1/account/acc_other/numbers",
                           headers=api.headers), 403)  # fmt: skip
    supplied = api.get("/numbers", params={"per_page": 0}, headers={"X-Request-ID": "req-e2e-1"})
    assert assert_error(supplied, 400)["request_id"] == supplied.headers["x-request-id"]


def test_http_basic_auth_works(demo_server: VoxServer, api: httpx.Client) -> None:
    url = f"{demo_server.account_url}/numbers"
    basic = ok(httpx.get(url, auth=(demo_server.account_id, demo_server.key)))
    assert basic == ok(api.get("/numbers"))
    assert_error(httpx.get(url, auth=(demo_server.account_id, demo_server.key + "x")), 401)


def test_a_restart_prints_the_same_key_and_duplicates_nothing(
    demo_server: VoxServer, api: httpx.Client
) -> None:
    before = inventory_and_numbers(api)
    first = demo_server.demo
    # Restarted from the shell where the banner's export line was pasted.
    demo_server.env.update(first.exports)

    again = demo_server.restart()

    assert "Demo account ready" in again.text and "Demo data created" not in again.text
    assert (again.account_id, again.key, again.exports) == (
        first.account_id,
        first.key,
        first.exports,
    )
    assert inventory_and_numbers(api) == before  # the same key still works, nothing doubled
    accounts = demo_server.vox("admin", "accounts", "list").stdout
    assert accounts.count("Demo account") == 1 and accounts.count("acc_") == 1, accounts


def inventory_and_numbers(api: httpx.Client) -> dict[str, int]:
    """Everything the demo made, counted."""
    counts = totals(api)
    for path in ("/inventory/numbers", "/events", "/trunks", "/applications"):
        counts[path] = ok(api.get(path, params={"per_page": 1}))["pagination"]["total"]
    return counts
