"""``client.trunks`` (with credentials and IP ACL), ``client.applications``,
``client.webhooks`` and ``client.events`` against the real server, sync and async."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.client.support import Vox, assert_matches_wire
from tests.factories import US_NUMBERS, entry, stock
from voxnumbers.db.engine import Database
from voxnumbers_client import (
    Application,
    ConflictError,
    Event,
    IpAclEntry,
    NotFoundError,
    PreconditionFailedError,
    Trunk,
    TrunkCredential,
    WebhookEndpoint,
)

NUMBER = US_NUMBERS[0]


def answered(vox: Vox, status: int) -> Any:
    assert vox.wire.last.response.status_code == status, vox.wire.last.response.text
    return vox.wire.last.json()


async def assert_page_matches_wire(vox: Vox, page: Any) -> None:
    body = answered(vox, 200)
    assert len(page.data) == len(body["data"])
    for item, raw in zip(page.data, body["data"], strict=True):
        assert_matches_wire(item, raw)
    assert_matches_wire(page.pagination, body["pagination"])


async def bought(vox: Vox, database: Database, e164: str = NUMBER) -> None:
    await stock(database, entry(e164))
    await vox(vox.client.numbers.purchase(e164, "US"))


async def test_trunks(vox: Vox, database: Database) -> None:
    trunks = vox.client.trunks
    created = await vox(
        trunks.create(
            "Main PBX",
            "credential",
            termination_uri="sip:pbx.example.com",
            origination_uris=["sip:a.example.com", "sip:b.example.com"],
            max_channels=30,
        )
    )
    assert isinstance(created, Trunk)
    assert_matches_wire(created, answered(vox, 201))
    assert created.origination_uris == ("sip:a.example.com", "sip:b.example.com")
    assert created.sip_domain.startswith("trunk-" + created.id.removeprefix("trunk_") + ".sip.")

    assert await vox(trunks.get(created.id)) == created
    assert_matches_wire(created, answered(vox, 200))
    page = await vox(trunks.list())
    await assert_page_matches_wire(vox, page)
    assert [t.id for t in page.data] == [created.id]

    replaced = await vox(trunks.replace(created.id, "Backup PBX", "ip"))
    assert_matches_wire(replaced, answered(vox, 200))
    assert (replaced.name, replaced.auth_type) == ("Backup PBX", "ip")
    assert (replaced.termination_uri, replaced.origination_uris, replaced.max_channels) == (
        None,
        (),
        0,
    )

    await bought(vox, database)
    await vox(vox.client.numbers.assign_trunk(NUMBER, created.id))
    with pytest.raises(ConflictError):
        await vox(trunks.delete(created.id))
    deleted = await vox(trunks.delete(created.id, force=True))
    assert_matches_wire(deleted, answered(vox, 200))
    assert deleted.id == created.id and deleted.status == "deleted"
    assert (await vox(vox.client.numbers.get(NUMBER))).trunk_id is None
    with pytest.raises(NotFoundError):
        await vox(trunks.get(created.id))


async def test_trunk_credentials_and_ip_acl(vox: Vox) -> None:
    trunks = vox.client.trunks
    trunk = await vox(trunks.create("PBX", "credential"))

    credential = await vox(trunks.credentials.create(trunk.id, "alice", "correct-horse-battery"))
    assert isinstance(credential, TrunkCredential)
    assert_matches_wire(credential, answered(vox, 201))
    assert "correct-horse-battery" not in vox.wire.last.response.text
    assert (credential.trunk_id, credential.username) == (trunk.id, "alice")
    listed = await vox(trunks.credentials.list(trunk.id))
    await assert_page_matches_wire(vox, listed)
    assert listed.data == [credential]
    removed = await vox(trunks.credentials.delete(trunk.id, credential.id))
    assert_matches_wire(removed, answered(vox, 200))
    assert removed.id == credential.id
    assert (await vox(trunks.credentials.list(trunk.id))).pagination.total == 0

    acl = await vox(trunks.ip_acl.create(trunk.id, "203.0.113.7", mask=24, description="office"))
    assert isinstance(acl, IpAclEntry)
    assert_matches_wire(acl, answered(vox, 201))
    assert (acl.ip, acl.mask, acl.cidr, acl.description) == (
        "203.0.113.7",
        24,
        "203.0.113.0/24",
        "office",
    )
    v6 = await vox(trunks.ip_acl.create(trunk.id, "2001:db8::1"))
    assert (v6.mask, v6.cidr) == (128, "2001:db8::1/128")
    listed_acl = await vox(trunks.ip_acl.list(trunk.id, per_page=1))
    await assert_page_matches_wire(vox, listed_acl)
    assert {a.id for a in await vox.items(trunks.ip_acl.list(trunk.id, per_page=1))} == {
        acl.id,
        v6.id,
    }
    gone = await vox(trunks.ip_acl.delete(trunk.id, acl.id))
    assert_matches_wire(gone, answered(vox, 200))
    assert [a.id for a in (await vox(trunks.ip_acl.list(trunk.id))).data] == [v6.id]


async def test_applications(vox: Vox, database: Database) -> None:
    applications = vox.client.applications
    created = await vox(
        applications.create(
            "IVR",
            answer_url="https://example.com/answer",
            answer_method="GET",
            fallback_url="https://example.com/fallback",
            webhook_secret="s3cret-value",
        )
    )
    assert isinstance(created, Application)
    assert_matches_wire(created, answered(vox, 201))
    assert "s3cret-value" not in vox.wire.last.response.text
    assert (created.answer_method, created.hangup_method) == ("GET", "POST")
    assert created.has_webhook_secret is True

    assert await vox(applications.get(created.id)) == created
    page = await vox(applications.list())
    await assert_page_matches_wire(vox, page)
    assert page.data == [created]

    updated = await vox(applications.update(created.id, name="IVR 2", fallback_url=None))
    assert_matches_wire(updated, answered(vox, 200))
    assert (updated.name, updated.fallback_url) == ("IVR 2", None)
    assert updated.answer_url == "https://example.com/answer"

    await bought(vox, database)
    await vox(vox.client.numbers.assign_application(NUMBER, created.id))
    with pytest.raises(ConflictError):
        await vox(applications.delete(created.id))
    deleted = await vox(applications.delete(created.id, force=True))
    assert_matches_wire(deleted, answered(vox, 200))
    assert deleted.id == created.id
    assert (await vox(vox.client.numbers.get(NUMBER))).application_id is None
    with pytest.raises(NotFoundError):
        await vox(applications.get(created.id))


async def test_webhooks(vox: Vox) -> None:
    webhooks = vox.client.webhooks
    created = await vox(webhooks.create("https://example.com/vox", event_types=["number.released"]))
    assert isinstance(created, WebhookEndpoint)
    assert_matches_wire(created, answered(vox, 201))
    assert created.secret and created.event_types == ("number.released",)
    assert created.status == "active"

    fetched = await vox(webhooks.get(created.id))
    assert_matches_wire(fetched, answered(vox, 200))
    assert fetched.secret is None
    assert fetched.url == created.url and fetched.created_at == created.created_at
    every = await vox(webhooks.create("https://example.com/all"))
    assert every.event_types == ()
    page = await vox(webhooks.list())
    await assert_page_matches_wire(vox, page)
    assert {w.id for w in page.data} == {created.id, every.id}  # same second: order by id

    deleted = await vox(webhooks.delete(created.id))
    assert_matches_wire(deleted, answered(vox, 200))
    assert (deleted.id, deleted.status) == (created.id, "deleted")
    with pytest.raises(NotFoundError):
        await vox(webhooks.get(created.id))


async def test_events(vox: Vox, database: Database) -> None:
    await stock(database, entry(US_NUMBERS[1]))
    await bought(vox, database)
    await vox(vox.client.numbers.purchase(US_NUMBERS[1], "US"))
    trunk = await vox(vox.client.trunks.create("PBX", "ip"))
    await vox(vox.client.numbers.assign_trunk(NUMBER, trunk.id))
    await vox(vox.client.numbers.release(NUMBER))

    page = await vox(vox.client.events.list())
    await assert_page_matches_wire(vox, page)
    assert all(isinstance(e, Event) for e in page.data)
    assert [(e.type, e.e164) for e in page.data] == [  # newest first
        ("number.released", NUMBER),
        ("number.routing_changed", NUMBER),
        ("number.purchased", US_NUMBERS[1]),
        ("number.purchased", NUMBER),
    ]
    assert page.data[-1].data["number"]["e164"] == NUMBER
    assert page.data[0].data["number"]["status"] == "released"
    assert page.data[0].data["early_termination_fee"] == 25

    purchases = await vox.items(vox.client.events.list(type="number.purchased", per_page=1))
    assert [e.e164 for e in purchases] == [US_NUMBERS[1], NUMBER]
    of_number = await vox(vox.client.events.list(e164=US_NUMBERS[1]))
    assert [e.type for e in of_number.data] == ["number.purchased"]


async def test_trunk_update_changes_only_the_given_fields(vox: Vox) -> None:
    trunks = vox.client.trunks
    created = await vox(
        trunks.create(
            "PBX",
            "ip",
            termination_uri="sip:pbx.example.com",
            origination_uris=["sip:a.example.com"],
        )
    )
    await vox(trunks.get(created.id))
    etag = vox.client.last_response.etag
    updated = await vox(trunks.update(created.id, max_channels=12))
    get, put = vox.wire.exchanges[-2:]
    assert (get.request.method, put.request.method) == ("GET", "PUT")
    assert put.request.headers["if-match"] == get.response.headers["etag"] == etag
    assert json.loads(put.request.content) == {
        "name": "PBX",
        "auth_type": "ip",
        "termination_uri": "sip:pbx.example.com",
        "origination_uris": ["sip:a.example.com"],
        "max_channels": 12,
    }
    assert_matches_wire(updated, answered(vox, 200))
    assert (updated.max_channels, updated.termination_uri) == (12, "sip:pbx.example.com")
    assert updated.origination_uris == ("sip:a.example.com",)
    cleared = await vox(trunks.update(created.id, termination_uri=None, name="PBX 2"))
    assert (cleared.name, cleared.termination_uri, cleared.max_channels) == ("PBX 2", None, 12)


async def test_a_stale_if_match_is_refused(vox: Vox) -> None:
    trunks = vox.client.trunks
    created = await vox(trunks.create("PBX", "ip"))
    await vox(trunks.get(created.id))
    stale = vox.client.last_response.etag
    assert stale
    await vox(trunks.update(created.id, max_channels=5))
    with pytest.raises(PreconditionFailedError) as refused:
        await vox(trunks.replace(created.id, "Other", "ip", if_match=stale))
    assert refused.value.status == 412
    assert vox.wire.last.request.headers["if-match"] == stale
    assert (await vox(trunks.get(created.id))).name == "PBX"


class ChangesFirstPut:
    """A transport that, before the first PUT it carries, sends a PUT of its own to the same
    trunk: someone else's change landing between ``update``'s read and its write."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.interfered = False

    def _other(self, request: httpx.Request) -> httpx.Request | None:
        if request.method != "PUT" or self.interfered:
            return None
        self.interfered = True
        body = {**json.loads(request.content), "name": "Changed meanwhile", "max_channels": 7}
        headers = {"Authorization": request.headers["authorization"]}
        return httpx.Request("PUT", request.url, json=body, headers=headers)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if (other := self._other(request)) is not None:
            assert self.inner.handle_request(other).status_code == 200
        return self.inner.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if (other := self._other(request)) is not None:
            response = await self.inner.handle_async_request(other)
            assert response.status_code == 200
        return await self.inner.handle_async_request(request)


