"""``GET …/numbers/export``: every matching number as CSV or NDJSON, streamed."""

from __future__ import annotations

import asyncio
import csv
import gc
import io
import json
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar

from tests.api.support import NUMBER_KEYS
from tests.factories import Tenant, make_tenant
from tests.integration.numbers.test_deep_pages import owned_rows
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import applications, numbers, trunks
from voxnumbers.numbers import repository
from voxnumbers.numbers.schemas import ListOrder, NumberFilter
from voxnumbers.numbers.service import ListFilters, export, number_filter


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
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
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
    sent = {"bytes": 0}

    async def count(chunk: bytes) -> None:
        sent["bytes"] += len(chunk)

    tracemalloc.start()
    try:
        await _stream_export(app, tenant, b"format=ndjson", count)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return sent["bytes"], peak


async def _stream_export(
    app: Litestar, tenant: Tenant, query: bytes, on_chunk: Callable[[bytes], Awaitable[None]]
) -> None:
    """``GET …/numbers/export?query`` through the ASGI app, ``on_chunk`` awaited for each
    piece of the body as the server sends it (while the export is still running)."""
    started: dict[str, int] = {}
    requested, finished = asyncio.Event(), asyncio.Event()

    async def receive() -> dict:
        if not requested.is_set():
            requested.set()
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()  # the client stays until the whole body has arrived
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            started["status"] = message["status"]
        elif message["type"] == "http.response.body":
            if message.get("body"):
                await on_chunk(message["body"])
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
        "query_string": query,
        "root_path": "",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1234),
        "state": {},
        "headers": [
            (b"authorization", tenant.bearer["Authorization"].encode()),
            (b"host", b"testserver"),
        ],
    }
    await app(scope, receive, send)
    assert started == {"status": 200}


async def test_a_large_export_streams_in_constant_memory(
    app: Litestar, client, database, monkeypatch: pytest.MonkeyPatch
):
    """Four times the numbers: four times the bytes, not four times the memory (what one
    batch holds is the bound: batches of 1,000 rows here, so that the exports span many)."""
    monkeypatch.setattr(export, "BATCH_ROWS", 1_000)
    small, large = await make_tenant(database, "Small"), await make_tenant(database, "Large")
    await _stock_owned(database, small, 3_000)
    await _stock_owned(database, large, 12_000, first=3_000)
    await _export_peak(app, small)  # warm caches (compiled statements, codecs)
    small_bytes, small_peak = await _export_peak(app, small)
    large_bytes, large_peak = await _export_peak(app, large)
    assert large_bytes > 3.5 * small_bytes
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)
    assert large_peak < large_bytes, (large_peak, large_bytes)


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
async def test_an_export_holds_one_connection_and_one_snapshot(
    app: Litestar, database: Database, monkeypatch: pytest.MonkeyPatch, fmt: str
):
    """The stream reads in the request's own transaction: while it runs, the pool has one
    connection out (the key lookup's), and what is written meanwhile is not in it."""
    monkeypatch.setattr(export, "BATCH_ROWS", 500)
    tenant = await make_tenant(database)
    rows = await _stock_owned(database, tenant, 2_000)
    checked_out: list[int] = []
    body: list[bytes] = []

    async def during(chunk: bytes) -> None:
        checked_out.append(database.engine.pool.checkedout())  # type: ignore[attr-defined]
        if len(body) == 1:  # mid-stream, another client adds numbers and removes one
            later = owned_rows(tenant.account_id, 50, first=len(rows))
            async with database.transaction() as conn:
                await repository.insert_numbers(
                    conn, [{**row, "status": "active", "created_at": _LATE} for row in later]
                )
                await conn.execute(numbers.delete().where(numbers.c.e164 == _listed(rows)[-1]))
        body.append(chunk)

    await _stream_export(app, tenant, f"format={fmt}".encode(), during)
    assert len(checked_out) > 3 and set(checked_out) == {1}, checked_out
    assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    lines = b"".join(body).decode().splitlines()
    if fmt == "csv":
        exported = [line.split(",")[0] for line in lines[1:]]
    else:
        exported = [json.loads(line)["e164"] for line in lines]
    assert exported == _listed(rows)


