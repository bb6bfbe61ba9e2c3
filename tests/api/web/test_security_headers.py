"""Security headers on every response: successes, every kind of error, public routes
(issue "Hardening"; added by ``web/requestid.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import pytest

from tests.api.support import running
from tests.factories import US_NUMBERS, Tenant, make_tenant
from voxnumbers.app import create_app
from voxnumbers.numbers import repository as numbers_repository
from voxnumbers.settings import Settings

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def assert_security_headers(response: httpx.Response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get_list(name) == [value], (name, dict(response.headers))
    assert response.headers.get("x-request-id")


@dataclass(frozen=True)
class Case:
    name: str
    status: int
    path: str
    method: str = "GET"
    auth: bool = True
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def on_account(tenant: Tenant, path: str) -> str:
    return tenant.path(path) if path.startswith("/numbers") else path


PURCHASE = "/numbers/purchase-from-inventory"
CASES = [
    Case("list", 200, "/numbers"),
    Case("no key", 401, "/numbers", auth=False),
    Case("bad query", 400, "/numbers?page=0"),
    Case("unknown number", 404, f"/numbers/{US_NUMBERS[0]}"),
    Case(
        "body too large",
        413,
        PURCHASE,
        "POST",
        body=b'{"e164": "' + b"1" * 70_000 + b'"}',
        headers={"Content-Type": "application/json"},
    ),
    Case("not JSON", 415, PURCHASE, "POST", body=b"e164=1", headers={"Content-Type": "text/plain"}),
    Case(
        "malformed JSON",
        400,
        PURCHASE,
        "POST",
        body=b"{",
        headers={"Content-Type": "application/json"},
    ),
    Case("health", 200, "/healthz", auth=False),
    Case("readiness", 200, "/readyz", auth=False),
    Case("OpenAPI", 200, "/openapi.json", auth=False),
]
BEFORE_ROUTING = [
    Case("unknown route", 404, "/v1/nothing-here", auth=False),
    Case("wrong method", 405, "/healthz", "DELETE", auth=False),
]


async def send(client: httpx.AsyncClient, tenant: Tenant, case: Case) -> httpx.Response:
    headers = {**(tenant.bearer if case.auth else {}), **case.headers}
    return await client.request(
        case.method, on_account(tenant, case.path), headers=headers, content=case.body
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_every_response_carries_them(client, database, case):
    tenant = await make_tenant(database)
    response = await send(client, tenant, case)
    assert response.status_code == case.status, response.text
    assert_security_headers(response)


@pytest.mark.parametrize("case", BEFORE_ROUTING, ids=[c.name for c in BEFORE_ROUTING])
async def test_responses_made_before_routing_carry_them(client, database, case):
    tenant = await make_tenant(database)
    response = await send(client, tenant, case)
    assert response.status_code == case.status, response.text
    assert_security_headers(response)


async def test_other_accounts_and_rate_limits_carry_them(database):
    tenant = await make_tenant(database)
    other = await make_tenant(database, "Other")
    settings = Settings(log_level="warning", rate_limit_per_minute=1, rate_limit_burst=1)
    async with running(create_app(settings, database)) as client:
        forbidden = await client.get(other.path("/numbers"), headers=tenant.bearer)
        await client.get(tenant.path("/numbers"), headers=tenant.bearer)
        limited = await client.get(tenant.path("/numbers"), headers=tenant.bearer)
    assert (forbidden.status_code, limited.status_code) == (403, 429)
    assert_security_headers(forbidden)
    assert_security_headers(limited)


async def test_an_unexpected_error_carries_them(database, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(numbers_repository, "count_numbers", broken)
    tenant = await make_tenant(database)
    async with running(create_app(Settings(log_level="error"), database)) as client:
        response = await client.get(tenant.path("/numbers"), headers=tenant.bearer)
    assert response.status_code == 500
    assert_security_headers(response)


async def test_cors_preflights_carry_them(database):
    tenant = await make_tenant(database)
    settings = Settings(log_level="warning", cors_origins="https://app.example")
    async with running(create_app(settings, database)) as client:
        response = await client.options(
            tenant.path("/numbers"),
            headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
        )
    assert response.status_code in (200, 204)
    assert_security_headers(response)