async def test_update_reads_again_when_the_trunk_changed_meanwhile(vox: Vox) -> None:
    created = await vox(vox.client.trunks.create("PBX", "ip"))
    vox.wire.inner = ChangesFirstPut(vox.wire.inner)
    updated = await vox(vox.client.trunks.update(created.id, termination_uri="sip:x.example.com"))
    methods = [(x.request.method, x.response.status_code) for x in vox.wire.exchanges[-4:]]
    assert methods == [("GET", 200), ("PUT", 412), ("GET", 200), ("PUT", 200)]
    # Neither change is lost: the other one's name and channels, and this one's URI.
    assert (updated.name, updated.max_channels, updated.termination_uri) == (
        "Changed meanwhile",
        7,
        "sip:x.example.com",
    )


async def test_last_response_describes_each_answer(vox: Vox) -> None:
    assert vox.client.last_response is None
    created = await vox(vox.client.trunks.create("PBX", "ip"))
    raw = vox.client.last_response
    assert raw.status_code == 201
    assert raw.request_id == vox.wire.last.response.headers["x-request-id"]
    assert raw.headers["content-type"].startswith("application/json")
    await vox(vox.client.trunks.get(created.id))
    assert vox.client.last_response.etag == vox.wire.last.response.headers["etag"]
    with pytest.raises(NotFoundError) as missing:
        await vox(vox.client.trunks.get("trunk_doesnotexist"))
    assert vox.client.last_response.status_code == 404
    assert vox.client.last_response.request_id == missing.value.request_id