_LATE = datetime(2030, 1, 1, tzinfo=UTC)


# Values that test the encoders' edges: quoting and escaping, empty strings, non-ASCII.
_REGIONS = [
    "",
    "Île-de-France",
    'Say "hi"',
    "a,b",
    "two\nlines",
    "carriage\rreturn",
    "back\\slash",
    "tab\tand\x01control\x1f",
    " padded ",
    "東京",
    "line\u2028separator",
    "emoji 😀",
    "null",
    '"',
    ",",
]
_FEES = [0, 1, 5, 10, 99, 100, 125, 1999, 123456]
_TRUNK, _APPLICATION = 'trunk_"odd,1', "app_new\nline"
# Values mostly left unquoted in CSV, some quoted all the same: on PostgreSQL a batch with
# no quoted value finds its last number in its last line, another reads it from the index.
_ORDINARY_REGIONS = [
    "CA",
    "",
    "record\x1eseparator",  # a control character, left bare by CSV
    "Île-de-France",
    'Say "hi"',
    "a,b",
    "back\\slash",
    "東京",
    "emoji 😀",
]


async def _stock_awkward(
    database: Database, tenant: Tenant, count: int, *, ordinary: bool = False
) -> None:
    """``count`` numbers with every awkward value above, in few distinct purchase times (so
    that batches end inside runs of equal times), some with microseconds (PostgreSQL keeps
    them; SQLite stores seconds). ``ordinary``: the values of ``_ORDINARY_REGIONS`` and plain
    ids instead, one batch with a region CSV quotes, the others with none."""
    stamp = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    regions = _ORDINARY_REGIONS if ordinary else _REGIONS
    trunk, application = ("trk_plain", "app_plain") if ordinary else (_TRUNK, _APPLICATION)
    async with database.transaction() as conn:
        for table, values in (
            (trunks, {"id": trunk, "auth_type": "ip", "origination_uris": []}),
            (applications, {"id": application}),
        ):
            await conn.execute(
                table.insert().values(
                    account_id=tenant.account_id,
                    name="x",
                    created_at=stamp,
                    updated_at=stamp,
                    **values,
                )
            )
        rows = []
        for i in range(count):
            created = stamp + timedelta(days=i % 4, microseconds=(i % 3) * 250_000)
            route = i % 3
            rows.append(
                {
                    "e164": f"+1415555{i:04d}",
                    "account_id": tenant.account_id,
                    "country": ["US", "GB", "DE"][i % 3],
                    "type": ["local", "toll_free", "mobile"][i % 3],
                    "region": regions[i % len(regions)] if not ordinary or i < 7 else "CA",
                    "capabilities": i % 8,
                    "monthly_fee_cents": _FEES[i % len(_FEES)],
                    "setup_fee_cents": _FEES[(i * 5) % len(_FEES)],
                    "needs_provisioning": False,
                    "status": ["active", "pending", "suspended", "active", "released"][i % 5],
                    "trunk_id": trunk if route == 1 else None,
                    "application_id": application if route == 2 else None,
                    "created_at": created,
                    "updated_at": created + timedelta(hours=i % 7, seconds=i),
                    "released_at": None,
                    "available_after": stamp + timedelta(days=3650),
                    "previous_trunk_id": None,
                    "previous_application_id": None,
                }
            )
        if not ordinary:  # A number the API would refuse, stored all the same, needing quotes.
            rows.append({**rows[0], "e164": '+1"5,5\r'})
        await repository.insert_numbers(conn, rows)


