"""Who may call (``spec/API.md`` §1 "Auth", "Account in the path"): Bearer or Basic, live or
test keys, revocation, ``last_used_at`` without a write per request, no key in the logs."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from tests.api.support import app_on, assert_error, key_last_used, own, running
from tests.factories import US_NUMBERS, make_tenant
from voxnumbers.accounts import service as accounts


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def test_bearer_and_basic_both_work_and_see_the_same(client, database):
    tenant = await make_tenant(database)
    await own(database, tenant, US_NUMBERS[0])
    answers = [
        await client.get(tenant.path("/numbers"), headers=headers)
        for headers in (
            tenant.bearer,
            tenant.basic,
            {"Authorization": f"bearer {tenant.key}"},
            {"Authorization": f"BEARER   {tenant.key}"},
        )
    ]
    assert [r.status_code for r in answers] == [200] * 4
    assert all(r.json() == answers[0].json() for r in answers)
    assert answers[0].json()["pagination"]["total"] == 1


async def test_test_keys_work(client, database):
    tenant = await make_tenant(database, test=True)
    assert tenant.key.startswith("tvx_sk_test_")
    for headers in (tenant.bearer, tenant.basic):
        response = await client.get(tenant.path("/numbers"), headers=headers)
        assert response.status_code == 200, response.text


async def test_live_keys_look_like_tryvox_keys(database):
    tenant = await make_tenant(database)
    assert tenant.key.startswith("tvx_sk_live_")


async def test_every_key_of_an_account_works_until_revoked(client, database):
    tenant = await make_tenant(database)
    async with database.transaction() as conn:
        second = await accounts.issue_key(conn, tenant.account_id)
    headers = {"Authorization": f"Bearer {second.secret}"}
    assert (await client.get(tenant.path("/numbers"), headers=headers)).status_code == 200
    async with database.transaction() as conn:
        await accounts.revoke_key(conn, second.key.id)
    revoked = await client.get(tenant.path("/numbers"), headers=headers)
    assert_error(revoked, 401)
    # The other key is untouched.
    assert (await client.get(tenant.path("/numbers"), headers=tenant.bearer)).status_code == 200


async def test_every_authentication_failure_looks_the_same(client, database):
    """A caller learns nothing about which part of the credentials was wrong."""
    tenant = await make_tenant(database)
    other = await make_tenant(database, "Other")
    async with database.transaction() as conn:
        await accounts.revoke_key(conn, other.key_id)
    attempts = [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer tvx_sk_live_" + "0" * 40},
        {"Authorization": f"Bearer {tenant.key}x"},
        {"Authorization": f"Bearer {tenant.key[:-1]}"},
        {"Authorization": f"Bearer {other.key}"},  # revoked
        basic(other.account_id, tenant.key),  # right key, wrong account id
        basic(tenant.account_id, ""),
        basic("", tenant.key),
        {"Authorization": f"Basic {tenant.key}"},
        {"Authorization": f"Digest {tenant.key}"},
        {"Authorization": tenant.key},
    ]
    bodies = set()
    for headers in attempts:
        error = assert_error(await client.get(tenant.path("/numbers"), headers=headers), 401)
        bodies.add((error["code"], error["message"], str(error.get("details"))))
    assert len(bodies) == 1


async def test_another_account_and_no_account_get_the_same_403(client, database):
    tenant = await make_tenant(database)
    other = await make_tenant(database, "Other")
    errors = []
    for account_id in (other.account_id, "acc_0000000000000000", "x", "%2e%2e"):
        response = await client.get(f"/v1/account/{account_id}/numbers", headers=tenant.bearer)
        error = assert_error(response, 403)
        errors.append({k: v for k, v in error.items() if k != "request_id"})
    assert all(error == errors[0] for error in errors)


async def test_last_used_at_is_written_in_batches_not_per_request(database):
    """Requests only note the time in memory; the app writes it when it flushes (here: at
    shutdown, since the periodic flush is far off)."""
    used = await make_tenant(database, "Used")
    misused = await make_tenant(database, "Misused")
    unused = await make_tenant(database, "Unused")
    started = datetime.now(UTC).replace(microsecond=0)
    app = app_on(database, key_usage_flush_seconds=3600)
    async with running(app) as client:
        for headers in (used.bearer, used.basic, used.bearer):
            assert (await client.get(used.path("/numbers"), headers=headers)).status_code == 200
        # A valid key presented with the wrong account id is not a use of the key.
        wrong = basic(used.account_id, misused.key)
        assert (await client.get(used.path("/numbers"), headers=wrong)).status_code == 401
        assert await key_last_used(database, used.key_id) is None
    last_used = await key_last_used(database, used.key_id)
    assert last_used is not None
    assert started <= last_used <= datetime.now(UTC)
    assert await key_last_used(database, misused.key_id) is None
    assert await key_last_used(database, unused.key_id) is None


async def test_logs_never_contain_key_material(database, capfd):
    tenant = await make_tenant(database)
    test_tenant = await make_tenant(database, "Test mode", test=True)
    async with database.transaction() as conn:
        revoked = await accounts.issue_key(conn, tenant.account_id)
        await accounts.revoke_key(conn, revoked.key.id)
    capfd.readouterr()
    app = app_on(database, log_level="debug")
    async with running(app) as client:
        attempts = [
            ("GET", tenant.path("/numbers"), tenant.bearer),
            ("GET", tenant.path("/numbers"), tenant.basic),
            ("GET", test_tenant.path("/numbers"), test_tenant.bearer),
            ("GET", tenant.path("/numbers"), {"Authorization": f"Bearer {revoked.secret}"}),
            ("GET", tenant.path("/numbers"), {"Authorization": "Bearer tvx_sk_live_" + "z" * 40}),
            ("GET", tenant.path("/numbers"), basic(test_tenant.account_id, tenant.key)),
            ("GET", tenant.path("/numbers"), {"Authorization": f"Basic {tenant.key}"}),
            ("GET", test_tenant.path("/numbers"), tenant.bearer),  # 403
            ("GET", tenant.path("/numbers?page=0"), tenant.bearer),  # 400
            ("GET", tenant.path("/numbers/+14155551200"), tenant.bearer),  # 404
            ("POST", tenant.path("/numbers/purchase-from-inventory"), tenant.bearer),  # 400
            ("GET", "/v1/nowhere", tenant.bearer),  # 404 before auth
        ]
        statuses = []
        for method, path, headers in attempts:
            response = await client.request(method, path, headers=headers)
            statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 401, 401, 401, 401, 403, 400, 404, 400, 404]
    captured = capfd.readouterr()
    logged = captured.out + captured.err
    assert '"status":401' in logged.replace(" ", "")  # the access log was captured
    assert "tvx_sk_" not in logged
    for secret in (tenant.key, test_tenant.key, revoked.secret):
        assert secret[len("tvx_sk_live_") :] not in logged
