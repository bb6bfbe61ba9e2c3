"""Nothing but the error envelope leaves the server, and every response carries its request
id (``spec/API.md`` §1 "Errors")."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy.exc import OperationalError

from tests.api.support import app_on, assert_error, own, running
from tests.factories import US_NUMBERS, make_tenant
from voxnumbers.numbers import repository as numbers_repository
from voxnumbers.numbers import service as numbers_service

GENERATED_ID = re.compile(r"^req_[a-z0-9]{20}$")


async def test_successes_carry_a_request_id(client, database):
    tenant = await make_tenant(database)
    ids = set()
    for _ in range(3):
        response = await client.get(tenant.path("/numbers"), headers=tenant.bearer)
        assert response.status_code == 200
        assert GENERATED_ID.match(response.headers["x-request-id"])
        ids.add(response.headers["x-request-id"])
    assert len(ids) == 3


@pytest.mark.parametrize(
    "path", ["/numbers?page=0", "/numbers/abc", "/trumpets", "/numbers/+14155551200/colour"]
)
async def test_a_callers_request_id_is_used_for_errors_too(client, database, path):
    tenant = await make_tenant(database)
    mine = "client-trace:0123456789"
    response = await client.get(tenant.path(path), headers={**tenant.bearer, "X-Request-ID": mine})
    error = assert_error(response, response.status_code)
    assert error["request_id"] == mine == response.headers["x-request-id"]


@pytest.mark.parametrize("unusable", ["short", "has spaces in it", "x" * 200, "é-accented-id"])
async def test_an_unusable_request_id_is_replaced(client, database, unusable):
    tenant = await make_tenant(database)
    response = await client.get(
        tenant.path("/numbers?page=0"),
        headers={**tenant.bearer, "X-Request-ID": unusable.encode("utf-8")},
    )
    error = assert_error(response, 400, "page")
    assert GENERATED_ID.match(error["request_id"])


async def test_requests_refused_before_routing_get_their_own_ids(client):
    """Unknown routes and wrong methods never reach a handler; each still gets a fresh id."""
    answers = [
        await client.get("/v1/nothing-here"),
        await client.get("/v1/nothing-here"),
        await client.delete("/healthz"),
        await client.put("/v1/account/acc_x/numbers", json={}),
    ]
    ids = [assert_error(r, r.status_code)["request_id"] for r in answers]
    assert [r.status_code for r in answers] == [404, 404, 405, 405]
    assert all(GENERATED_ID.match(request_id) for request_id in ids)
    assert len(set(ids)) == len(ids)


async def test_an_unexpected_error_is_a_bare_500_envelope(database, monkeypatch, capfd):
    """The body says nothing but the code, a message and the request id; the log has the
    traceback for the operator, under the same request id."""

    async def broken(*args, **kwargs):
        raise RuntimeError("boom: SELECT secret FROM api_keys")

    monkeypatch.setattr(numbers_repository, "count_numbers", broken)
    tenant = await make_tenant(database)
    async with running(app_on(database, log_level="info")) as client:
        response = await client.get(tenant.path("/numbers"), headers=tenant.bearer)
    error = assert_error(response, 500)
    assert set(error) == {"code", "message", "request_id"}
    assert "boom" not in response.text
    logged = capfd.readouterr().err
    assert "boom: SELECT secret FROM api_keys" in logged
    assert error["request_id"] in logged


async def test_a_failure_after_the_response_started_is_logged_with_the_request_id(
    database, monkeypatch, capfd
):
    """A streamed export that fails halfway cannot be answered with an envelope any more:
    the client sees its connection end, and the log says which request failed and why."""
    real = numbers_service.export_numbers

    async def first_chunk_then_fail(*args, **kwargs):
        async for chunk in real(*args, **kwargs):
            yield chunk
            break
        raise RuntimeError("disk gone mid-export")

    monkeypatch.setattr(numbers_service, "export_numbers", first_chunk_then_fail)
    tenant = await make_tenant(database)
    await own(database, tenant, US_NUMBERS[0])
    async with running(app_on(database, log_level="info")) as client:
        response = await client.get(tenant.path("/numbers/export"), headers=tenant.bearer)
    assert response.status_code == 200  # it had started: only the connection can say more
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line]
    [failed] = [line for line in lines if line["event"] == "request failed"]
    assert failed["request_id"] == response.headers["x-request-id"]
    assert "RuntimeError: disk gone mid-export" in failed["exception"]


async def test_losing_the_database_is_503_with_retry_after(client, database, monkeypatch):
    async def unreachable(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(numbers_repository, "count_numbers", unreachable)
    tenant = await make_tenant(database)
    response = await client.get(tenant.path("/numbers"), headers=tenant.bearer)
    assert_error(response, 503)
    assert response.headers["retry-after"].isdigit()
    assert "refused" not in response.text


async def test_errors_are_json_with_security_headers(client, database):
    tenant = await make_tenant(database)
    response = await client.get(tenant.path("/numbers?page=0"), headers=tenant.bearer)
    assert_error(response, 400, "page")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


async def test_options_is_never_a_bodyless_204(client, database):
    """§1: every success answers 200 with a JSON body, never 204 (the framework's automatic
    OPTIONS answer included)."""
    tenant = await make_tenant(database)
    response = await client.options(tenant.path("/numbers"), headers=tenant.bearer)
    assert response.status_code == 200, response.status_code
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() is not None
    assert "GET" in response.headers["allow"]