@pytest.mark.parametrize("ordinary", [False, True], ids=["awkward", "ordinary"])
@pytest.mark.parametrize(
    "query",
    [
        {},
        {"sort": "-created_at"},
        {"sort": "e164"},
        {"sort": "-updated_at", "country": "us"},
        {"status": "released"},
        {"routed": "true", "capabilities": "voice"},
    ],
)
async def test_exported_bytes_are_the_number_objects_across_batches(
    client,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    query: dict[str, str],
    ordinary: bool,
):
    """Both formats, with batches of 7 rows and slices of 3: every row, once, in order,
    byte for byte what the number object of the list gives through the definition of the
    format (``csv.writer`` of its fields; the API's JSON). On PostgreSQL a batch of awkward
    values, whose CSV lines the database writes, takes its last number from the index; one
    of ordinary values, from its last line."""
    monkeypatch.setattr(export, "BATCH_ROWS", 7)
    monkeypatch.setattr(export, "_SLICE_ROWS", 3)
    tenant = await make_tenant(database)
    await _stock_awkward(database, tenant, 120, ordinary=ordinary)
    if "capabilities" in query:
        query = {**{k: v for k, v in query.items() if k != "capabilities"}, "capability": "voice"}
    filters = ListFilters(
        country=query.get("country"),
        status=query.get("status"),
        routed=query["routed"] == "true" if "routed" in query else None,
        capabilities=(query["capability"],) if "capability" in query else (),
    )
    async with database.transaction(write=False) as conn:
        expected, _ = await repository.page_of_numbers(
            conn,
            tenant.account_id,
            number_filter(filters),
            limit=1_000,
            order=ListOrder.parse(query.get("sort", "created_at")),
        )
    assert 10 < len(expected) < 120
    csv_expected = export.reference_csv_line(export.EXPORT_COLUMNS) + b"".join(
        export.reference_csv_line(export.reference_csv_fields(number)) for number in expected
    )
    json_expected = b"".join(export.reference_json_line(number) for number in expected)
    for fmt, wanted in (("csv", csv_expected), ("ndjson", json_expected)):
        r = await client.get(
            tenant.path("/numbers/export"), params={**query, "format": fmt}, headers=tenant.bearer
        )
        assert r.status_code == 200
        assert r.content == wanted, fmt


def test_csv_lines_are_csv_writers_except_that_a_lone_cr_is_quoted():
    """The CSV of exports written before: ``csv.writer`` with ``\n`` line ends, the same
    bytes for every field but one holding a carriage return and nothing else quoted (which
    ``csv.writer`` of Python 3.11 leaves bare, ending the row for a reader)."""
    for region in [*_REGIONS, "a\rb,c", "\r\n"]:
        fields = ["+14155550100", region, "", "voice|sms", "1.00", "2026-01-02T03:04:05Z"]
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(fields)
        line = export.reference_csv_line(fields)
        if "\r" in region and not any(mark in region for mark in ',"\n'):
            assert line == out.getvalue().replace(region, f'"{region}"').encode()
        else:
            assert line == out.getvalue().encode(), region
        assert next(csv.reader(io.StringIO(line.decode(), newline=""))) == fields


