"""Inventory, trunks (with credentials and IP ACL), applications, webhooks and events.

Each test runs with ``Client`` and with ``AsyncClient`` (the ``api`` fixture).
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from fake_api import FakeTryVox

from conftest import last_request, raw_target
from voxnumbers_client import (
    Application,
    AvailableNumber,
    Event,
    IpAclEntry,
    Trunk,
    TrunkCredential,
    WebhookEndpoint,
)

ACCOUNT = "/v1/account/acc_123abc"


def test_inventory_search(api: Any, fake: FakeTryVox) -> None:
    page = api.inventory.search(country="US", type="toll_free", capability="voice")

    assert raw_target(last_request(fake)) == (
        f"{ACCOUNT}/inventory/numbers?country=US&type=toll_free&capability=voice"
    )
    assert [n.e164 for n in page.data] == [f"+180055530{i}" for i in range(25, 30)]
    first = page.data[0]
    assert isinstance(first, AvailableNumber)
    assert (first.monthly_fee, first.currency, first.capabilities) == (
        Decimal("2"),
        "USD",
        ("voice", "sms"),
    )


def test_trunk_lifecycle(api: Any, fake: FakeTryVox) -> None:
    trunk = api.trunks.create(
        "Edge", "ip", termination_uri="sip:edge.example.com", origination_uris=["sip:a.example"]
    )
    request = last_request(fake)
    assert (request.method, raw_target(request)) == ("POST", f"{ACCOUNT}/trunks")
    assert json.loads(request.content) == {
        "name": "Edge",
        "auth_type": "ip",
        "termination_uri": "sip:edge.example.com",
        "origination_uris": ["sip:a.example"],
    }
    assert isinstance(trunk, Trunk)
    assert (trunk.max_channels, trunk.origination_uris) == (0, ("sip:a.example",))
    assert isinstance(trunk.created_at, datetime)

    assert api.trunks.get(trunk.id) == trunk
    assert raw_target(last_request(fake)) == f"{ACCOUNT}/trunks/{trunk.id}"

    listed = api.trunks.list(per_page=1, page=2)
    assert raw_target(last_request(fake)) == f"{ACCOUNT}/trunks?per_page=1&page=2"
    assert [t.id for t in listed.data] == [trunk.id]

    replaced = api.trunks.replace(trunk.id, "Edge 2", "credential", max_channels=10)
    request = last_request(fake)
    assert request.method == "PUT"
    assert json.loads(request.content) == {
        "name": "Edge 2",
        "auth_type": "credential",
        "max_channels": 10,
    }
    assert "Idempotency-Key" not in request.headers
    assert (replaced.name, replaced.auth_type, replaced.max_channels) == (
        "Edge 2",
        "credential",
        10,
    )

    deleted = api.trunks.delete(trunk.id)
    request = last_request(fake)
    assert (request.method, raw_target(request)) == ("DELETE", f"{ACCOUNT}/trunks/{trunk.id}")
    assert deleted.id == trunk.id
    assert trunk.id not in fake.trunks


def test_trunk_delete_with_force_unassigns_numbers(api: Any, fake: FakeTryVox) -> None:
    api.trunks.delete("trunk_abc123", force=True)

    assert raw_target(last_request(fake)) == f"{ACCOUNT}/trunks/trunk_abc123?force=true"
    assert fake.numbers["+14155551234"]["trunk_id"] is None


def test_trunk_credentials(api: Any, fake: FakeTryVox) -> None:
    credential = api.trunks.credentials.create("trunk_abc123", "alice", "correct-horse-battery")

    request = last_request(fake)
    assert raw_target(request) == f"{ACCOUNT}/trunks/trunk_abc123/credentials"
    assert json.loads(request.content) == {"username": "alice", "password": "correct-horse-battery"}
    assert isinstance(credential, TrunkCredential)
    assert credential.username == "alice"

    listed = api.trunks.credentials.list("trunk_abc123")
    assert [c.id for c in listed.data] == [credential.id]

    removed = api.trunks.credentials.delete("trunk_abc123", credential.id)
    request = last_request(fake)
    assert (request.method, raw_target(request)) == (
        "DELETE",
        f"{ACCOUNT}/trunks/trunk_abc123/credentials/{credential.id}",
    )
    assert removed == credential


def test_trunk_ip_acl(api: Any, fake: FakeTryVox) -> None:
    entry = api.trunks.ip_acl.create("trunk_abc123", "203.0.113.7", mask=24, description="office")

    request = last_request(fake)
    assert raw_target(request) == f"{ACCOUNT}/trunks/trunk_abc123/ip-acl"
    assert json.loads(request.content) == {"ip": "203.0.113.7", "mask": 24, "description": "office"}
    assert isinstance(entry, IpAclEntry)
    assert (entry.cidr, entry.mask) == ("203.0.113.0/24", 24)

    default_mask = api.trunks.ip_acl.create("trunk_abc123", "2001:db8::1")
    assert json.loads(last_request(fake).content) == {"ip": "2001:db8::1"}
    assert default_mask.mask == 128

    listed = api.trunks.ip_acl.list("trunk_abc123")
    assert [e.id for e in listed.data] == [entry.id, default_mask.id]

    api.trunks.ip_acl.delete("trunk_abc123", entry.id)
    assert raw_target(last_request(fake)) == f"{ACCOUNT}/trunks/trunk_abc123/ip-acl/{entry.id}"


def test_application_lifecycle(api: Any, fake: FakeTryVox) -> None:
    app = api.applications.create(
        "Support line", answer_url="https://example.com/answer", webhook_secret="s3cret"
    )
    request = last_request(fake)
    assert (request.method, raw_target(request)) == ("POST", f"{ACCOUNT}/applications")
    assert json.loads(request.content) == {
        "name": "Support line",
        "answer_url": "https://example.com/answer",
        "webhook_secret": "s3cret",
    }
    assert isinstance(app, Application)
    assert not hasattr(app, "webhook_secret")

    assert api.applications.get(app.id).name == "Support line"
    assert [a.id for a in api.applications.list().data] == ["app_xyz789", app.id]

    updated = api.applications.update(app.id, hangup_url="https://example.com/bye", answer_url=None)
    request = last_request(fake)
    assert (request.method, raw_target(request)) == ("PATCH", f"{ACCOUNT}/applications/{app.id}")
    assert json.loads(request.content) == {
        "hangup_url": "https://example.com/bye",
        "answer_url": None,
    }
    assert (updated.hangup_url, updated.answer_url) == ("https://example.com/bye", None)

    api.applications.delete("app_xyz789", force=True)
    assert raw_target(last_request(fake)) == f"{ACCOUNT}/applications/app_xyz789?force=true"
    assert fake.numbers["+919876543210"]["application_id"] is None


def test_webhooks(api: Any, fake: FakeTryVox) -> None:
    hook = api.webhooks.create("https://example.com/hooks", event_types=["number.released"])

    request = last_request(fake)
    assert (request.method, raw_target(request)) == ("POST", f"{ACCOUNT}/webhooks")
    assert json.loads(request.content) == {
        "url": "https://example.com/hooks",
        "event_types": ["number.released"],
    }
    assert isinstance(hook, WebhookEndpoint)
    assert hook.secret and hook.event_types == ("number.released",)

    listed = api.webhooks.list()
    assert [h.id for h in listed.data] == [hook.id]
    assert listed.data[0].secret is None

    fetched = api.webhooks.get(hook.id)
    assert raw_target(last_request(fake)) == f"{ACCOUNT}/webhooks/{hook.id}"
    assert (fetched.url, fetched.status, fetched.secret) == (hook.url, "active", None)

    api.webhooks.delete(hook.id)
    assert (last_request(fake).method, raw_target(last_request(fake))) == (
        "DELETE",
        f"{ACCOUNT}/webhooks/{hook.id}",
    )


def test_events(api: Any, fake: FakeTryVox) -> None:
    api.numbers.purchase("+16465553002", "US")
    api.numbers.release("+14155551234")

    page = api.events.list(type="number.released", e164="+14155551234")

    assert raw_target(last_request(fake)) == (
        f"{ACCOUNT}/events?type=number.released&e164=%2B14155551234"
    )
    (event,) = page.data
    assert isinstance(event, Event)
    assert (event.type, event.e164) == ("number.released", "+14155551234")
    assert event.data["number"]["status"] == "released"
    assert event.data["number"]["monthly_fee"] == Decimal("1.25")
    assert event.data["early_termination_fee"] == Decimal("25.00")
