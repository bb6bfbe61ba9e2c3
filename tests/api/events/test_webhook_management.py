"""Managing webhook endpoints: ``PATCH`` (url, enabled, event types), ``rotate-secret``
(both signatures for 24 h), the delivery log, ``redeliver`` and ``test``."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.support import assert_error, buy
from tests.factories import US_NUMBERS, entry, make_tenant, stock
from tests.integration.events.receiver import Receiver, always
from voxnumbers.events.delivery import run_once
from voxnumbers.events.signing import verify_signature
from voxnumbers.kit.clock import utc_now
from voxnumbers.settings import Settings
from voxnumbers_client.webhooks import verify_signature as client_verify

URL = "https://hooks.example.com/vox"
DELIVERY_KEYS = [
    "id",
    "event_id",
    "event_type",
    "e164",
    "status",
    "attempts",
    "last_response_status",
    "last_error",
    "next_attempt_at",
    "delivered_at",
    "created_at",
]


@pytest.fixture
def settings() -> Settings:
    return Settings(log_level="warning", run_worker=False, webhook_timeout_seconds=5)


async def create(client, tenant, url=URL, **body):
    r = await client.post(
        tenant.path("/webhooks"), json={"url": url, **body}, headers=tenant.bearer
    )
    assert r.status_code == 201, r.text
    return r.json()


async def purchase(client, database, tenant, e164):
    await stock(database, entry(e164))
    assert (await buy(client, tenant, e164)).status_code == 201


async def test_patch_changes_only_the_fields_given(client, database):
    tenant = await make_tenant(database)
    hook = await create(client, tenant, event_types=["number.purchased"])
    path = tenant.path(f"/webhooks/{hook['id']}")

    r = await client.patch(path, json={"enabled": False}, headers=tenant.bearer)
    assert r.status_code == 200
    assert r.json() == {k: v for k, v in hook.items() if k != "secret"} | {"enabled": False}

    r = await client.patch(
        path,
        json={"url": "https://other.example.com/h", "event_types": ["number.released"]},
        headers=tenant.bearer,
    )
    assert r.json()["url"] == "https://other.example.com/h"
    assert r.json()["event_types"] == ["number.released"]
    assert r.json()["enabled"] is False
    assert (await client.get(path, headers=tenant.bearer)).json() == r.json()

    error = assert_error(
        await client.patch(path, json={"url": "http://example.com/x"}, headers=tenant.bearer),
        400,
        "url",
    )
    assert error["details"] == [
        {
            "field": "url",
            "reason": "must use https (http is allowed only for localhost, 127.0.0.1 and ::1)",
        }
    ]
    assert_error(
        await client.patch(path, json={"event_types": ["nope"]}, headers=tenant.bearer),
        400,
        "event_types",
    )
    assert_error(await client.patch(path, json={"colour": 1}, headers=tenant.bearer), 400)
    other = await make_tenant(database, "Other")
    assert_error(
        await client.patch(
            path.replace(tenant.account_id, other.account_id), json={}, headers=other.bearer
        ),
        404,
    )

    log = await client.get(
        tenant.path("/audit-log"), params={"object_id": hook["id"]}, headers=tenant.bearer
    )
    assert [(e["action"], e["changes"]) for e in log.json()["data"]][:2] == [
        (
            "webhook.updated",
            {
                "url": ["https://hooks.example.com/vox", "https://other.example.com/h"],
                "event_types": [["number.purchased"], ["number.released"]],
            },
        ),
        ("webhook.updated", {"enabled": [True, False]}),
    ]


async def test_a_disabled_endpoint_gets_no_new_deliveries(client, database):
    tenant = await make_tenant(database)
    hook = await create(client, tenant)
    await client.patch(
        tenant.path(f"/webhooks/{hook['id']}"), json={"enabled": False}, headers=tenant.bearer
    )
    await purchase(client, database, tenant, US_NUMBERS[0])
    r = await client.get(tenant.path(f"/webhooks/{hook['id']}/deliveries"), headers=tenant.bearer)
    assert r.json()["data"] == []


async def test_rotation_signs_with_both_secrets_for_24_hours(client, database):
    tenant = await make_tenant(database)
    with Receiver() as receiver:
        hook = await create(client, tenant, url=receiver.url)
        r = await client.post(
            tenant.path(f"/webhooks/{hook['id']}/rotate-secret"), headers=tenant.bearer
        )
        assert r.status_code == 200
        rotated = r.json()
        assert list(rotated) == ["id", "secret", "previous_secret_expires_at"]
        assert rotated["secret"].startswith("whsec_") and rotated["secret"] != hook["secret"]

        await purchase(client, database, tenant, US_NUMBERS[0])
        assert await run_once(database) == 1
        [received] = receiver.snapshot()
        header = received.headers["x-tryvox-signature"]
        parts = header.split(",")
        assert parts[0].startswith("t=") and [p[:3] for p in parts[1:]] == ["v1=", "v1="]
        for secret in (rotated["secret"], hook["secret"]):
            assert verify_signature(received.body, header, secret)
            assert client_verify(received.body, header, secret)
        assert not verify_signature(received.body, header, "whsec_somebody_else")

        # A day later, only the new secret signs.
        await purchase(client, database, tenant, US_NUMBERS[1])
        assert await run_once(database, now=utc_now() + timedelta(hours=24, seconds=1)) == 1
        later = receiver.snapshot()[1].headers["x-tryvox-signature"]
        assert later.count("v1=") == 1
        assert verify_signature(receiver.snapshot()[1].body, later, rotated["secret"])

    log = await client.get(
        tenant.path("/audit-log"), params={"object_id": hook["id"]}, headers=tenant.bearer
    )
    [rotation] = [e for e in log.json()["data"] if e["action"] == "webhook.secret_rotated"]
    assert rotation["changes"]["secret"] == ["[redacted]", "[redacted]"]
    assert rotated["secret"] not in log.text and hook["secret"] not in log.text


async def test_delivery_log_and_redeliver(client, database):
    tenant = await make_tenant(database)
    with Receiver(always(503)) as receiver:
        hook = await create(client, tenant, url=receiver.url)
        await purchase(client, database, tenant, US_NUMBERS[0])
        assert await run_once(database) == 1
        path = tenant.path(f"/webhooks/{hook['id']}/deliveries")

        page = (await client.get(path, headers=tenant.bearer)).json()
        [delivery] = page["data"]
        assert list(delivery) == DELIVERY_KEYS
        assert delivery["id"].startswith("dlv_")
        assert delivery["event_type"] == "number.purchased"
        assert delivery["status"] == "pending"
        assert delivery["attempts"] == 1
        assert delivery["last_response_status"] == 503
        assert delivery["last_error"] == "HTTP 503"
        assert delivery["next_attempt_at"] is not None
        assert page["pagination"]["total"] == 1

        receiver.respond = always(200)
        r = await client.post(f"{path}/{delivery['id']}/redeliver", headers=tenant.bearer)
        assert r.status_code == 200
        assert r.json()["status"] == "pending"
        assert await run_once(database) == 1
        [done] = (await client.get(path, headers=tenant.bearer)).json()["data"]
        assert (done["status"], done["attempts"], done["last_response_status"]) == (
            "delivered",
            2,
            200,
        )
        assert done["next_attempt_at"] is None

        # A delivered one can be sent again too.
        r = await client.post(f"{path}/{delivery['id']}/redeliver", headers=tenant.bearer)
        assert r.json()["status"] == "pending"
        assert await run_once(database) == 1
        assert len(receiver.accepted()) == 2

    assert_error(await client.post(f"{path}/dlv_999999/redeliver", headers=tenant.bearer), 404)
    assert_error(await client.post(f"{path}/nope/redeliver", headers=tenant.bearer), 404)


async def test_test_sends_a_signed_webhook_test_at_once(client, database):
    tenant = await make_tenant(database)
    with Receiver(always(418)) as receiver:
        hook = await create(client, tenant, url=receiver.url)
        r = await client.post(tenant.path(f"/webhooks/{hook['id']}/test"), headers=tenant.bearer)
        assert r.status_code == 200
        assert r.json() == {"delivered": False, "response_status": 418, "error": "HTTP 418"}
        [received] = receiver.snapshot()
        assert received.event["type"] == "webhook.test"
        assert verify_signature(
            received.body, received.headers["x-tryvox-signature"], hook["secret"]
        )
        receiver.respond = always(204)
        r = await client.post(tenant.path(f"/webhooks/{hook['id']}/test"), headers=tenant.bearer)
        assert r.json() == {"delivered": True, "response_status": 204, "error": None}
    # Nothing was queued or recorded for it.
    r = await client.get(tenant.path(f"/webhooks/{hook['id']}/deliveries"), headers=tenant.bearer)
    assert r.json()["data"] == []


async def test_test_of_an_endpoint_that_does_not_answer(client, database):
    tenant = await make_tenant(database)
    with Receiver() as receiver:
        url = receiver.url
    hook = await create(client, tenant, url=url)  # nothing listens there any more
    r = await client.post(tenant.path(f"/webhooks/{hook['id']}/test"), headers=tenant.bearer)
    assert r.status_code == 200
    assert r.json() == {"delivered": False, "response_status": None, "error": "ConnectError"}
