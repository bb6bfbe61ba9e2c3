"""``GET /metrics``: Prometheus text, requests counted by route template and status."""

from __future__ import annotations

from tests.factories import US_NUMBERS, make_tenant


async def test_requests_are_counted_by_route_template_not_raw_path(client, database):
    tenant = await make_tenant(database)
    await client.get(tenant.path("/numbers"), headers=tenant.bearer)
    await client.get(tenant.path(f"/numbers/{US_NUMBERS[0]}"), headers=tenant.bearer)
    await client.get("/no/such/route")
    r = await client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert (
        'voxnumbers_requests_total{method="GET",route="/v1/account/{account_id}/numbers",'
        'status="200"} 1.0' in text
    )
    assert 'route="/v1/account/{account_id}/numbers/{e164}",status="404"' in text
    assert 'route="unmatched",status="404"' in text
    assert "voxnumbers_request_duration_seconds_bucket" in text
    assert tenant.account_id not in text and US_NUMBERS[0] not in text