async def test_a_client_leaving_mid_export_gives_the_connection_back(
    app: Litestar,
    client,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
):
    """The client hangs up after the first chunk: the export stops (a batch being read is
    read to its end first), the request's connection goes back to the pool, nothing goes
    wrong unseen (no task's error left for the event loop to log), and the next export is
    whole."""
    monkeypatch.setattr(export, "BATCH_ROWS", 300)
    tenant = await make_tenant(database)
    rows = await _stock_owned(database, tenant, 3_000)
    loop = asyncio.get_running_loop()
    unseen: list[str] = []
    loop.set_exception_handler(lambda _, context: unseen.append(str(context.get("exception"))))
    request.addfinalizer(lambda: loop.set_exception_handler(None))
    for fmt in ("csv", "ndjson"):
        left = asyncio.Event()
        sent: list[bytes] = []

        async def receive() -> dict:
            await left.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict, sent: list[bytes] = sent, left: asyncio.Event = left) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                sent.append(message["body"])
                left.set()
                await asyncio.sleep(0.05)  # the server notices the disconnect meanwhile

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": tenant.path("/numbers/export"),
            "raw_path": b"",
            "query_string": f"format={fmt}".encode(),
            "root_path": "",
            "server": ("testserver", 80),
            "client": ("127.0.0.1", 1234),
            "state": {},
            "headers": [(b"authorization", tenant.bearer["Authorization"].encode())],
        }
        await app(scope, receive, send)
        assert 1 <= len(sent) < 10
        # Back in the pool, possibly a moment after the response (on PostgreSQL, about one
        # run in twenty under load, the check-in was still under way when the app returned).
        for _ in range(100):
            if database.engine.pool.checkedout() == 0:  # type: ignore[attr-defined]
                break
            await asyncio.sleep(0.05)
        assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        r = await client.get(
            tenant.path("/numbers/export"), params={"format": fmt}, headers=tenant.bearer
        )
        assert r.status_code == 200
        assert len(r.text.splitlines()) == len(_listed(rows)) + (fmt == "csv")
    gc.collect()  # what the server dropped unclosed is finalized now
    await asyncio.sleep(0.1)  # and its finalizers run
    assert unseen == []


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
async def test_the_event_loop_gets_a_turn_after_every_chunk(
    database: Database, monkeypatch: pytest.MonkeyPatch, fmt: str
):
    """However fast the consumer, writing a batch out gives the event loop a turn after
    each chunk: the batch read ahead comes in meanwhile, and other requests go on (an
    export never holds the loop for more than a slice)."""
    monkeypatch.setattr(export, "BATCH_ROWS", 7)
    monkeypatch.setattr(export, "_SLICE_ROWS", 3)
    tenant = await make_tenant(database)
    await _stock_owned(database, tenant, 40)
    turns = 0

    async def count_turns() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    counter = asyncio.create_task(count_turns())
    turns_before: list[int] = []
    try:
        async with database.transaction(write=False) as conn:
            chunks = export.export_numbers(
                conn,
                tenant.account_id,
                number_filter(ListFilters()),
                ListOrder.parse("created_at"),
                fmt,
            )
            try:
                async for _ in chunks:  # never waits for anything
                    turns_before.append(turns)
            finally:
                await chunks.aclose()
    finally:
        counter.cancel()
    first = 1 if fmt == "csv" else 0  # the header comes before any batch
    assert len(turns_before) - first > 3  # chunks (a CSV batch on PostgreSQL is one)
    steps = list(zip(turns_before[first:], turns_before[first + 1 :], strict=False))
    assert all(after > before for before, after in steps), turns_before


async def _stock_with_region_in_the_second_batch(
    database: Database, tenant: Tenant, region: str
) -> tuple[NumberFilter, ListOrder]:
    """Twenty-odd listed numbers, the fifteenth by number (in the second batch of ten) in
    ``region``; the list's filter and the order by number."""
    await _stock_owned(database, tenant, 32)
    listed, order = number_filter(ListFilters()), ListOrder.parse("e164")
    async with database.transaction(write=False) as conn:
        before, _ = await repository.page_of_numbers(
            conn, tenant.account_id, listed, limit=25, order=order
        )
    async with database.transaction() as conn:
        odd = numbers.c.e164 == before[14].e164
        await conn.execute(numbers.update().where(odd).values(region=region))
    return listed, order


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(
    ("region", "plain"),
    [
        ("Île-de-France, 東京", True),
        ("record\x1eseparator", True),  # the region is the last of its field's values
        ('Say "hi"', False),
        ("two\nlines", False),
        ("unit\x1fseparator", False),
        ("nul\x00byte", False),
        ("a\\b", False),
        ("tab\tbell\x07", False),
    ],
)
async def test_sqlite_reads_a_batch_as_plain_text_unless_a_value_is_not_plain(
    database: Database, monkeypatch: pytest.MonkeyPatch, region: str, plain: bool
):
    """On SQLite every batch is one plain text written by the database; a batch with a value
    that text cannot hold plainly (a quote, a line break, the field separator, a NUL, a
    backslash, another control character) is read again as stored, and the next batch is
    plain again. Either way the export is byte for byte the definition's."""
    tenant = await make_tenant(database)
    listed_now, order = await _stock_with_region_in_the_second_batch(database, tenant, region)
    async with database.transaction(write=False) as conn:
        batches = [
            batch
            async for batch in repository.stored_batches(
                conn, tenant.account_id, listed_now, order, 10
            )
        ]
        listed, _ = await repository.page_of_numbers(
            conn, tenant.account_id, listed_now, limit=100, order=order
        )
    assert 20 < len(listed) < 30
    assert [(len(batch.fields), len(batch.rows)) for batch in batches] == [
        (40, 0),
        (40, 0) if plain else (0, 10),
        (4 * (len(listed) - 20), 0),
    ]
    numbers_read = [
        *batches[0].fields[::4],
        *(batches[1].fields[::4] if plain else [row[0] for row in batches[1].rows]),
        *batches[2].fields[::4],
    ]
    assert numbers_read == [number.e164 for number in listed]
    assert listed[14].region == region

    monkeypatch.setattr(export, "BATCH_ROWS", 10)
    monkeypatch.setattr(export, "_SLICE_ROWS", 4)
    for fmt, line in (("csv", _csv_line_of), ("ndjson", export.reference_json_line)):
        async with database.transaction(write=False) as conn:
            chunks = export.export_numbers(conn, tenant.account_id, listed_now, order, fmt)
            try:
                got = b"".join([chunk async for chunk in chunks])
            finally:
                await chunks.aclose()
        header = export.reference_csv_line(export.EXPORT_COLUMNS) if fmt == "csv" else b""
        assert got == header + b"".join(line(number) for number in listed), fmt


