"""The export: every number a list filter matches, as CSV (with a header) or NDJSON.

Both formats are the number object of the list, key for key: CSV with its keys as the
header row, capabilities joined with ``|``, money with two decimals, times as ISO 8601 UTC
with ``Z`` to the second, nothing for ``null``, RFC 4180 quoting; NDJSON one
object per line, as the API encodes it (``kit.jsonc``).

It streams in batches of rows read in one snapshot, each batch turned into bytes at once,
not row by row through the number object, the next batch read while the last one is sent.
On PostgreSQL a batch is one ``COPY`` of plain columns (``repository.exported_batches``),
or, when a value would not be plain, of the lines the database writes, passed on as they
are.
On SQLite a batch comes as one plain text written by the database on a worker thread
(``repository.stored_batches``), or as the rows as stored when a value would not be plain.
The lines of plain text are written here, one f-string a row with lookups for what
repeats (profiles, routings, days); SQLite's rows as stored with lookups too, NDJSON's with
one ``msgspec`` call per slice.
``reference_csv_line`` and ``reference_json_line`` are the definition every path is tested
against.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Sequence,
)
from datetime import UTC, datetime
from functools import cache, partial
from typing import Any, TypeVar

import anyio
import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.kit.clock import iso_z
from voxnumbers.kit.jsonc import encode_json
from voxnumbers.kit.money import CURRENCY, cents_to_decimal
from voxnumbers.numbers import repository
from voxnumbers.numbers.schemas import ListOrder, Number, NumberFilter
from voxnumbers.vocabulary import to_list

T = TypeVar("T")
EXPORT_COLUMNS = tuple(Number.__struct_fields__)
# The media type each format is sent as (Litestar adds "; charset=utf-8" to text/ types).
EXPORT_MEDIA_TYPES = {"csv": "text/csv", "ndjson": "application/x-ndjson"}
# Rows per batch: what one export holds in memory at most (about 2.5 MB of CSV, 6 MB of
# NDJSON); large enough that a batch's own cost (a key lookup, a statement) stays small.
BATCH_ROWS = 20_000
# Bytes handed to the server at once.
CHUNK_BYTES = 256 * 1024


async def export_numbers(
    conn: AsyncConnection, account_id: str, where: NumberFilter, order: ListOrder, fmt: str
) -> AsyncGenerator[bytes, None]:
    """Every matching number in ``order``, as ``fmt`` (``csv`` or ``ndjson``), in chunks of
    at most about ``CHUNK_BYTES``; every statement runs in ``conn``'s transaction.

    A batch being read is never cancelled halfway (the server cancels a stream whose client
    left): it finishes, then the export stops. Close the iterator (``aclose``) before the
    transaction ends, so that nothing runs on ``conn`` any more."""
    if fmt == "csv":
        yield reference_csv_line(EXPORT_COLUMNS)
    if conn.dialect.name == "postgresql":
        read: AsyncGenerator[Any, None] = repository.exported_batches(
            conn, account_id, where, order, fmt, BATCH_ROWS
        )
        chunks: Callable[[Any], Iterable[bytes]] = partial(_postgresql_chunks, fmt)
    else:
        read = repository.stored_batches(conn, account_id, where, order, BATCH_ROWS)
        chunks = partial(_stored_chunks, fmt)
    async with _closed(_read_ahead(read)) as batches:
        async for batch in batches:
            await asyncio.sleep(0)  # the next batch's read starts before this one is written
            for chunk in chunks(batch):
                yield chunk
                # A turn for the event loop after each chunk, whatever the client's pace:
                # the batch read ahead comes in meanwhile (its COPY's output, SQLite's rows
                # from their thread), and other requests are served.
                await asyncio.sleep(0)


def _postgresql_chunks(fmt: str, batch: repository.ExportBatch) -> Iterator[bytes]:
    """A batch of PostgreSQL's in chunks: the lines it wrote, or its plain text written
    into lines a slice at a time."""
    if batch.lines is not None:
        yield from _chunked(batch.lines)
        return
    # Every field of the batch, row after row, split at once (one call, not one a row):
    # lines end where fields do.
    fields = batch.plain.decode().replace("\n", _SEPARATOR).split(_SEPARATOR)
    fields.pop()  # after the last line's end
    write = _plain_csv_lines if fmt == "csv" else _plain_json_lines
    for start in range(0, len(fields), _SLICE_ROWS * 5):
        yield write(fields[start : start + _SLICE_ROWS * 5])


def _stored_chunks(fmt: str, batch: repository.StoredBatch) -> Iterator[bytes]:
    """A batch of SQLite's in chunks: its plain fields, or its rows as stored, written into
    lines a slice at a time (memory follows the slice)."""
    if batch.rows:
        encode = _csv_lines if fmt == "csv" else _json_lines
        for start in range(0, len(batch.rows), _SLICE_ROWS):
            yield encode(batch.rows[start : start + _SLICE_ROWS])
        return
    write = _stored_plain_csv_lines if fmt == "csv" else _stored_plain_json_lines
    width = _SLICE_ROWS * repository.STORED_PLAIN_FIELDS
    for start in range(0, len(batch.fields), width):
        yield write(batch.fields[start : start + width])


async def _read_ahead(batches: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
    """``batches``, the next one read (in a task of its own) while the one before is sent:
    the database reads a batch while the server writes the last one out.

    Only that task uses the connection, one statement at a time. Each read is shielded from
    cancellation (a statement cancelled halfway leaves the driver's connection busy, or
    SQLite's reading on a worker thread, when the transaction ends): when this is closed,
    early or not, the read in flight finishes first, then ``batches`` is closed (``async
    for`` closes neither). The response's source is closed by the unit of work before the
    transaction ends (``UnitOfWork.streaming``), never by the garbage collector."""
    async with _closed(batches):
        reading = asyncio.ensure_future(anext(batches, None))
        try:
            while (batch := await asyncio.shield(reading)) is not None:
                reading = asyncio.ensure_future(anext(batches, None))
                yield batch
        finally:
            with anyio.CancelScope(shield=True):
                await asyncio.wait([reading])
            if not reading.cancelled():
                reading.exception()  # read when the export ended otherwise: not re-raised


@contextlib.asynccontextmanager
async def _closed(generator: AsyncGenerator[T, None]) -> AsyncIterator[AsyncGenerator[T, None]]:
    """``generator``, closed at the end of the block even when the block ends because the
    stream was cancelled (where ``contextlib.aclosing``'s own ``await`` would be cancelled
    at once, leaving the generator's cleanup undone)."""
    try:
        yield generator
    finally:
        with anyio.CancelScope(shield=True):
            await generator.aclose()


_SLICE_ROWS = 2000  # about 230 KB of CSV


def _chunked(pieces: list[bytes]) -> Iterable[bytes]:
    """``pieces`` joined into chunks of about ``CHUNK_BYTES`` (COPY's pieces are small)."""
    group: list[bytes] = []
    size = 0
    for piece in pieces:
        group.append(piece)
        size += len(piece)
        if size >= CHUNK_BYTES:
            yield b"".join(group)
            group, size = [], 0
    if group:
        yield b"".join(group)


# -- the definition ----------------------------------------------------------------------


def reference_csv_line(fields: Iterable[str]) -> bytes:
    """One CSV line as the export writes it: RFC 4180 quoting (a field holding a comma, a
    double quote or a line break, CR or LF, is quoted, its quotes doubled), ``\\n`` line
    ends. That is ``csv.writer``'s minimal quoting, and PostgreSQL's ``COPY … CSV``; unlike
    ``csv.writer`` of Python 3.11 with ``\\n`` line ends, a lone CR is quoted too, so that a
    reader does not end the row there."""
    return (",".join(_csv_field(field) for field in fields) + "\n").encode()


def _csv_field(field: str) -> str:
    if any(mark in field for mark in _QUOTED):
        return '"' + field.replace('"', '""') + '"'
    return field


_QUOTED = (",", '"', "\n", "\r")


def reference_csv_fields(number: Number) -> list[str]:
    """The CSV fields of a number object, in ``EXPORT_COLUMNS`` order."""
    values = []
    for name in EXPORT_COLUMNS:
        value = getattr(number, name)
        if value is None:
            values.append("")
        elif isinstance(value, list):
            values.append("|".join(value))
        elif isinstance(value, datetime):
            values.append(iso_z(value))
        else:
            values.append(str(value))
    return values


def reference_json_line(number: Number) -> bytes:
    """One NDJSON line: the number object as the API encodes it."""
    return encode_json(number) + b"\n"


# -- SQLite: rows as stored to lines ------------------------------------------------------
# A row: e164, country, type, region, status, capabilities (mask), monthly and setup fee
# (cents), trunk_id, application_id, created_at and updated_at (Unix seconds).


def _csv_lines(rows: Sequence[Sequence[Any]]) -> bytes:
    """The CSV lines of ``rows``, by lookups only (about a microsecond a row): the values
    that repeat looked up together, in a table of their CSV text (the profile, from the
    country to the currency, and the routing), a time in three (its day, minute and
    second); the numbers are checked together (a slice with a number that needs quoting,
    none the API stores, is written field by field)."""
    numbers = "".join([row[0] for row in rows])
    if any(mark in numbers for mark in _QUOTED):
        return b"".join(reference_csv_line(_csv_fields(row)) for row in rows)
    profiles, routings = _lookup_table(_stored_csv_profile), _lookup_table(_stored_csv_routing)
    days, minutes, seconds = _csv_clock()
    return "".join(
        [
            f"{e164},{profiles[country, type_, region, status, mask, monthly, setup]},"
            f"{routings[trunk, application]},"
            f"{days[created // 86400]}{minutes[created % 86400 // 60]}{seconds[created % 60]},"
            f"{days[updated // 86400]}{minutes[updated % 86400 // 60]}{seconds[updated % 60]}\n"
            for (
                e164,
                country,
                type_,
                region,
                status,
                mask,
                monthly,
                setup,
                trunk,
                application,
                created,
                updated,
            ) in rows
        ]
    ).encode()


@cache
def _lookup_table(compute: Callable[[Any], Any]) -> _Lookup:
    """The table of ``compute``'s answers, shared by every export of the process."""
    return _Lookup(compute)


def _stored_csv_profile(profile: tuple[str, str, str, str, int, int, int]) -> str:
    """A profile as stored (country, type, region, status, capabilities' mask, fees in
    cents) as the CSV's fields from the country to the currency."""
    return ",".join([_csv_field(field) for field in _profile_texts(*profile)])


def _stored_csv_routing(routing: tuple[str | None, str | None]) -> str:
    return ",".join([_csv_field(value or "") for value in routing])


def _profile_texts(
    country: str, type_: str, region: str, status: str, mask: int, monthly: int, setup: int
) -> list[str]:
    """A profile as the CSV's fields from the country to the currency, unquoted."""
    fees = _fee_texts()
    return [
        country,
        type_,
        region,
        status,
        _CAPABILITY_TEXT[mask],
        fees[monthly],
        fees[setup],
        CURRENCY,
    ]


def _csv_fields(row: Sequence[Any]) -> list[str]:
    e164, country, type_, region, status, mask, monthly, setup, trunk, application = row[:10]
    days, minutes, seconds = _csv_clock()

    def when(moment: int) -> str:
        day: str = days[moment // 86400]
        return day + minutes[moment % 86400 // 60] + seconds[moment % 60]

    return [
        e164,
        *_profile_texts(country, type_, region, status, mask, monthly, setup),
        trunk or "",
        application or "",
        when(row[10]),
        when(row[11]),
    ]


_CAPABILITY_TEXT = tuple("|".join(to_list(mask)) for mask in range(8))


class _ExportedNumber(msgspec.Struct, gc=False):
    """The number object's keys in its order, with what repeats already encoded. Not
    tracked by the garbage collector (it holds text only, so no cycle): a slice makes
    thousands, which would otherwise set off collections."""

    e164: str
    country: str
    type: str
    region: str
    status: str
    capabilities: msgspec.Raw
    monthly_fee: msgspec.Raw
    setup_fee: msgspec.Raw
    currency: str
    trunk_id: str | None
    application_id: str | None
    created_at: str
    updated_at: str


_ENCODER = msgspec.json.Encoder()
_CAPABILITY_JSON = tuple(msgspec.Raw(msgspec.json.encode(to_list(mask))) for mask in range(8))


def _json_lines(rows: Sequence[Sequence[Any]]) -> bytes:
    """The NDJSON lines of ``rows``, one ``msgspec`` call for all of them (its strings are
    escaped as the API's encoder escapes them: it is the same encoder)."""
    caps, fees, days, minutes, seconds = _CAPABILITY_JSON, _fee_raws(), *_json_clock()
    return _ENCODER.encode_lines(
        [
            _ExportedNumber(
                e164,
                country,
                type_,
                region,
                status,
                caps[mask],
                fees[monthly],
                fees[setup],
                CURRENCY,
                trunk,
                application,
                days[created // 86400] + minutes[created % 86400 // 60] + seconds[created % 60],
                days[updated // 86400] + minutes[updated % 86400 // 60] + seconds[updated % 60],
            )
            for (
                e164,
                country,
                type_,
                region,
                status,
                mask,
                monthly,
                setup,
                trunk,
                application,
                created,
                updated,
            ) in rows
        ]
    )


# -- PostgreSQL: plain COPY text to lines ---------------------------------------------------
# A row: the five plain columns of ``repository.exported_batches`` separated by
# ``PLAIN_SEPARATOR``: the number, its profile and its routing (each a few values joined by
# ``PLAIN_INNER``, looked up whole: an account's numbers share a handful of each), its
# times (UTC ``YYYY-MM-DD HH:MM:SS``, a fraction only when there is one). Nothing in it is
# quoted, nor needs escaping in a JSON string.

_SEPARATOR = repository.PLAIN_SEPARATOR
_INNER = repository.PLAIN_INNER


def _rows(fields: Sequence[str], width: int) -> Iterator[tuple[str, ...]]:
    """``fields`` in rows of ``width``."""
    columns = iter(fields)
    return zip(*[columns] * width, strict=True)


def _plain_json_lines(fields: list[str]) -> bytes:
    """The NDJSON lines of plain rows' ``fields`` (five a row, one after the other): a
    profile and a routing are each one lookup of their JSON, the number and the times go
    between quotes as they are (nothing in them needs escaping)."""
    profiles, routings = _lookup_table(_json_profile), _lookup_table(_json_routing)
    return "".join(
        [
            f'{{"e164":"{e164}"{profiles[profile]}{routings[routing]},"created_at":"'
            f"{f'{created[:10]}T{created[11:]}Z' if len(created) == 19 else _json_time(created)}"
            '","updated_at":"'
            f"{f'{updated[:10]}T{updated[11:]}Z' if len(updated) == 19 else _json_time(updated)}"
            '"}\n'
            for e164, profile, routing, created, updated in _rows(fields, 5)
        ]
    ).encode()


def _plain_csv_lines(fields: Sequence[str]) -> bytes:
    """The CSV lines of plain rows' ``fields`` (five a row): a profile and a routing each
    one lookup of their CSV text, the times cut to the second. A number with a comma, none
    the API stores, is quoted."""
    profiles, routings = _lookup_table(_csv_profile), _lookup_table(_csv_routing)
    return "".join(
        [
            f"{e164},{profiles[profile]},{routings[routing]},"
            f"{created[:10]}T{created[11:19]}Z,{updated[:10]}T{updated[11:19]}Z\n"
            for e164, profile, routing, created, updated in _rows(_numbers_quoted(fields, 5), 5)
        ]
    ).encode()


def _numbers_quoted(fields: Sequence[str], width: int) -> Sequence[str]:
    """Plain rows' ``fields`` (``width`` a row, the number first) with their numbers as CSV
    fields: as they are, unless one holds a comma (none the API stores)."""
    if "," not in "".join(fields[::width]):
        return fields
    quoted = list(fields)
    quoted[::width] = [_csv_field(e164) for e164 in fields[::width]]
    return quoted


def _csv_profile(plain: str) -> str:
    """A plain profile as the CSV's fields from the country to the currency."""
    country, type_, status, mask, monthly, setup, region = plain.split(_INNER, 6)
    profile = (country, type_, region, status, int(mask), int(monthly), int(setup))
    return _stored_csv_profile(profile)


def _csv_routing(plain: str) -> str:
    """A plain routing (``''`` for none) as the CSV's ``trunk_id`` and ``application_id``."""
    trunk, application = plain.split(_INNER)
    return _stored_csv_routing((trunk, application))


def _json_profile(plain: str) -> str:
    """A plain profile as the JSON of the number object's keys from ``country`` to
    ``currency``, each after a comma, as the API's encoder writes them."""
    country, type_, status, mask, monthly, setup, region = plain.split(_INNER, 6)
    text = _ENCODER.encode(
        {
            "country": country,
            "type": type_,
            "region": region,
            "status": status,
            "capabilities": _CAPABILITY_JSON[int(mask)],
            "monthly_fee": _fee_raws()[int(monthly)],
            "setup_fee": _fee_raws()[int(setup)],
            "currency": CURRENCY,
        }
    )
    return "," + text.decode()[1:-1]


def _json_routing(plain: str) -> str:
    """A plain routing (``''`` for none) as the JSON of ``trunk_id`` and ``application_id``,
    each after a comma."""
    trunk, application = plain.split(_INNER)
    text = _ENCODER.encode({"trunk_id": trunk or None, "application_id": application or None})
    return "," + text.decode()[1:-1]


def _json_time(plain: str) -> str:
    """A time with a fraction of a second as the API's encoder writes it."""
    moment = datetime.fromisoformat(plain).replace(tzinfo=UTC)
    return msgspec.json.decode(encode_json(moment), type=str)


# -- SQLite: plain fields to lines ---------------------------------------------------------
# A row: four fields, as ``repository.stored_batches`` gives them: the number, its times
# (Unix seconds), and its routing and profile as one text (trunk, application, then the
# profile of PostgreSQL's plain rows, joined by ``PLAIN_INNER``), looked up whole. No value
# holds a separator, a line break or anything a JSON string escapes.


def _stored_plain_csv_lines(fields: Sequence[str]) -> bytes:
    """The CSV lines of SQLite's plain ``fields`` (four a row): the routing and profile one
    lookup of their CSV text, a time three (its day, minute and second). A number with a
    comma, none the API stores, is quoted."""
    texts = _lookup_table(_csv_routing_profile)
    days, minutes, seconds = _csv_clock()
    return "".join(
        [
            f"{e164},{texts[routed]},"
            f"{days[(c := int(created)) // 86400]}{minutes[c % 86400 // 60]}{seconds[c % 60]},"
            f"{days[(u := int(updated)) // 86400]}{minutes[u % 86400 // 60]}{seconds[u % 60]}\n"
            for e164, created, updated, routed in _rows(_numbers_quoted(fields, 4), 4)
        ]
    ).encode()


def _csv_routing_profile(plain: str) -> str:
    """A plain routing and profile as the CSV's fields from the country to the
    application."""
    trunk, application, profile = plain.split(_INNER, 2)
    return _csv_profile(profile) + "," + _csv_routing(trunk + _INNER + application)


def _stored_plain_json_lines(fields: Sequence[str]) -> bytes:
    """The NDJSON lines of SQLite's plain ``fields`` (four a row): the routing and profile
    one lookup of their JSON, the number between quotes as it is, a time three lookups."""
    texts = _lookup_table(_json_routing_profile)
    days, minutes, seconds = _json_clock()
    return "".join(
        [
            f'{{"e164":"{e164}"{texts[routed]},"created_at":"'
            f"{days[(c := int(created)) // 86400]}{minutes[c % 86400 // 60]}{seconds[c % 60]}"
            '","updated_at":"'
            f"{days[(u := int(updated)) // 86400]}{minutes[u % 86400 // 60]}{seconds[u % 60]}"
            '"}\n'
            for e164, created, updated, routed in _rows(fields, 4)
        ]
    ).encode()


def _json_routing_profile(plain: str) -> str:
    """A plain routing and profile as the JSON of the number object's keys from
    ``country`` to ``application_id``, each after a comma."""
    trunk, application, profile = plain.split(_INNER, 2)
    return _json_profile(profile) + _json_routing(trunk + _INNER + application)


class _Lookup(dict[Any, Any]):
    """A table computed on demand: a hit is a plain ``dict`` lookup, a miss computes the
    value (remembered while the table holds fewer than ``limit``)."""

    def __init__(self, compute: Callable[[Any], Any], limit: int = 20_000) -> None:
        super().__init__()
        self._compute, self._limit = compute, limit

    def __missing__(self, key: Any) -> Any:
        value = self._compute(key)
        if len(self) < self._limit:
            self[key] = value
        return value


@cache
def _fee_texts() -> _Lookup:
    """Cents to the money's text (``str`` of the API's ``Decimal``)."""
    return _Lookup(lambda cents: str(cents_to_decimal(cents)))


@cache
def _fee_raws() -> _Lookup:
    """Cents to the money's JSON, as the API's encoder writes it."""
    return _Lookup(lambda cents: msgspec.Raw(encode_json(cents_to_decimal(cents))))


@cache
def _csv_clock() -> tuple[_Lookup, tuple[str, ...], tuple[str, ...]]:
    """Unix seconds to ``iso_z``'s text, in three lookups: the day (``days[t // 86400]``),
    the hour and minute (``minutes[t % 86400 // 60]``), the second (``seconds[t % 60]``)."""
    return _clock(lambda day: iso_z(datetime.fromtimestamp(day * 86400, UTC)).split("T")[0])


@cache
def _json_clock() -> tuple[_Lookup, tuple[str, ...], tuple[str, ...]]:
    """The same for the text ``msgspec`` writes for the datetime (whole seconds)."""
    return _clock(lambda day: datetime.fromtimestamp(day * 86400, UTC).date().isoformat())


def _clock(day_text: Callable[[int], str]) -> tuple[_Lookup, tuple[str, ...], tuple[str, ...]]:
    minutes = tuple(f"T{m // 60:02d}:{m % 60:02d}:" for m in range(1440))
    return _Lookup(day_text), minutes, tuple(f"{s:02d}Z" for s in range(60))
