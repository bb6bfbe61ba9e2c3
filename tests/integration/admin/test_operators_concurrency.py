"""The write paths of operators and webhook management, many clients at once (the point is
PostgreSQL): never a 500 nor a 503, a consistent end state, and exactly one audit entry per
answered change."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest
from sqlalchemy import select

from tests.api.support import app_on, own, running
from tests.factories import Tenant, make_tenant
from voxnumbers.admin import service as admin
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import audit_log, numbers, webhook_endpoints

WRITERS = 16
NUMBERS = [f"+1415555{n:04d}" for n in range(3000, 3000 + WRITERS)]


@pytest.fixture
async def client(database: Database):
    async with running(app_on(database, rate_limit_per_minute=0)) as http:
        yield http


@pytest.fixture
async def tenant(database: Database) -> Tenant:
    return await make_tenant(database)


@pytest.fixture
async def operator(database: Database) -> dict[str, str]:
    async with database.transaction() as conn:
        issued = await admin.create_operator_token(conn, "concurrency")
    return {"Authorization": f"Bearer {issued.secret}"}


async def actions(database: Database, action: str) -> Counter[str]:
    async with database.transaction(write=False) as conn:
        rows = await conn.execute(select(audit_log.c.object_id).where(audit_log.c.action == action))
        return Counter(row.object_id for row in rows)


async def test_concurrent_rotations_of_one_endpoint(client, database, tenant) -> None:
    hook = await client.post(
        tenant.path("/webhooks"), json={"url": "https://example.com/h"}, headers=tenant.bearer
    )
    path = tenant.path(f"/webhooks/{hook.json()['id']}/rotate-secret")

    answers = await asyncio.gather(
        *(client.post(path, headers=tenant.bearer) for _ in range(WRITERS))
    )

    assert [a.status_code for a in answers] == [200] * WRITERS, [a.text for a in answers]
    secrets = [a.json()["secret"] for a in answers]
    async with database.transaction(write=False) as conn:
        row = (await conn.execute(select(webhook_endpoints))).one()
    # Rotations were serialised: the stored secret is one answered, and the one before it
    # is also one answered (or the original, for the first rotation).
    assert row.secret in secrets
    assert row.previous_secret in [*secrets, hook.json()["secret"]]
    assert (await actions(database, "webhook.secret_rotated"))[hook.json()["id"]] == WRITERS


async def test_concurrent_patches_of_one_endpoint(client, database, tenant) -> None:
    hook = (
        await client.post(
            tenant.path("/webhooks"), json={"url": "https://example.com/h"}, headers=tenant.bearer
        )
    ).json()
    path = tenant.path(f"/webhooks/{hook['id']}")

    answers = await asyncio.gather(
        *(
            client.patch(path, json={"url": f"https://example.com/h{n}"}, headers=tenant.bearer)
            for n in range(WRITERS)
        )
    )

    assert [a.status_code for a in answers] == [200] * WRITERS
    final = (await client.get(path, headers=tenant.bearer)).json()
    assert final["url"] in {a.json()["url"] for a in answers}
    assert (await actions(database, "webhook.updated"))[hook["id"]] == WRITERS


async def test_concurrent_suspensions_and_reinstatements(
    client, database, tenant, operator
) -> None:
    for e164 in NUMBERS:
        await own(database, tenant, e164)

    suspended = await asyncio.gather(
        *(
            client.post(
                f"/admin/v1/numbers/{e164}/suspend", json={"reason": "billing"}, headers=operator
            )
            for e164 in NUMBERS
            for _ in range(2)  # each number twice: one succeeds, one is 409
        )
    )
    statuses = Counter(a.status_code for a in suspended)
    assert statuses == {200: WRITERS, 409: WRITERS}, [a.text for a in suspended]

    reinstated = await asyncio.gather(
        *(client.post(f"/admin/v1/numbers/{e164}/reinstate", headers=operator) for e164 in NUMBERS)
    )
    assert [a.status_code for a in reinstated] == [200] * WRITERS
    async with database.transaction(write=False) as conn:
        states = {row.status for row in await conn.execute(select(numbers.c.status))}
    assert states == {"active"}
    assert await actions(database, "number.suspended") == Counter({e164: 1 for e164 in NUMBERS})
    assert await actions(database, "number.reinstated") == Counter({e164: 1 for e164 in NUMBERS})


async def test_concurrent_account_creation_with_one_idempotency_key(
    client, database, operator
) -> None:
    headers = {**operator, "Idempotency-Key": "one-account"}
    answers: list[httpx.Response] = await asyncio.gather(
        *(
            client.post("/admin/v1/accounts", json={"name": "Globex"}, headers=headers)
            for _ in range(WRITERS)
        )
    )
    codes = Counter(a.status_code for a in answers)
    assert set(codes) <= {201, 409}, [a.text for a in answers]
    created = {a.json()["id"] for a in answers if a.status_code == 201}
    assert len(created) == 1
    assert sum((await actions(database, "account.created")).values()) == 1
