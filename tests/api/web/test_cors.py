"""CORS: no Access-Control-* header unless ``VOX_CORS_ORIGINS`` is set; then browsers on
those origins may call the API with a key and read the headers clients need."""

from __future__ import annotations

import httpx
import pytest

from tests.api.support import assert_error, running
from tests.factories import make_tenant
from voxnumbers.app import create_app
from voxnumbers.settings import Settings

APP = "https://app.example"
OTHER_APP = "http://localhost:5173"
PREFLIGHT = {
    "Origin": APP,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, idempotency-key, if-match",
}


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


def listed(value: str) -> set[str]:
    return {item.strip().lower() for item in value.split(",")}


@pytest.fixture
async def cors_client(database):
    settings = Settings(log_level="warning", cors_origins=f" {APP} , {OTHER_APP},")
    async with running(create_app(settings, database)) as client:
        yield client


async def test_off_by_default(client, database):
    tenant = await make_tenant(database)
    answers = [
        await client.get(tenant.path("/numbers"), headers={**tenant.bearer, "Origin": APP}),
        await client.get("/healthz", headers={"Origin": APP}),
        await client.options(tenant.path("/numbers"), headers=PREFLIGHT),
    ]
    assert [r.status_code for r in answers[:2]] == [200, 200]
    assert answers[2].status_code != 204 and answers[2].status_code < 500  # not a preflight
    for response in answers:
        assert cors_headers(response) == {}, response.headers


async def test_a_preflight_from_a_configured_origin_is_allowed_without_a_key(cors_client, database):
    tenant = await make_tenant(database)
    for origin in (APP, OTHER_APP):
        response = await cors_client.options(
            tenant.path("/numbers/purchase-from-inventory"), headers={**PREFLIGHT, "Origin": origin}
        )
        assert 200 <= response.status_code < 300, response.text
        assert response.headers["access-control-allow-origin"] == origin
        assert {"get", "post", "put", "patch", "delete"} <= listed(
            response.headers["access-control-allow-methods"]
        )
        assert {"authorization", "content-type", "idempotency-key", "if-match"} <= listed(
            response.headers["access-control-allow-headers"]
        )
        assert "access-control-allow-credentials" not in response.headers  # keys, not cookies


async def test_responses_to_a_configured_origin_expose_what_clients_read(cors_client, database):
    tenant = await make_tenant(database)
    response = await cors_client.get(
        tenant.path("/numbers"), headers={**tenant.bearer, "Origin": APP}
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP
    assert "origin" in listed(response.headers["vary"])
    assert listed(response.headers["access-control-expose-headers"]) >= {
        "x-request-id",
        "ratelimit",
        "ratelimit-policy",
        "retry-after",
        "etag",
        "idempotent-replayed",
    }
    # Errors too: a browser must be able to read the envelope and its request id.
    refused = await cors_client.get(
        tenant.path("/numbers?page=0"), headers={**tenant.bearer, "Origin": APP}
    )
    assert_error(refused, 400, "page")
    assert refused.headers["access-control-allow-origin"] == APP


async def test_other_origins_get_no_permission(cors_client, database):
    tenant = await make_tenant(database)
    simple = await cors_client.get(
        tenant.path("/numbers"), headers={**tenant.bearer, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in simple.headers
    preflight = await cors_client.options(
        tenant.path("/numbers"), headers={**PREFLIGHT, "Origin": "https://evil.example"}
    )
    assert_error(preflight, 400)
    assert "access-control-allow-origin" not in preflight.headers


async def test_a_preflight_for_a_header_not_allowed_is_refused_with_the_envelope(
    cors_client, database
):
    tenant = await make_tenant(database)
    response = await cors_client.options(
        tenant.path("/numbers"),
        headers={**PREFLIGHT, "Access-Control-Request-Headers": "x-api-key"},
    )
    error = assert_error(response, 400)
    assert "CORS" in error["message"]
