"""Rate limits per API key (``spec/API.md`` §7): ``429 RATE_LIMITED`` with ``Retry-After``,
and the ``RateLimit-Policy`` / ``RateLimit`` fields (draft-ietf-httpapi-ratelimit-headers-11)
on every response to an authenticated request. Per process here; shared through Redis in
tests/integration/web/test_rate_limits_redis.py."""

from __future__ import annotations

import asyncio
import re
import socket

import httpx
import pytest

from tests.api.support import assert_error, running
from tests.factories import US_NUMBERS, Tenant, entry, make_tenant, stock
from voxnumbers.accounts import service as accounts
from voxnumbers.app import create_app
from voxnumbers.settings import Settings, SettingsError

SERVICE_LIMIT = re.compile(r'^"default";r=(\d+);t=(\d+)$')


def limited(**changes) -> Settings:
    return Settings(log_level="warning", **changes)


def service_limit(response: httpx.Response) -> tuple[int, int]:
    """``(r, t)`` of the response's ``RateLimit`` field, which must be well formed."""
    match = SERVICE_LIMIT.match(response.headers["ratelimit"])
    assert match, response.headers["ratelimit"]
    return int(match[1]), int(match[2])


def numbers(client: httpx.AsyncClient, tenant: Tenant, headers: dict[str, str] | None = None):
    return client.get(tenant.path("/numbers"), headers=headers or tenant.bearer)


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_successes_carry_the_policy_and_what_is_left(client, database):
    tenant = await make_tenant(database)
    answers = [await numbers(client, tenant) for _ in range(3)]
    assert [r.status_code for r in answers] == [200] * 3
    for response in answers:
        assert response.headers["ratelimit-policy"] == '"default";q=600;w=60'
    left = [service_limit(r)[0] for r in answers]
    # The default burst is 100; one request in ten comes back every second meanwhile.
    assert left[0] == 99 and left == sorted(left, reverse=True)
    assert all(service_limit(r)[1] >= 1 for r in answers)


async def test_each_request_takes_one_from_what_is_left(database):
    tenant = await make_tenant(database)
    async with running(
        create_app(limited(rate_limit_per_minute=1, rate_limit_burst=5), database)
    ) as client:
        answers = [await numbers(client, tenant) for _ in range(4)]
    assert [service_limit(r) for r in answers] == [(4, 60), (3, 60), (2, 60), (1, 60)]


@pytest.mark.parametrize(
    ("path", "method", "status"),
    [
        ("/numbers?page=0", "GET", 400),
        ("/numbers?page=1&page=2", "GET", 400),
        ("/numbers/+14155551299", "GET", 404),
        ("/numbers/+14155551299", "DELETE", 404),
        ("/numbers/purchase-from-inventory", "POST", 415),
    ],
)
async def test_errors_after_authentication_carry_them_too(client, database, path, method, status):
    tenant = await make_tenant(database)
    response = await client.request(
        method,
        tenant.path(path),
        headers={**tenant.bearer, "Content-Type": "text/plain"},
        content=b"x" if method == "POST" else None,
    )
    assert_error(response, status)
    assert response.headers["ratelimit-policy"] == '"default";q=600;w=60'
    assert service_limit(response) == (99, 1)


async def test_a_key_probing_other_accounts_is_counted(client, database):
    tenant = await make_tenant(database)
    other = await make_tenant(database, "Other")
    response = await client.get(other.path("/numbers"), headers=tenant.bearer)
    assert_error(response, 403)
    assert service_limit(response)[0] == 99


