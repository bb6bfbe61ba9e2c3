"""``client.numbers``: each method sends the right request and returns typed results.

Every test runs twice through the ``api`` fixture: once with ``Client``, once with
``AsyncClient``.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fake_api import FakeTryVox

from conftest import last_request, raw_target
from voxnumbers_client import Number, NumberRelease, NumberRouting, ReleasePreview

BASE = "/v1/account/acc_123abc/numbers"


def test_list_sends_the_seed_query_and_parses_the_page(api: Any, fake: FakeTryVox) -> None:
    page = api.numbers.list(country="US", per_page=50)

    request = last_request(fake)
    assert request.method == "GET"
    # Without a page number the first page is asked for by cursor, so walks are consistent.
    assert raw_target(request) == f"{BASE}?country=US&per_page=50&cursor="
    assert all(isinstance(n, Number) for n in page.data)
    assert page.pagination.total == 46
    assert page.pagination.count == len(page.data) == 46
    assert (page.pagination.per_page, page.pagination.current_page) == (50, 1)
    assert page.pagination.total_pages == 1
    assert page.pagination.next_cursor is None


def test_list_by_page_number_sends_the_seed_query(api: Any, fake: FakeTryVox) -> None:
    api.numbers.list(country="US", page=1, per_page=50)
    assert raw_target(last_request(fake)) == f"{BASE}?country=US&page=1&per_page=50"


def test_list_encodes_extension_filters(api: Any, fake: FakeTryVox) -> None:
    api.numbers.list(
        capability=["voice", "mms"],
        routed=False,
        created_after=datetime(2025, 2, 1, tzinfo=UTC),
        sort="-e164",
    )

    assert raw_target(last_request(fake)) == (
        f"{BASE}?capability=voice&capability=mms&routed=false"
        "&created_after=2025-02-01T00%3A00%3A00Z&sort=-e164&cursor="
    )


def test_list_refuses_unknown_keywords_before_sending(api: Any, fake: FakeTryVox) -> None:
    with pytest.raises(TypeError, match="per_pag"):
        api.numbers.list(per_pag=5)
    assert fake.requests == []


def test_get_url_encodes_the_plus_and_parses_every_field(api: Any, fake: FakeTryVox) -> None:
    number = api.numbers.get("+14155551234")

    assert raw_target(last_request(fake)) == f"{BASE}/%2B14155551234"
    assert number == Number(
        e164="+14155551234",
        country="US",
        type="local",
        region="CA",
        status="active",
        capabilities=("voice", "sms", "mms"),
        monthly_fee=Decimal("1.25"),
        setup_fee=Decimal("0"),
        currency="USD",
        trunk_id="trunk_abc123",
        application_id=None,
        created_at=datetime(2026, 3, 15, 8, 20, tzinfo=UTC),
        updated_at=datetime(2026, 3, 15, 8, 20, tzinfo=UTC),
    )


def test_purchase_posts_the_body_with_an_idempotency_key(api: Any, fake: FakeTryVox) -> None:
    number = api.numbers.purchase("+16465553000", country="US")

    request = last_request(fake)
    assert (request.method, raw_target(request)) == ("POST", f"{BASE}/purchase-from-inventory")
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {"e164": "+16465553000", "country": "US"}
    assert uuid.UUID(request.headers["Idempotency-Key"]).version == 4
    assert (number.e164, number.status, number.setup_fee) == (
        "+16465553000",
        "active",
        Decimal("0.5"),
    )
    assert "+16465553000" not in fake.inventory


def test_purchase_uses_the_callers_idempotency_key(api: Any, fake: FakeTryVox) -> None:
    api.numbers.purchase("+16465553001", "US", idempotency_key="order-42")
    assert last_request(fake).headers["Idempotency-Key"] == "order-42"


def test_assign_and_unassign_a_trunk(api: Any, fake: FakeTryVox) -> None:
    routed = api.numbers.assign_trunk("+919876543210", "trunk_abc123")

    request = last_request(fake)
    assert (request.method, raw_target(request)) == ("POST", f"{BASE}/%2B919876543210/assign")
    assert json.loads(request.content) == {"trunk_id": "trunk_abc123"}
    assert isinstance(routed, NumberRouting)
    assert (routed.trunk_id, routed.application_id) == ("trunk_abc123", None)

    cleared = api.numbers.unassign_trunk("+919876543210")

    request = last_request(fake)
    assert (request.method, raw_target(request)) == ("DELETE", f"{BASE}/%2B919876543210/assign")
    assert request.content == b""
    assert "Idempotency-Key" in request.headers
    assert cleared.trunk_id is None


def test_assign_and_unassign_an_application(api: Any, fake: FakeTryVox) -> None:
    routed = api.numbers.assign_application("+14155551234", "app_xyz789")

    request = last_request(fake)
    assert raw_target(request) == f"{BASE}/%2B14155551234/application"
    assert json.loads(request.content) == {"application_id": "app_xyz789"}
    assert (routed.trunk_id, routed.application_id) == (None, "app_xyz789")

    cleared = api.numbers.unassign_application("+14155551234")

    assert last_request(fake).method == "DELETE"
    assert raw_target(last_request(fake)) == f"{BASE}/%2B14155551234/application"
    assert (cleared.trunk_id, cleared.application_id) == (None, None)


def test_release_preview(api: Any, fake: FakeTryVox) -> None:
    preview = api.numbers.release_preview("+14155551234")

    assert raw_target(last_request(fake)) == f"{BASE}/%2B14155551234/release-preview"
    assert isinstance(preview, ReleasePreview)
    assert preview.can_release is True
    assert preview.early_termination_fee == Decimal("25.00")
    assert preview.cooling_off_period_days == 30
    assert len(preview.warnings) == 2


def test_release_then_cancel_release(api: Any, fake: FakeTryVox) -> None:
    released = api.numbers.release("+14155551234")

    request = last_request(fake)
    assert (request.method, raw_target(request)) == ("DELETE", f"{BASE}/%2B14155551234")
    assert isinstance(released, NumberRelease)
    assert released.status == "released"
    assert released.available_after == datetime(2026, 5, 31, 12, tzinfo=UTC)

    restored = api.numbers.cancel_release("+14155551234")

    request = last_request(fake)
    assert (request.method, raw_target(request)) == (
        "POST",
        f"{BASE}/%2B14155551234/cancel-release",
    )
    assert (restored.status, restored.trunk_id) == ("active", "trunk_abc123")
