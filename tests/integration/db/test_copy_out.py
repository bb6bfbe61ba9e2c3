"""``copy_out`` writes its parameters into the ``COPY`` statement itself: the same output
as asyncpg's own inlining, without its round trips to the database."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from sqlalchemy import BigInteger, Boolean, DateTime, String, bindparam, func, select

from tests.conftest import POSTGRES_ADMIN_URL
from voxnumbers.db.direct import copy_out, inline_arguments
from voxnumbers.db.engine import Database

AWKWARD = [
    "it's",
    "back\\slash",
    "\\'",
    "two\nlines",
    '"quoted", then',
    "東京 😀",
    "$1",
    "",
]
WHEN = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def test_values_are_written_in_as_literals() -> None:
    sql = "SELECT $1::VARCHAR, $2, $3, $4, $5::TIMESTAMP WITH TIME ZONE, $1, $10"
    values: list[Any] = ["it's \\", 7, True, None, WHEN, *range(5)]
    assert inline_arguments(sql, values) == (
        "SELECT E'it\\'s \\\\'::VARCHAR, 7, TRUE, NULL,"
        " E'2026-01-02T03:04:05.678901+00:00'::TIMESTAMP WITH TIME ZONE, E'it\\'s \\\\', 4"
    )


@pytest.mark.parametrize(
    "value", [Decimal("1.5"), 1.5, datetime(2026, 1, 2), b"bytes", "nul\x00", ["a"]]
)
def test_other_values_are_left_to_asyncpg(value: Any) -> None:
    """Types this does not write (and text PostgreSQL refuses) keep asyncpg's inlining."""
    assert inline_arguments("SELECT $1", [value]) is None


@pytest.mark.skipif(not POSTGRES_ADMIN_URL, reason="COPY is PostgreSQL's (CI=true runs it)")
@pytest.mark.parametrize("backend", ["postgresql"])
async def test_copy_out_reads_its_values_back_without_asking_the_database(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every awkward string, an integer past 32 bits, a boolean, NULL and a time with
    microseconds come out of the ``COPY`` as asyncpg's own inlining gives them, which is
    never asked for."""
    values: dict[str, Any] = {f"s{i}": text for i, text in enumerate(AWKWARD)}
    values.update(big=12_345_678_901, yes=True, nothing=None, when=WHEN)
    query = select(
        *(bindparam(name, type_=String) for name in values if name.startswith("s")),
        bindparam("big", type_=BigInteger),
        bindparam("yes", type_=Boolean),
        bindparam("nothing", type_=String),
        func.timezone("UTC", bindparam("when", type_=DateTime(timezone=True))),
    )
    async with database.transaction(write=False) as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert isinstance(driver, asyncpg.Connection)
        sql = str(query.compile(dialect=conn.dialect))
        expected: list[bytes] = []

        async def keep(piece: bytes) -> None:
            expected.append(piece)

        compiled = query.compile(dialect=conn.dialect)
        given = {**compiled.params, **values}
        arguments = [given[name] for name in compiled.positiontup or ()]
        await driver.copy_from_query(sql, *arguments, output=keep, format="csv")

        async def refused(*_: Any) -> str:
            raise AssertionError("asyncpg was asked to inline the values")

        monkeypatch.setattr(asyncpg.utils, "_mogrify", refused)
        found = b"".join(await copy_out(conn, query, values, format="csv"))
    assert found == b"".join(expected)
    row = next(csv.reader(io.StringIO(found.decode(), newline="")))
    assert row == [*AWKWARD, "12345678901", "t", "", "2026-01-02 03:04:05.678901"]