async def test_over_the_limit_is_429_with_retry_after(database):
    tenant = await make_tenant(database)
    async with running(
        create_app(limited(rate_limit_per_minute=6, rate_limit_burst=3), database)
    ) as client:
        answers = [await numbers(client, tenant) for _ in range(5)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
    assert [service_limit(r)[0] for r in answers] == [2, 1, 0, 0, 0]
    refused = answers[3]
    error = assert_error(refused, 429)
    assert "retry" in error["message"].lower()
    assert refused.headers["ratelimit-policy"] == '"default";q=6;w=60'
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 10  # one request every 10 s
    # Retry-After is never earlier than the end of the effective window (draft §6).
    assert service_limit(refused) == (0, retry_after)


async def test_waiting_as_told_gets_through_and_refusals_cost_nothing(database):
    tenant = await make_tenant(database)
    async with running(
        create_app(limited(rate_limit_per_minute=30, rate_limit_burst=2), database)
    ) as client:
        assert [(await numbers(client, tenant)).status_code for _ in range(2)] == [200, 200]
        refusals = [await numbers(client, tenant) for _ in range(10)]
        assert {r.status_code for r in refusals} == {429}
        await asyncio.sleep(int(refusals[-1].headers["retry-after"]))
        assert (await numbers(client, tenant)).status_code == 200


async def test_each_key_has_its_own_limit(database):
    tenant = await make_tenant(database)
    other = await make_tenant(database, "Other")
    async with database.transaction() as conn:
        second = await accounts.issue_key(conn, tenant.account_id)
    second_key = {"Authorization": f"Bearer {second.secret}"}
    async with running(
        create_app(limited(rate_limit_per_minute=6, rate_limit_burst=2), database)
    ) as client:
        assert [(await numbers(client, tenant)).status_code for _ in range(3)] == [200, 200, 429]
        # Basic carries the same key: the same, exhausted, limit.
        assert_error(await numbers(client, tenant, tenant.basic), 429)
        # Another key of the same account, and another account, are untouched.
        assert service_limit(await numbers(client, tenant, second_key)) == (1, 10)
        assert service_limit(await numbers(client, other)) == (1, 10)


async def test_unauthenticated_requests_are_not_counted_and_get_no_fields(database):
    tenant = await make_tenant(database)
    async with running(
        create_app(limited(rate_limit_per_minute=6, rate_limit_burst=2), database)
    ) as client:
        for headers in (
            {},
            {"Authorization": "Bearer tvx_sk_live_" + "0" * 40},
            tenant.basic | {"Authorization": tenant.basic["Authorization"][:-2]},
        ):
            for _ in range(3):
                response = await numbers(client, tenant, headers or {"X-Nothing": "1"})
                assert_error(response, 401)
                assert "ratelimit" not in response.headers
                assert "ratelimit-policy" not in response.headers
        assert service_limit(await numbers(client, tenant)) == (1, 10)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/openapi.json", "/v1/unknown"])
async def test_public_routes_get_no_fields(client, path):
    response = await client.get(path)
    assert "ratelimit" not in response.headers
    assert "ratelimit-policy" not in response.headers


async def test_idempotent_replays_are_counted_and_carry_the_fields(database):
    tenant = await make_tenant(database)
    await stock(database, entry(US_NUMBERS[0]))
    headers = {**tenant.bearer, "Idempotency-Key": "order-1"}
    body = {"e164": US_NUMBERS[0], "country": "US"}
    path = tenant.path("/numbers/purchase-from-inventory")
    async with running(
        create_app(limited(rate_limit_per_minute=1, rate_limit_burst=5), database)
    ) as client:
        first = await client.post(path, json=body, headers=headers)
        again = await client.post(path, json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert [service_limit(first)[0], service_limit(again)[0]] == [4, 3]


async def test_zero_turns_rate_limiting_off(database):
    tenant = await make_tenant(database)
    async with running(
        create_app(limited(rate_limit_per_minute=0, rate_limit_burst=1), database)
    ) as client:
        answers = [await numbers(client, tenant) for _ in range(20)]
    assert {r.status_code for r in answers} == {200}
    assert not any("ratelimit" in r.headers or "ratelimit-policy" in r.headers for r in answers)


@pytest.mark.parametrize(("per_minute", "burst"), [(-1, 10), (60, 0), (60, -5)])
def test_a_limit_that_allows_nothing_is_a_configuration_error(database, per_minute, burst):
    with pytest.raises(SettingsError, match="VOX_RATE_LIMIT"):
        create_app(limited(rate_limit_per_minute=per_minute, rate_limit_burst=burst), database)


async def test_without_redis_each_instance_limits_on_its_own(database):
    """Per process: two instances without Redis do not share counts."""
    tenant = await make_tenant(database)
    settings = limited(rate_limit_per_minute=6, rate_limit_burst=2)
    async with (
        running(create_app(settings, database)) as one,
        running(create_app(settings, database)) as two,
    ):
        assert [(await numbers(one, tenant)).status_code for _ in range(3)] == [200, 200, 429]
        assert [(await numbers(two, tenant)).status_code for _ in range(3)] == [200, 200, 429]


async def test_with_redis_down_the_api_keeps_serving_limited_per_process(database, capfd):
    """Fail open: a Redis that is not there (a closed port) costs neither availability nor
    limits; the outage is logged once, not once per request, and without the URL's password."""
    tenant = await make_tenant(database)
    settings = limited(
        rate_limit_per_minute=1,
        rate_limit_burst=20,
        redis_url=f"redis://:red-password@127.0.0.1:{closed_port()}/0",
    )
    async with running(create_app(settings, database)) as client:
        capfd.readouterr()
        answers = [await numbers(client, tenant) for _ in range(25)]
    logged = "".join(capfd.readouterr())
    assert [r.status_code for r in answers] == [200] * 20 + [429] * 5
    assert [service_limit(r)[0] for r in answers[:3]] == [19, 18, 17]
    assert logged.count("redis unreachable") == 1, logged
    assert "red-password" not in logged
