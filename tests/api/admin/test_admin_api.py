"""``/admin/v1``: operator tokens only (customer keys ``401`` there, operator tokens ``401``
on ``/v1``); accounts, keys, inventory upload validated row by row, inventory listing and
removal, number transitions, the operators' audit log; same envelope and idempotency."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.api.support import assert_error, buy
from tests.factories import entry, make_tenant, stock
from voxnumbers.admin import service as admin
from voxnumbers.db.tables import audit_log, operator_tokens
from voxnumbers.kit.apikeys import digest_key

HEADER = "e164,monthly_fee\n"
BAD_E164 = "e164 'not-a-number' must be an E.164 number: '+' then 8 to 15 digits"


@pytest.fixture
async def operator(database):
    async with database.transaction() as conn:
        issued = await admin.create_operator_token(conn, "ops on call")
    return issued


def auth(issued) -> dict[str, str]:
    return {"Authorization": f"Bearer {issued.secret}"}


async def test_tokens_are_stored_hashed_and_shown_once(database, operator):
    assert operator.secret.startswith("tvx_op_")
    async with database.transaction(write=False) as conn:
        row = (await conn.execute(select(operator_tokens))).one()
    assert row.digest == digest_key(operator.secret)
    assert operator.secret not in [str(v) for v in row]
    assert row.hint == f"tvx_op_…{operator.secret[-4:]}"


async def test_customer_keys_are_401_on_admin_and_operator_tokens_401_on_v1(
    client, database, operator
):
    tenant = await make_tenant(database)
    assert_error(await client.get("/admin/v1/accounts", headers=tenant.bearer), 401)
    assert_error(await client.get("/admin/v1/accounts"), 401)
    assert_error(await client.get(tenant.path("/numbers"), headers=auth(operator)), 401)
    basic = {"Authorization": "Basic " + "dXNlcjp0dnhfb3Bf"}
    assert_error(await client.get("/admin/v1/accounts", headers=basic), 401)


async def test_a_revoked_token_is_401(client, database, operator):
    async with database.transaction() as conn:
        await admin.revoke_operator_token(conn, operator.token.id)
    assert_error(await client.get("/admin/v1/accounts", headers=auth(operator)), 401)


async def test_accounts_and_keys(client, database, operator):
    r = await client.post("/admin/v1/accounts", json={"name": "Globex"}, headers=auth(operator))
    assert r.status_code == 201
    account = r.json()
    assert list(account) == ["id", "name", "status", "created_at"]
    assert account["name"] == "Globex" and account["status"] == "active"

    r = await client.get(f"/admin/v1/accounts/{account['id']}", headers=auth(operator))
    assert r.status_code == 200 and r.json() == account
    r = await client.get("/admin/v1/accounts", headers=auth(operator))
    assert r.json()["data"] == [account]
    assert r.json()["pagination"]["total"] == 1
    assert_error(await client.get("/admin/v1/accounts/acc_nope", headers=auth(operator)), 404)

    r = await client.post(
        f"/admin/v1/accounts/{account['id']}/keys", json={"test": True}, headers=auth(operator)
    )
    assert r.status_code == 201
    key = r.json()
    assert key["secret"].startswith("tvx_sk_test_") and key["mode"] == "test"
    # The new key works on /v1.
    r = await client.get(
        f"/v1/account/{account['id']}/numbers",
        headers={"Authorization": f"Bearer {key['secret']}"},
    )
    assert r.status_code == 200

    r = await client.get(f"/admin/v1/accounts/{account['id']}/keys", headers=auth(operator))
    [listed] = r.json()["data"]
    assert "secret" not in listed and listed["id"] == key["id"]

    r = await client.post(f"/admin/v1/keys/{key['id']}/revoke", headers=auth(operator))
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    r = await client.get(
        f"/v1/account/{account['id']}/numbers",
        headers={"Authorization": f"Bearer {key['secret']}"},
    )
    assert_error(r, 401)

    # Every change is the operator's in the audit log, never with the key's secret.
    r = await client.get("/admin/v1/audit-log", headers=auth(operator))
    entries = r.json()["data"]
    assert [e["action"] for e in entries] == [
        "key.revoked",
        "key.created",
        "account.created",
        "operator_token.created",
    ]
    assert {e["actor"]["type"] for e in entries[:3]} == {"operator"}
    assert {e["actor"]["id"] for e in entries[:3]} == {operator.token.id}
    assert key["secret"] not in r.text and operator.secret not in r.text
    r = await client.get(
        "/admin/v1/audit-log", params={"account_id": account["id"]}, headers=auth(operator)
    )
    assert len(r.json()["data"]) == 3


async def test_inventory_upload_is_validated_row_by_row(client, database, operator):
    csv = HEADER + "+14155550100,1.25\nnot-a-number,1.00\n+14155550101,-3\n"
    r = await client.post("/admin/v1/inventory/import", json={"csv": csv}, headers=auth(operator))
    error = assert_error(r, 400, ["csv", "csv"])
    assert error["details"] == [
        {
            "field": "csv",
            "reason": f"line 3: {BAD_E164}",
        },
        {"field": "csv", "reason": "line 4: monthly_fee: '-3' is not a non-negative amount"},
    ]
    r = await client.get("/admin/v1/inventory", headers=auth(operator))
    assert r.json()["pagination"]["total"] == 0

    r = await client.post(
        "/admin/v1/inventory/import",
        json={"csv": csv, "skip_invalid": True},
        headers=auth(operator),
    )
    assert r.status_code == 200
    assert r.json() == {
        "added": 1,
        "present": 0,
        "invalid": 2,
        "problems": [
            {
                "line": 3,
                "reason": BAD_E164,
            },
            {"line": 4, "reason": "monthly_fee: '-3' is not a non-negative amount"},
        ],
    }
    r = await client.get("/admin/v1/inventory", headers=auth(operator))
    assert [n["e164"] for n in r.json()["data"]] == ["+14155550100"]

    r = await client.delete("/admin/v1/inventory/14155550100", headers=auth(operator))
    assert r.status_code == 200 and r.json()["e164"] == "+14155550100"
    assert r.json()["monthly_fee"] == 1.25
    assert_error(
        await client.delete("/admin/v1/inventory/14155550100", headers=auth(operator)), 404
    )
    assert_error(await client.delete("/admin/v1/inventory/12", headers=auth(operator)), 400, "e164")


async def test_an_upload_larger_than_the_apis_body_limit_is_imported_whole(client, operator):
    rows = [f"+1{area}555{i:04d},1.00" for area in (212, 646) for i in range(2_000)]
    csv = HEADER + "\n".join(rows) + "\n"
    assert len(csv) > 64 * 1024  # the limit of every other request body
    r = await client.post("/admin/v1/inventory/import", json={"csv": csv}, headers=auth(operator))
    assert r.status_code == 200, r.text
    assert r.json() == {"added": 4_000, "present": 0, "invalid": 0, "problems": []}
    r = await client.get("/admin/v1/inventory", headers=auth(operator))
    assert r.json()["pagination"]["total"] == 4_000


async def test_a_header_that_cannot_be_used_refuses_the_upload(client, operator):
    r = await client.post(
        "/admin/v1/inventory/import", json={"csv": "number,fee\n"}, headers=auth(operator)
    )
    error = assert_error(r, 400, "csv")
    assert error["details"][0]["reason"].startswith("line 1: ")


async def test_number_transitions(client, database, operator):
    tenant = await make_tenant(database)
    await stock(database, entry("+14155550102"))
    assert (await buy(client, tenant, "+14155550102")).status_code == 201
    path = "/admin/v1/numbers/+14155550102"

    r = await client.post(f"{path}/suspend", json={"reason": "billing"}, headers=auth(operator))
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    assert_error(
        await client.post(f"{path}/suspend", json={"reason": "x"}, headers=auth(operator)), 409
    )
    assert_error(
        await client.post(f"{path}/suspend", json={"reason": " "}, headers=auth(operator)),
        400,
        "reason",
    )
    r = await client.post(f"{path}/reinstate", headers=auth(operator))
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert_error(await client.post(f"{path}/activate", headers=auth(operator)), 409)
    assert_error(
        await client.post("/admin/v1/numbers/+14155559999/activate", headers=auth(operator)), 404
    )

    # The customer sees who suspended their number: an operator, by token id.
    r = await client.get(
        tenant.path("/audit-log"), params={"object_id": "+14155550102"}, headers=tenant.bearer
    )
    actions = [(e["action"], e["actor"]["type"], e["changes"]) for e in r.json()["data"]]
    assert actions[:2] == [
        ("number.reinstated", "operator", {"status": ["suspended", "active"]}),
        ("number.suspended", "operator", {"status": ["active", "suspended"]}),
    ]


async def test_idempotency_key_replays_an_admin_create(client, database, operator):
    headers = {**auth(operator), "Idempotency-Key": "create-globex"}
    first = await client.post("/admin/v1/accounts", json={"name": "Globex"}, headers=headers)
    second = await client.post("/admin/v1/accounts", json={"name": "Globex"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    async with database.transaction(write=False) as conn:
        created = (
            await conn.execute(select(audit_log).where(audit_log.c.action == "account.created"))
        ).all()
    assert len(created) == 1


async def test_rate_limit_headers_on_admin_responses(client, operator):
    r = await client.get("/admin/v1/accounts", headers=auth(operator))
    assert r.status_code == 200
    assert "ratelimit" in r.headers and "ratelimit-policy" in r.headers


async def test_unknown_body_members_are_400(client, operator):
    r = await client.post(
        "/admin/v1/accounts", json={"name": "X", "colour": "red"}, headers=auth(operator)
    )
    assert_error(r, 400)