def _csv_line_of(number: Any) -> bytes:
    return export.reference_csv_line(export.reference_csv_fields(number))


async def test_a_number_holding_a_comma_is_quoted_as_the_definition_does(database: Database):
    """None the API stores; the plain text holds it plainly, and the CSV quotes it."""
    tenant = await make_tenant(database)
    rows = await _stock_owned(database, tenant, 12)
    odd = next(row["e164"] for row in rows if row["status"] != "released")
    async with database.transaction() as conn:
        await conn.execute(
            numbers.update().where(numbers.c.e164 == odd).values(e164=odd[:6] + "," + odd[6:])
        )
    everything, order = number_filter(ListFilters()), ListOrder.parse("created_at")
    async with database.transaction(write=False) as conn:
        listed, _ = await repository.page_of_numbers(
            conn, tenant.account_id, everything, limit=100, order=order
        )
        chunks = export.export_numbers(conn, tenant.account_id, everything, order, "csv")
        try:
            got = b"".join([chunk async for chunk in chunks])
        finally:
            await chunks.aclose()
    assert any("," in number.e164 for number in listed)
    header = export.reference_csv_line(export.EXPORT_COLUMNS)
    assert got == header + b"".join(_csv_line_of(number) for number in listed)


@pytest.mark.parametrize("backend", ["postgresql"])
@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
async def test_postgresql_sends_a_batch_as_plain_columns_unless_a_value_is_quoted(
    database: Database, fmt: str
):
    """On PostgreSQL every batch is one COPY of plain columns, which the service writes into
    lines; a batch with a value COPY has to quote comes again as the lines the database
    writes, and the next batch is plain again."""
    tenant = await make_tenant(database)
    listed_now, order = await _stock_with_region_in_the_second_batch(database, tenant, 'Say "hi"')
    async with database.transaction(write=False) as conn:
        batches = [
            batch
            async for batch in repository.exported_batches(
                conn, tenant.account_id, listed_now, order, fmt, 10
            )
        ]
        listed, _ = await repository.page_of_numbers(
            conn, tenant.account_id, listed_now, limit=100, order=order
        )
    assert 20 < len(listed) < 30
    assert [batch.lines is None for batch in batches] == [True, False, True]
    assert [batch.plain.count(b"\n") for batch in batches] == [10, 0, len(listed) - 20]
    lines = b"".join(batches[1].lines or [])
    quoted = b'Say ""hi""' if fmt == "csv" else b'Say \\"hi\\"'
    assert lines.count(b"\n") == 10 and quoted in lines
