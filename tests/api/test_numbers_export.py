"""``GET …/numbers/export``: every matching number as CSV or NDJSON, streamed."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import tracemalloc

from litestar import Litestar

from tests.api.support import NUMBER_KEYS
from tests.factories import Tenant, make_tenant
from tests.integration.numbers.test_deep_pages import owned_rows
from voxnumbers.kit.db import Database
from voxnumbers.numbers import repository


async def _stock_owned(
    database: Database, tenant: Tenant, count: int, first: int = 0
) -> list[dict]:
    rows = owned_rows(tenant.account_id, count, first=first)
    async with database.transaction() as conn:
        for start in range(0, count, 5000):
            await repository.insert_numbers(conn, rows[start : start + 5000])
    return rows


def _listed(rows: list[dict], country: str | None = None) -> list[str]:
    shown = [r for r in rows if r["status"] != "released" and country in (None, r["country"])]
    return [r["e164"] for r in sorted(shown, key=lambda r: (r["created_at"], r["e164"]))]


async def test_csv_export_has_a_header_and_every_matching_number(client, database):
    tenant = await make_tenant(database)
    rows = await _stock_owned(database, tenant, 2500)
    r = await client.get(
        tenant.path("/numbers/export?format=csv&country=US"), headers=tenant.bearer
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="numbers.csv"' in r.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert list(table[0]) == NUMBER_KEYS
    assert [row["e164"] for row in table] == _listed(rows, "US")
    first = table[0]
    assert first["monthly_fee"] == "1.00" and first["currency"] == "USD"
    assert first["capabilities"] == "voice" and first["trunk_id"] == ""
    assert first["created_at"].endswith("Z")


async def test_ndjson_export_is_one_number_object_per_line(client, database):
    tenant = await make_tenant(database)
    rows = await _stock_owned(database, tenant, 1200)
    r = await client.get(
        tenant.path("/numbers/export?format=ndjson&sort=-created_at"), headers=tenant.bearer
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-ndjson"
    lines = r.text.splitlines()
    numbers = [json.loads(line) for line in lines]
    assert [n["e164"] for n in numbers] == list(reversed(_listed(rows)))
    assert all(list(n) == NUMBER_KEYS for n in numbers)


async def test_bad_exports_are_refused_before_anything_is_streamed(client, database):
    tenant = await make_tenant(database)
    for query, field in [("format=xml", "format"), ("country=XX", "country"), ("page=2", "page")]:
        r = await client.get(tenant.path(f"/numbers/export?{query}"), headers=tenant.bearer)
        assert r.status_code == 400, query
        assert r.json()["error"]["details"][0]["field"] == field
    other = await make_tenant(database, "Other")
    r = await client.get(other.path("/numbers/export"), headers=tenant.bearer)
    assert r.status_code == 403


async def _export_peak(app: Litestar, tenant: Tenant) -> tuple[int, int]:
    """Drive the ASGI app directly, dropping each chunk as it is sent; returns the bytes
    exported and the most memory held at once while exporting."""
    sent = {"bytes": 0, "status": 0}
    requested, finished = asyncio.Event(), asyncio.Event()

    async def receive() -> dict:
        if not requested.is_set():
            requested.set()
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()  # the client stays until the whole body has arrived
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            sent["status"] = message["status"]
        elif message["type"] == "http.response.body":
            sent["bytes"] += len(message.get("body", b""))
            if not message.get("more_body", False):
                finished.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": tenant.path("/numbers/export"),
        "raw_path": b"",
        "query_string": b"format=ndjson",
        "root_path": "",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1234),
        "state": {},
        "headers": [
            (b"authorization", tenant.bearer["Authorization"].encode()),
            (b"host", b"testserver"),
        ],
    }
    tracemalloc.start()
    try:
        await app(scope, receive, send)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sent["status"] == 200
    return sent["bytes"], peak


async def test_a_large_export_streams_in_constant_memory(app: Litestar, client, database):
    """Four times the numbers: four times the bytes, not four times the memory."""
    small, large = await make_tenant(database, "Small"), await make_tenant(database, "Large")
    await _stock_owned(database, small, 3_000)
    await _stock_owned(database, large, 12_000, first=3_000)
    await _export_peak(app, small)  # warm caches (compiled statements, codecs)
    small_bytes, small_peak = await _export_peak(app, small)
    large_bytes, large_peak = await _export_peak(app, large)
    assert large_bytes > 3.5 * small_bytes
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)
    assert large_peak < large_bytes, (large_peak, large_bytes)
