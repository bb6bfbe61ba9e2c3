"""``GET /v1/account/{account_id}/audit-log``: every change through the API is recorded in
its transaction, attributed to the key, with the request id and client address; secrets
never appear; a rolled-back change leaves no entry; filters and cursor paging."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from tests.api.support import assert_error, buy
from tests.factories import add_test_key, entry, make_tenant, stock
from voxnumbers.audit.service import REDACTED
from voxnumbers.db.tables import audit_log
from voxnumbers.trunks import repository as trunks_repository

ENTRY_KEYS = [
    "id",
    "at",
    "account_id",
    "livemode",
    "actor",
    "action",
    "object",
    "request_id",
    "ip",
    "changes",
]
TRUNK = {"name": "Main", "auth_type": "ip"}


async def log_of(client, tenant, **params):
    r = await client.get(tenant.path("/audit-log"), params=params, headers=tenant.bearer)
    assert r.status_code == 200, r.text
    return r.json()


async def all_entries(database):
    async with database.transaction(write=False) as conn:
        return [dict(row._mapping) for row in await conn.execute(select(audit_log))]


async def test_a_change_through_the_api_is_recorded_with_who_what_and_where(client, database):
    tenant = await make_tenant(database)

    r = await client.post(tenant.path("/trunks"), json=TRUNK, headers=tenant.bearer)
    assert r.status_code == 201
    trunk = r.json()

    page = await log_of(client, tenant, object_type="trunk")
    assert list(page) == ["data", "next_cursor"]
    assert page["next_cursor"] is None
    [item] = page["data"]
    assert list(item) == ENTRY_KEYS
    assert item["id"].startswith("aud_")
    assert item["at"].endswith("Z")
    assert item["account_id"] == tenant.account_id
    assert item["livemode"] is True
    assert item["actor"] == {"type": "key", "id": tenant.key_id}
    assert item["action"] == "trunk.created"
    assert item["object"] == {"type": "trunk", "id": trunk["id"]}
    assert item["request_id"] == r.headers["X-Request-ID"]
    assert item["ip"] == "127.0.0.1"
    assert item["changes"]["name"] == [None, "Main"]


async def test_number_changes_record_old_and_new_values(client, database):
    tenant = await make_tenant(database)
    await stock(database, entry("+14155550100"))
    assert (await buy(client, tenant, "+14155550100")).status_code == 201
    trunk = (await client.post(tenant.path("/trunks"), json=TRUNK, headers=tenant.bearer)).json()
    r = await client.post(
        tenant.path("/numbers/+14155550100/assign"),
        json={"trunk_id": trunk["id"]},
        headers=tenant.bearer,
    )
    assert r.status_code == 200

    page = await log_of(client, tenant, object_type="number", object_id="+14155550100")

    assert [(e["action"], e["changes"]) for e in page["data"]] == [
        ("number.routing_changed", {"trunk_id": [None, trunk["id"]]}),
        (
            "number.purchased",
            {"account_id": [None, tenant.account_id], "status": [None, "active"]},
        ),
    ]


async def test_secrets_are_redacted_in_entries_and_absent_from_log_lines(
    client, database, caplog, capsys
):
    tenant = await make_tenant(database)
    caplog.set_level(logging.DEBUG)
    secret = "hook-secret-" + "s3cr3t" * 4
    r = await client.post(
        tenant.path("/applications"),
        json={"name": "IVR", "answer_url": "https://ivr.example.com/a", "webhook_secret": secret},
        headers=tenant.bearer,
    )
    assert r.status_code == 201
    r = await client.post(
        tenant.path("/webhooks"), json={"url": "https://hooks.example.com/x"}, headers=tenant.bearer
    )
    webhook_secret = r.json()["secret"]
    trunk = (await client.post(tenant.path("/trunks"), json=TRUNK, headers=tenant.bearer)).json()
    r = await client.post(
        tenant.path(f"/trunks/{trunk['id']}/credentials"),
        json={"username": "alice", "password": "correct-horse-battery"},
        headers=tenant.bearer,
    )
    assert r.status_code == 201

    entries = await all_entries(database)
    stored = json.dumps([{**e, "at": str(e["at"])} for e in entries])
    by_action = {e["action"]: e["changes"] for e in entries}
    assert by_action["application.created"]["webhook_secret"] == [None, REDACTED]
    assert by_action["webhook.created"]["secret"] == [None, REDACTED]
    assert by_action["credential.created"]["password"] == [None, REDACTED]
    assert by_action["key.created"]["secret"] == [None, REDACTED]
    for value in (secret, webhook_secret, "correct-horse-battery", tenant.key):
        assert value not in stored
        assert value not in caplog.text
        captured = capsys.readouterr()
        assert value not in captured.out + captured.err


async def test_a_rolled_back_change_leaves_no_entry(client, database, monkeypatch):
    tenant = await make_tenant(database)
    await stock(database, entry("+14155550101"))
    assert (await buy(client, tenant, "+14155550101")).status_code == 201
    trunk = (await client.post(tenant.path("/trunks"), json=TRUNK, headers=tenant.bearer)).json()
    await client.post(
        tenant.path("/numbers/+14155550101/assign"),
        json={"trunk_id": trunk["id"]},
        headers=tenant.bearer,
    )
    before = await all_entries(database)

    async def failing_delete(*args, **kwargs):
        raise RuntimeError("the database went away mid-delete")

    # The forced delete unroutes the number (its audit entry written), then fails.
    monkeypatch.setattr(trunks_repository.TRUNKS, "delete", failing_delete)
    r = await client.delete(
        tenant.path(f"/trunks/{trunk['id']}"), params={"force": "true"}, headers=tenant.bearer
    )

    assert r.status_code == 500
    assert await all_entries(database) == before


async def test_filters_and_cursor_paging(client, database):
    tenant = await make_tenant(database)
    other = await make_tenant(database, "Other")
    ids = []
    for n in range(5):
        body = {**TRUNK, "name": f"T{n}"}
        ids.append(
            (await client.post(tenant.path("/trunks"), json=body, headers=tenant.bearer)).json()[
                "id"
            ]
        )
    await client.post(other.path("/trunks"), json=TRUNK, headers=other.bearer)

    seen, cursor = [], None
    while True:
        params = {"object_type": "trunk", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await log_of(client, tenant, **params)
        seen += [e["object"]["id"] for e in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]

    assert [
        e["object"]["id"] for e in (await log_of(client, tenant, object_id=ids[2]))["data"]
    ] == [ids[2]]
    assert (
        len((await log_of(client, tenant, actor_id=tenant.key_id, object_type="trunk"))["data"])
        == 5
    )
    assert (await log_of(client, tenant, actor_id=other.key_id))["data"] == []
    assert (await log_of(client, tenant, since="2999-01-01T00:00:00Z"))["data"] == []
    assert (
        len(
            (await log_of(client, tenant, since="2000-01-01T00:00:00Z", object_type="trunk"))[
                "data"
            ]
        )
        == 5
    )


@pytest.mark.parametrize(
    ("params", "field", "reason"),
    [
        ({"cursor": "nope"}, "cursor", "is not a cursor returned by this API"),
        ({"cursor": "eyJzZXEiOiJ4In0"}, "cursor", "is not a cursor returned by this API"),
    ],
)
async def test_bad_filters_are_400(client, database, params, field, reason):
    tenant = await make_tenant(database)
    r = await client.get(tenant.path("/audit-log"), params=params, headers=tenant.bearer)
    error = assert_error(r, 400, field)
    assert error["details"] == [{"field": field, "reason": reason}]


async def test_a_since_that_is_not_a_time_is_400(client, database):
    tenant = await make_tenant(database)
    r = await client.get(
        tenant.path("/audit-log"), params={"since": "yesterday"}, headers=tenant.bearer
    )
    assert_error(r, 400, "since")


async def test_another_accounts_log_is_403(client, database):
    tenant = await make_tenant(database)
    other = await make_tenant(database, "Other")
    r = await client.get(other.path("/audit-log"), headers=tenant.bearer)
    assert_error(r, 403)


async def test_a_test_worlds_entries_name_the_public_account_and_stay_in_their_world(
    client, database
):
    live = await make_tenant(database)
    test = await add_test_key(database, live)
    bought = await client.post(
        test.path("/numbers/purchase-from-inventory"),
        json={"e164": "+15005550006", "country": "US"},
        headers=test.bearer,
    )
    assert bought.status_code == 201, bought.text

    [item] = (await log_of(client, test, object_type="number"))["data"]
    assert (item["account_id"], item["livemode"]) == (live.account_id, False)
    assert item["changes"]["account_id"] == [None, live.account_id]
    assert item["actor"] == {"type": "key", "id": test.key_id}
    assert (await log_of(client, live, object_type="number"))["data"] == []
