"""Streamed exports: lazy, line by line or in bytes, CSV or NDJSON, sync and async."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fake_api import ACCOUNT_ID, API_KEY, NUMBER_KEYS, DualStream, FakeTryVox

from conftest import raw_target
from voxnumbers_client import (
    AsyncClient,
    Client,
    ExportStream,
    ValidationFailedError,
    VoxConnectionError,
)


def test_csv_export_streams_lines(client: Client, fake: FakeTryVox) -> None:
    with client.numbers.export(format="csv", country="US", status="suspended") as export:
        lines = list(export.iter_lines())
        assert export.content_type == "text/csv"

    request = fake.requests[0]
    assert raw_target(request) == (
        "/v1/account/acc_123abc/numbers/export?format=csv&country=US&status=suspended"
    )
    assert request.headers["Accept"].startswith("text/csv")
    rows = list(csv.DictReader(lines))
    assert tuple(rows[0]) == NUMBER_KEYS
    assert len(rows) == 4 and {r["status"] for r in rows} == {"suspended"}


def test_ndjson_export(client: Client) -> None:
    rows = [json.loads(line) for line in client.numbers.export(format="ndjson")]
    assert len(rows) == 47
    assert tuple(rows[0]) == NUMBER_KEYS


def test_nothing_is_sent_until_the_stream_is_used(client: Client, fake: FakeTryVox) -> None:
    export = client.numbers.export()
    assert isinstance(export, ExportStream)
    assert fake.requests == []


def test_the_body_is_read_as_it_is_consumed(client: Client, fake: FakeTryVox) -> None:
    with client.numbers.export(format="ndjson") as export:
        lines = export.iter_lines()
        next(lines)
        next(lines)
        assert fake.export_chunks_sent < 10


def test_iter_bytes_writes_a_file(client: Client, tmp_path: Path) -> None:
    target = tmp_path / "numbers.csv"
    with client.numbers.export(format="csv") as export, target.open("wb") as out:
        for chunk in export.iter_bytes():
            out.write(chunk)
        read = export.bytes_read
    assert read == target.stat().st_size
    assert target.read_bytes().count(b"\n") == 48


def test_a_connection_lost_mid_export_is_a_connection_error(fake: FakeTryVox) -> None:
    def cut(request: httpx.Request) -> httpx.Response:
        def chunks() -> Iterator[bytes]:
            yield b"e164,country\r\n"
            raise httpx.ReadError("connection reset", request=request)

        return httpx.Response(200, stream=DualStream(chunks))

    client = Client(API_KEY, account_id=ACCOUNT_ID, transport=httpx.MockTransport(cut))
    with client, client.numbers.export() as export, pytest.raises(VoxConnectionError):
        list(export.iter_lines())


def test_export_errors_are_raised_when_opened(client: Client) -> None:
    export = client.numbers.export(format="xml")  # type: ignore[arg-type]
    with pytest.raises(ValidationFailedError) as raised:
        export.open()
    assert raised.value.details[0].field == "format"


async def test_async_export(async_client: AsyncClient, fake: FakeTryVox) -> None:
    async with async_client.numbers.export(format="ndjson", country="IN") as export:
        rows = [json.loads(line) async for line in export]
    assert [r["e164"] for r in rows] == ["+919876543210"]

    chunks = [c async for c in async_client.numbers.export(format="csv").aiter_bytes()]
    assert b"".join(chunks).count(b"\n") == 48
