"""All SQL of owned numbers, and the reads of their exact counts.

Every change to an owned number's account, country or status goes through this module,
which tells ``count_upkeep`` so that ``number_totals`` and ``number_counts`` stay in step in
the same transaction: ``total`` in lists is read from there, never counted at request time.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

import msgspec
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    LargeBinary,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    literal_column,
    select,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnClause, Label

from voxnumbers.db.dialects import among, among_bound, insert_for, json_functions, listed
from voxnumbers.db.direct import copy_out, fetch_all
from voxnumbers.db.tables import (
    accounts,
    applications,
    number_counts,
    number_totals,
    numbers,
    trunks,
)
from voxnumbers.db.types import Timestamp
from voxnumbers.kit.money import CURRENCY, cents_to_decimal
from voxnumbers.kit.worlds import is_live
from voxnumbers.numbers.count_upkeep import (
    adjust_count,
    month_of,
    month_start,
    next_month,
    settle_counts,
)
from voxnumbers.numbers.schemas import (
    Destination,
    ListOrder,
    Number,
    NumberFilter,
    NumberRecord,
    Position,
    ReleasedNumber,
)
from voxnumbers.vocabulary import to_list

# The statuses listed by default, as values the statement carries (not an expanding IN,
# which is rendered at every execution): ``db.direct`` runs these statements as compiled.
_LISTED = tuple(literal(status) for status in ("active", "pending", "suspended"))
# Below this offset, skipping rows costs less than looking up where a month starts.
_SEEK_FROM_OFFSET = 2000
# Past this many rows a page is empty whatever the data (and a larger OFFSET overflows SQL's
# 64-bit integers).
_LARGEST_OFFSET = 2**62
DEFAULT_ORDER = ListOrder()

_NUMBER_COLUMNS = (
    numbers.c.e164,
    numbers.c.country,
    numbers.c.type,
    numbers.c.region,
    numbers.c.status,
    numbers.c.capabilities,
    numbers.c.monthly_fee_cents,
    numbers.c.setup_fee_cents,
    numbers.c.trunk_id,
    numbers.c.application_id,
    numbers.c.created_at,
    numbers.c.updated_at,
    numbers.c.released_at,
    numbers.c.available_after,
)


# The columns of the number object alone (the export's: never a released number's extras).
_EXPORTED_COLUMNS = _NUMBER_COLUMNS[:12]


def to_number(source: NumberRecord) -> Number:
    """The API's number object of a number as stored."""
    return _number_of_row(tuple(getattr(source, column.name) for column in _NUMBER_COLUMNS))


def _number_of_row(row: Any) -> Number:
    """The API's number object from a row of ``_NUMBER_COLUMNS`` (unpacked by position: a
    page converts up to 100 rows, and positions cost less than names)."""
    (
        e164,
        country,
        type_,
        region,
        status,
        capabilities,
        monthly_fee_cents,
        setup_fee_cents,
        trunk_id,
        application_id,
        created_at,
        updated_at,
        released_at,
        available_after,
        *_,  # the filter's total, on rows of a counted page
    ) = row
    number = Number(
        e164=e164,
        country=country,
        type=type_,
        region=region,
        status=status,
        capabilities=to_list(capabilities),  # type: ignore[arg-type]
        monthly_fee=cents_to_decimal(monthly_fee_cents),
        setup_fee=cents_to_decimal(setup_fee_cents),
        currency=CURRENCY,
        trunk_id=trunk_id,
        application_id=application_id,
        created_at=created_at,
        updated_at=updated_at,
    )
    if status == "released" and released_at is not None and available_after is not None:
        fields = msgspec.structs.asdict(number)
        return ReleasedNumber(**fields, released_at=released_at, available_after=available_after)
    return number


class _Shape(NamedTuple):
    """Which conditions a filter applies (not their values): statements are built once per
    shape, with bound parameters, and reused; building one costs more than running it."""

    country: bool
    status: str  # "default" (the listed statuses), "given", or "released" (cooling off)
    trunk_id: bool
    application_id: bool
    routed: bool | None
    type: bool
    region: bool
    capabilities: bool
    contains: bool
    created_after: bool
    created_before: bool
    updated_since: bool
    seed: bool  # only the seed's filters: the total is in ``number_totals``


def _shape(where: NumberFilter) -> _Shape:
    released = where.status == "released" and where.now is not None
    return _Shape(
        country=where.country is not None,
        status="default" if where.status is None else "released" if released else "given",
        trunk_id=where.trunk_id is not None,
        application_id=where.application_id is not None,
        routed=where.routed,
        type=where.type is not None,
        region=where.region is not None,
        capabilities=bool(where.capabilities_mask),
        contains=where.contains is not None,
        created_after=where.created_after is not None,
        created_before=where.created_before is not None,
        updated_since=where.updated_since is not None,
        seed=where.is_seed_filter,
    )


def _parameters(account_id: str, where: NumberFilter) -> dict[str, Any]:
    """Values of the bound parameters of ``_filtered`` and ``_counted`` for ``where``."""
    values: dict[str, Any] = {
        "account_id": account_id,
        "country": where.country,
        "status": where.status,
        "now": where.now,
        "trunk_id": where.trunk_id,
        "application_id": where.application_id,
        "type": where.type,
        "region": where.region.lower() if where.region is not None else None,
        "capabilities": where.capabilities_mask,
        # Digits only (``digits_filter``): nothing to escape in the pattern.
        "contains": f"%{where.contains}%" if where.contains is not None else None,
        "created_after": where.created_after,
        "created_before": where.created_before,
        "updated_since": where.updated_since,
    }
    return {name: value for name, value in values.items() if value is not None}


def _filtered(query: Select[Any], shape: _Shape) -> Select[Any]:
    """``query`` over ``numbers`` narrowed to a filter of this shape (bound parameters)."""
    c = numbers.c
    query = query.where(c.account_id == bindparam("account_id"))
    if shape.country:
        query = query.where(c.country == bindparam("country"))
    if shape.status == "default":
        query = query.where(c.status.in_(_LISTED))
    else:
        query = query.where(c.status == bindparam("status"))
        if shape.status == "released":
            query = query.where(c.available_after > bindparam("now"))
    if shape.trunk_id:
        query = query.where(c.trunk_id == bindparam("trunk_id"))
    if shape.application_id:
        query = query.where(c.application_id == bindparam("application_id"))
    if shape.routed is True:
        query = query.where(c.trunk_id.is_not(None) | c.application_id.is_not(None))
    elif shape.routed is False:
        query = query.where(c.trunk_id.is_(None), c.application_id.is_(None))
    if shape.type:
        query = query.where(c.type == bindparam("type"))
    if shape.region:
        query = query.where(func.lower(c.region) == bindparam("region"))
    if shape.capabilities:
        mask = bindparam("capabilities", type_=c.capabilities.type)
        query = query.where(c.capabilities.op("&")(mask) == mask)
    if shape.contains:
        query = query.where(c.e164.like(bindparam("contains")))
    if shape.created_after:
        query = query.where(c.created_at > bindparam("created_after"))
    if shape.created_before:
        query = query.where(c.created_at < bindparam("created_before"))
    if shape.updated_since:
        query = query.where(c.updated_at >= bindparam("updated_since"))
    return query


@lru_cache(maxsize=1024)
def _page_query(
    shape: _Shape,
    order: ListOrder,
    *,
    after: bool,
    since: bool,
    until: bool,
) -> Any:
    """A page of a filter of this shape in ``order``: from the keyset ``after`` a position,
    or from ``since``/``until`` a month's start, then ``offset`` rows skipped. The filter's
    total is the last column (a subquery the database runs once)."""
    # correlate(None): the count reads its own rows, not the row of the page beside it.
    total = _count_query(shape).correlate(None).scalar_subquery().label("total")
    query = _filtered(select(*_NUMBER_COLUMNS, total), shape)
    column = numbers.c[order.column]
    if after:
        mark = tuple_(column, numbers.c.e164)
        bound = tuple_(bindparam("after_value", type_=column.type), bindparam("after_e164"))
        query = query.where(mark < bound if order.descending else mark > bound)
    if since:
        query = query.where(numbers.c.created_at >= bindparam("since", type_=Timestamp()))
    if until:
        query = query.where(numbers.c.created_at < bindparam("until", type_=Timestamp()))
    keys = (column.desc(), numbers.c.e164.desc()) if order.descending else (column, numbers.c.e164)
    return query.order_by(*keys).limit(bindparam("limit")).offset(bindparam("offset"))


async def page_of_numbers(
    conn: AsyncConnection,
    account_id: str,
    where: NumberFilter,
    *,
    limit: int,
    offset: int = 0,
    order: ListOrder = DEFAULT_ORDER,
    after: Position | None = None,
) -> tuple[list[Number], int]:
    """One page of the account's numbers in a total order (``order``, then e164), and the
    filter's exact total (``count_numbers``), from one statement: the total rides on every
    row of the page. Past the end, where no row carries it, it is counted on its own.

    ``after`` pages by keyset: the rows that follow a cursor's last row. By page number, a
    deep page of a seed filter in purchase order starts at the month its first row was
    bought in (found from ``number_counts``), so the database skips at most one month of
    rows, not all the rows before the page.
    """
    if offset > _LARGEST_OFFSET:  # no database skips that many rows: the page is empty
        return [], await count_numbers(conn, account_id, where)
    rows = await _page_rows(
        conn, account_id, where, limit=limit, offset=offset, order=order, after=after
    )
    if not rows:
        return [], await count_numbers(conn, account_id, where)
    return [_number_of_row(row) for row in rows], int(rows[0][-1])


async def _page_rows(
    conn: AsyncConnection,
    account_id: str,
    where: NumberFilter,
    *,
    limit: int,
    offset: int,
    order: ListOrder,
    after: Position | None,
) -> Sequence[Any]:
    await settle_counts(conn)
    parameters = _parameters(account_id, where)
    since = until = False
    if after is not None:
        parameters.update(after_value=after.value, after_e164=after.e164)
    elif offset >= _SEEK_FROM_OFFSET and where.is_seed_filter and order.column == "created_at":
        start, offset = await _month_of_row(conn, account_id, where, order, offset)
        if start is None:  # past the last row: nothing to read
            return []
        since, until = not order.descending, order.descending
        parameters["until" if until else "since"] = start
    query = _page_query(_shape(where), order, after=after is not None, since=since, until=until)
    parameters.update(limit=limit, offset=offset)
    return await fetch_all(conn, query, parameters)


async def _month_of_row(
    conn: AsyncConnection, account_id: str, where: NumberFilter, order: ListOrder, position: int
) -> tuple[datetime | None, int]:
    """Where the month holding the row at ``position`` of the list starts (ascending) or
    ends (descending), with the offset left within that month; ``None`` past the end."""
    query = _months_query(_shape(where), order.descending)
    before = 0
    for month, total in await fetch_all(conn, query, _parameters(account_id, where)):
        if before + int(total) > position:
            bound = month_start(next_month(month) if order.descending else month)
            return bound, position - before
        before += int(total)
    return None, position


@lru_cache(maxsize=64)
def _months_query(shape: _Shape, descending: bool) -> Any:
    query = _counted(select(number_counts.c.month, func.sum(number_counts.c.total)), shape)
    month = number_counts.c.month
    return query.group_by(month).order_by(month.desc() if descending else month)


# -- export ------------------------------------------------------------------------------
# An export reads every matching number in the list's order, in keyset batches of a bounded
# number of rows, all in the caller's transaction (one snapshot). On PostgreSQL each batch
# is one ``COPY (SELECT …) TO STDOUT`` of plain columns, which ``service.export`` writes
# into lines; a batch with a value COPY had to quote is read again as the export's own
# lines written by the database (CSV: every value formatted with cheap operations only,
# text casts, ``replace``, an array subscript, ``numeric`` for money, no ``to_char``;
# NDJSON: ``to_json``), passed on as they are. On SQLite each batch is one statement
# whose one row holds the batch's plain text (one ``group_concat`` of a line a row), which
# ``service.export`` writes into lines; a batch holding a value the plain text cannot hold
# plainly is read again as stored.

# PostgreSQL's lines, byte for byte what the service's encoders write (tests compare both).
# Empty strings become NULL, which COPY writes as nothing, as the CSV encoder does ('' would
# be quoted); times are UTC with ``Z``, whole seconds in CSV, microseconds in JSON only when
# there are some (as msgspec writes a datetime). The connection's DateStyle is ISO, so a
# ``timestamp`` cast to text is ``YYYY-MM-DD HH:MM:SS`` and a fraction (trailing zeros left
# out) when there is one.
_CAPABILITY_NAMES = "(ARRAY[{}])[numbers.capabilities]".format(
    ", ".join(f"'{'|'.join(to_list(mask))}'" for mask in range(1, 8))
)
# Both databases' SQL: the events of a bulk job's batch use it on SQLite too.
_CAPABILITY_JSON = "CASE numbers.capabilities {} END".format(
    " ".join(
        "WHEN {} THEN '[{}]'".format(mask, ",".join(f'"{name}"' for name in to_list(mask)))
        for mask in range(8)
    )
)
_UTC_TEXT = "replace(timezone('UTC', numbers.{0})::text, ' ', 'T')"
_CSV_TIME = "replace(date_trunc('second', timezone('UTC', numbers.{0}))::text, ' ', 'T') || 'Z'"
# Six digits of fraction when there is one: the text's fraction padded with zeros.
_JSON_TIME = f"{_UTC_TEXT} || substr('000000', 1, (26 - length({_UTC_TEXT})) % 7) || 'Z'"
_MONEY = "(numbers.{} * 0.01)::text"
_CSV_COLUMNS: tuple[ColumnClause[Any], ...] = tuple(
    literal_column(sql)
    for sql in (
        "NULLIF(numbers.e164, '')",
        "NULLIF(numbers.country, '')",
        "NULLIF(numbers.type, '')",
        "NULLIF(numbers.region, '')",
        "NULLIF(numbers.status, '')",
        _CAPABILITY_NAMES,
        _MONEY.format("monthly_fee_cents"),
        _MONEY.format("setup_fee_cents"),
        f"'{CURRENCY}'",
        "NULLIF(numbers.trunk_id, '')",
        "NULLIF(numbers.application_id, '')",
        _CSV_TIME.format("created_at"),
        _CSV_TIME.format("updated_at"),
    )
)
# The JSON line is also the number in the data of a bulk job's events on PostgreSQL
# (``number_events_data``).
_JSON_LINE_SQL = " || ".join(
    (
        """'{"e164":' || to_json(numbers.e164)::text""",
        """',"country":' || to_json(numbers.country)::text""",
        """',"type":' || to_json(numbers.type)::text""",
        """',"region":' || to_json(numbers.region)::text""",
        """',"status":' || to_json(numbers.status)::text""",
        """',"capabilities":' || """ + _CAPABILITY_JSON,
        """',"monthly_fee":' || """ + _MONEY.format("monthly_fee_cents"),
        """',"setup_fee":' || """ + _MONEY.format("setup_fee_cents"),
        f"""',"currency":"{CURRENCY}","trunk_id":'""",
        "COALESCE(to_json(numbers.trunk_id)::text, 'null')",
        """',"application_id":' || COALESCE(to_json(numbers.application_id)::text, 'null')""",
        """',"created_at":"' || """ + _JSON_TIME.format("created_at"),
        """'","updated_at":"' || """ + _JSON_TIME.format("updated_at"),
        """'"}'""",
    )
)
_JSON_LINE: ColumnClause[Any] = literal_column(_JSON_LINE_SQL)
# COPY's CSV mode: the header is written by the service. One JSON line is one column, whose
# delimiter and quote are control characters JSON never leaves unescaped: never quoted.
# NDJSON's plain columns are separated by the unit separator and quoted with SOH: a batch
# holding SOH had a value quoted (one holding the separator, SOH or a line break).
PLAIN_SEPARATOR, PLAIN_QUOTE = "\x1f", "\x01"
COPY_OPTIONS: dict[str, dict[str, str]] = {
    "csv": {"format": "csv"},
    "ndjson": {"format": "csv", "delimiter": "\x02", "quote": "\x01"},
    "plain": {"format": "csv", "delimiter": PLAIN_SEPARATOR, "quote": PLAIN_QUOTE},
}
# Both formats' batches come as plain columns, written into lines by the service (the
# JSON line built by the database took it 2.8 s for the big account, the CSV line 2.0 s,
# against 1.2 s for the stored columns). Five, so that the server splits and looks up
# little per row: the number; its profile, the columns that take few values (country, type,
# status, capabilities' mask, fees in cents, then the region) joined by ``PLAIN_INNER``,
# the region last as the only one that may hold any character (a profile splits in at most
# seven); its routing (trunk and application, ``''`` for none) joined alike; its times as
# UTC without a zone (``YYYY-MM-DD HH:MM:SS``, a fraction only when there is one; the
# connection's DateStyle is ISO). None of them is ever NULL.
PLAIN_INNER = "\x1e"
_PLAIN_COLUMNS: tuple[Any, ...] = (
    numbers.c.e164,
    literal_column(
        f" || '{PLAIN_INNER}' || ".join(
            (
                "numbers.country",
                "numbers.type",
                "numbers.status",
                "numbers.capabilities::text",
                "numbers.monthly_fee_cents::text",
                "numbers.setup_fee_cents::text",
                "numbers.region",
            )
        )
    ),
    literal_column(
        f"COALESCE(numbers.trunk_id, '') || '{PLAIN_INNER}' || COALESCE(numbers.application_id, '')"
    ),
    func.timezone("UTC", numbers.c.created_at),
    func.timezone("UTC", numbers.c.updated_at),
)
# What a JSON string escapes (a quote, a backslash, control characters but the line break
# and the separators): a plain batch holding one is written by the database instead, so
# that the service writes every plain value between quotes as it is. The bytes that are
# not, deleted from a batch, leave nothing when it holds none (one pass, about eight times
# faster than a regular expression).
_JSON_ESCAPED = b'"\\' + bytes([*range(0x0A), *range(0x0B, 0x1E)])
_JSON_PLAIN = bytes(sorted(set(range(256)) - set(_JSON_ESCAPED)))
# SQLite's plain text of a row: the number, its times (Unix seconds), then its routing and
# profile as one field (trunk, application, country, type, status, capabilities' mask, fees
# in cents and the region, joined by ``PLAIN_INNER``: looked up whole, the region last as
# the only value that may hold any character), each field ended by ``PLAIN_SEPARATOR``.
# One ``printf`` writes all but the region, concatenated after it: a NUL ends a ``printf``
# value, where a concatenation keeps it (and the batch is then read as stored). The
# number, the ids and the words of the vocabulary are the API's own.
_S, _I = PLAIN_SEPARATOR, PLAIN_INNER
_STORED_PLAIN_ROW: Label[Any] = literal_column(
    f"printf('%s{_S}%d{_S}%d{_S}%s{_I}%s{_I}%s{_I}%s{_I}%s{_I}%d{_I}%d{_I}%d{_I}', "
    "numbers.e164, numbers.created_at, numbers.updated_at, "
    "numbers.trunk_id, numbers.application_id, numbers.country, numbers.type, "
    "numbers.status, numbers.capabilities, numbers.monthly_fee_cents, "
    f"numbers.setup_fee_cents) || numbers.region || '{_S}'"
).label("line")
STORED_PLAIN_FIELDS = 4  # fields a row


@lru_cache(maxsize=256)
def _export_query(shape: _Shape, order: ListOrder, fmt: str, *, after: bool) -> Any:
    """The first ``limit`` rows of a filter of this shape in ``order``, after the row of the
    number ``after_e164`` (its key read in the statement, by the primary key): on
    PostgreSQL ``fmt``'s lines (or the ``plain`` columns) for ``COPY``; on SQLite, with
    ``fmt="stored"``, one row of their number and their plain text as UTF-8 bytes
    (``_STORED_PLAIN_ROW`` each), with ``fmt="raw"`` the number's columns with timestamps
    as stored (Unix seconds, no conversion)."""
    if fmt == "stored":
        rows = _in_order(_filtered(select(_STORED_PLAIN_ROW), shape), order, after=after)
        text = rows.subquery()
        # SQLite aggregates a subquery's rows in the order it yields them: an ORDER BY with
        # a LIMIT is read in order, never flattened into the aggregate.
        lines = func.group_concat(text.c.line, literal_column("''"))
        return select(func.count(), cast(lines, LargeBinary))  # bytes, as SQLite wrote them
    if fmt == "raw":
        columns: Sequence[Any] = [
            type_coerce(column, BigInteger) if isinstance(column.type, Timestamp) else column
            for column in _EXPORTED_COLUMNS
        ]
    else:
        columns = {"csv": _CSV_COLUMNS, "ndjson": (_JSON_LINE,), "plain": _PLAIN_COLUMNS}[fmt]
    return _in_order(_filtered(select(*columns), shape), order, after=after)


def _in_order(query: Select[Any], order: ListOrder, *, after: bool) -> Any:
    """``query``'s first ``limit`` rows in ``order``, after the row of the number
    ``after_e164`` when ``after``."""
    column = numbers.c[order.column]
    if after:
        last = numbers.alias("last")
        value = (
            select(last.c[order.column])
            .where(last.c.account_id == bindparam("account_id"))
            .where(last.c.e164 == bindparam("after_e164"))
            .scalar_subquery()
        )
        mark, bound = tuple_(column, numbers.c.e164), tuple_(value, bindparam("after_e164"))
        query = query.where(mark < bound if order.descending else mark > bound)
    keys = (column.desc(), numbers.c.e164.desc()) if order.descending else (column, numbers.c.e164)
    return query.order_by(*keys).limit(bindparam("limit"))


class ExportBatch(NamedTuple):
    """One batch of an export on PostgreSQL: its rows as ``plain`` text, one a line, the
    plain columns separated by ``PLAIN_SEPARATOR``, nothing quoted and nothing a JSON
    string escapes; or, for a batch with a value that is not plain, the export's ``lines``
    written by the database."""

    lines: list[bytes] | None = None
    plain: bytes = b""


async def exported_batches(
    conn: AsyncConnection,
    account_id: str,
    where: NumberFilter,
    order: ListOrder,
    fmt: str,
    size: int,
) -> AsyncGenerator[ExportBatch, None]:
    """PostgreSQL: every matching number, ``size`` rows at a time, in ``order``: the
    plain columns, or for a batch whose plain text holds a quoted value ``fmt``'s lines
    (CSV without the header) written by the database, in the pieces ``COPY`` wrote them
    in.

    Each batch is one ``COPY`` of the next ``size`` rows after the last one's number (the
    statement's values are written into it, as ``COPY`` takes no parameters, so it is
    planned for them: an index range in the list's order cut by the ``LIMIT``); it is read
    whole before it is passed on, so it never waits for the client."""
    shape = _shape(where)
    parameters = _parameters(account_id, where)
    parameters["limit"] = size
    after = False
    while True:
        batch: ExportBatch | None = None
        if fmt in ("csv", "ndjson"):
            query = _export_query(shape, order, "plain", after=after)
            plain = b"".join(await copy_out(conn, query, parameters, **COPY_OPTIONS["plain"]))
            if not plain:
                return
            if not plain.translate(None, _JSON_PLAIN):  # nor SOH: nothing was quoted
                batch = ExportBatch(plain=plain)
        if batch is None:
            query = _export_query(shape, order, fmt, after=after)
            lines = await copy_out(conn, query, parameters, **COPY_OPTIONS[fmt])
            if not lines:
                return
            batch = ExportBatch(lines=lines)
        yield batch
        last = await _last_number(conn, shape, order, parameters, batch, fmt)
        if last is None:
            return
        parameters["after_e164"], after = last, True


async def _last_number(
    conn: AsyncConnection,
    shape: _Shape,
    order: ListOrder,
    parameters: dict[str, Any],
    batch: ExportBatch,
    fmt: str,
) -> str | None:
    """The number of a batch's last row, or ``None`` when the batch was the last one (it
    holds fewer than ``limit`` rows). Read from the batch's last line: plain text and JSON
    lines hold no line break but their ends, nor CSV lines when no value of the batch was
    quoted; otherwise the number ``limit`` rows on is read again, from the index alone."""
    pieces = [batch.plain] if batch.lines is None else batch.lines
    if batch.lines is None or fmt == "ndjson" or not any(b'"' in piece for piece in pieces):
        if sum(piece.count(b"\n") for piece in pieces) < parameters["limit"]:
            return None
        line = _last_line(pieces)
        if batch.lines is None:
            return line[: line.index(PLAIN_SEPARATOR.encode())].decode()
        if fmt == "ndjson":
            return str(msgspec.json.decode(line)["e164"])
        return line[: line.index(b",")].decode()
    boundary = {**parameters, "offset": parameters["limit"] - 1}
    after = "after_e164" in parameters
    found = await fetch_all(conn, _boundary_query(shape, order, after), boundary)
    return str(found[0][0]) if found else None


def _last_line(pieces: list[bytes]) -> bytes:
    """The last line of ``pieces`` (which end with a line break), without its break."""
    tail = b""
    for piece in reversed(pieces):
        tail = piece + tail
        start = tail.rfind(b"\n", 0, len(tail) - 1)
        if start >= 0:
            return tail[start + 1 : -1]
    return tail[:-1]


@lru_cache(maxsize=256)
def _boundary_query(shape: _Shape, order: ListOrder, after: bool) -> Any:
    """The number of the row ``offset`` rows after the row of the number ``after_e164``
    (or from the start), from the list's index alone."""
    query = _filtered(select(numbers.c.e164), shape)
    query = _in_order(query, order, after=after)
    return query.limit(1).offset(bindparam("offset"))


class StoredBatch(NamedTuple):
    """One batch of an export on SQLite: its rows' plain ``fields``, ``STORED_PLAIN_FIELDS``
    a row (``_STORED_PLAIN_ROW``); or, for a batch with a value that is not plain, its
    ``rows`` as stored (the number object's columns, timestamps in Unix seconds)."""

    fields: Sequence[str] = ()
    rows: Sequence[Sequence[Any]] = ()


async def stored_batches(
    conn: AsyncConnection, account_id: str, where: NumberFilter, order: ListOrder, size: int
) -> AsyncGenerator[StoredBatch, None]:
    """SQLite: every matching number, ``size`` rows at a time, in ``order``, by keyset
    (memory stays flat whatever the account's size). Each batch is one statement on a
    worker thread that returns the batch's plain text whole: SQLite writes it within a
    single step, without the GIL, so the event loop writes out the batch before meanwhile;
    and the server makes one bytes object a batch, not a dozen values a row. A batch whose
    text is not plain (``_plain_fields``) is read again as stored."""
    shape = _shape(where)
    parameters = _parameters(account_id, where)
    parameters["limit"] = size
    after = False
    while True:
        query = _export_query(shape, order, "stored", after=after)
        [(count, plain)] = await fetch_all(conn, query, parameters, many=True)
        if not count:
            return
        fields = _plain_fields(plain, count)
        if fields is not None:
            batch, last = StoredBatch(fields=fields), fields[-STORED_PLAIN_FIELDS]
        else:
            query = _export_query(shape, order, "raw", after=after)
            rows = await fetch_all(conn, query, parameters, many=True)
            batch, last = StoredBatch(rows=rows), rows[-1][0]
        yield batch
        if count < size:
            return
        parameters["after_e164"], after = last, True


def _plain_fields(plain: bytes, rows: int) -> list[str] | None:
    """The fields of ``rows`` rows of ``_STORED_PLAIN_ROW``, or ``None`` when a value is not
    plain: one that holds anything a JSON string escapes (so that every value goes between
    quotes as it is: a quote, a backslash, a control character but the separators and the
    line break; a NUL among them), or the separator or a line break (the fields would not
    come out ``STORED_PLAIN_FIELDS`` a row)."""
    if plain.translate(None, _JSON_PLAIN) or b"\n" in plain:
        return None
    fields = plain.decode().split(_S)
    fields.pop()  # after the last field's end
    return fields if len(fields) == STORED_PLAIN_FIELDS * rows else None


def position_of(number: Number, order: ListOrder) -> Position:
    """The keyset position of a row in ``order``."""
    return Position(value=getattr(number, order.column), e164=number.e164)


def _counted(query: Select[Any], shape: _Shape, table: Table = number_counts) -> Select[Any]:
    """``query`` over a count table (``number_counts`` or ``number_totals``, keyed alike by
    account, country and status) narrowed to a seed filter of this shape."""
    query = query.where(table.c.account_id == bindparam("account_id"))
    if shape.country:
        query = query.where(table.c.country == bindparam("country"))
    if shape.status == "default":
        return query.where(table.c.status.in_(_LISTED))
    return query.where(table.c.status == bindparam("status"))


@lru_cache(maxsize=64)
def _total_query(shape: _Shape) -> Any:
    total = select(func.coalesce(func.sum(number_totals.c.total), 0))
    return _counted(total, shape, number_totals)


@lru_cache(maxsize=1024)
def _scan_count_query(shape: _Shape) -> Any:
    return _filtered(select(func.count()).select_from(numbers), shape)


def _count_query(shape: _Shape) -> Any:
    """The exact count of a filter of this shape: from ``number_totals`` for a seed filter,
    by scanning ``numbers`` for the others."""
    return _total_query(shape) if shape.seed else _scan_count_query(shape)


async def count_numbers(conn: AsyncConnection, account_id: str, where: NumberFilter) -> int:
    """Exact number of the account's numbers matching a seed filter, from ``number_totals``;
    other filters are counted by scanning."""
    await settle_counts(conn)
    query = _count_query(_shape(where))
    return int((await fetch_all(conn, query, _parameters(account_id, where)))[0][0])


async def count_numbers_by_scanning(
    conn: AsyncConnection, account_id: str, where: NumberFilter
) -> int:
    """The same count by scanning ``numbers``: what ``number_totals`` must always equal."""
    query = _scan_count_query(_shape(where))
    return int((await conn.execute(query, _parameters(account_id, where))).scalar_one())


_NUMBER_BY_E164 = select(*_NUMBER_COLUMNS).where(
    numbers.c.e164 == bindparam("e164"), numbers.c.account_id == bindparam("account_id")
)


async def find_number(conn: AsyncConnection, account_id: str, e164: str) -> Number | None:
    rows = await fetch_all(conn, _NUMBER_BY_E164, {"e164": e164, "account_id": account_id})
    return _number_of_row(rows[0]) if rows else None


async def insert_numbers(conn: AsyncConnection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Add owned numbers (each a full ``numbers`` row) and count them."""
    rows = list(rows)
    if not rows:
        return
    # ``live`` follows the owner: a test world's numbers never count as owned live.
    rows = [{**row, "live": is_live(row["account_id"])} for row in rows]
    await conn.execute(numbers.insert(), rows)
    deltas: dict[tuple[str, str, str, int], int] = {}
    for row in rows:
        bucket = (row["account_id"], row["country"], row["status"], month_of(row["created_at"]))
        deltas[bucket] = deltas.get(bucket, 0) + 1
    for (account_id, country, status, month), delta in deltas.items():
        await adjust_count(conn, account_id, country, status, month, delta)


async def lock_world(conn: AsyncConnection, account_id: str) -> None:
    """Hold the world's ``accounts`` row until commit (``FOR NO KEY UPDATE``: rows that
    reference it can still be written), so writers taking it queue on PostgreSQL."""
    query = select(accounts.c.id).where(accounts.c.id == account_id).with_for_update(key_share=True)
    await conn.execute(query)


async def insert_number_if_free(conn: AsyncConnection, row: Mapping[str, Any]) -> bool:
    """Add one owned number unless its world already has it (then nothing changes and the
    answer is ``False``): of concurrent buyers in one test world exactly one inserts."""
    row = {**row, "live": is_live(row["account_id"])}
    statement = (
        insert_for(conn, numbers)
        .values(row)
        .on_conflict_do_nothing(index_elements=["e164", "account_id"])
        .returning(numbers.c.e164)
    )
    if (await conn.execute(statement)).first() is None:
        return False
    month = month_of(row["created_at"])
    await adjust_count(conn, row["account_id"], row["country"], row["status"], month, +1)
    return True


async def find_record(
    conn: AsyncConnection, account_id: str, e164: str, *, for_update: bool = False
) -> NumberRecord | None:
    """The account's number as stored; ``for_update`` locks the row until commit
    (PostgreSQL; SQLite's write transactions are exclusive already)."""
    query = select(numbers).where(numbers.c.e164 == e164, numbers.c.account_id == account_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return NumberRecord(*row) if row else None


async def find_records(
    conn: AsyncConnection, account_id: str, e164s: Sequence[str]
) -> dict[str, NumberRecord]:
    """The account's numbers among ``e164s``, as stored, by number (no lock: a plan)."""
    if not e164s:
        return {}
    query = select(numbers).where(
        numbers.c.account_id == account_id, among(conn, numbers.c.e164, e164s)
    )
    return {row.e164: NumberRecord(*row) for row in await conn.execute(query)}


async def lock_records(
    conn: AsyncConnection, account_id: str, e164s: Sequence[str]
) -> dict[str, NumberRecord]:
    """The account's numbers among ``e164s``, as stored, locked until commit in ``e164``
    order (so two writers of overlapping sets queue rather than deadlock)."""
    if not e164s:
        return {}
    query = _locked_records_query(conn.dialect.name)
    parameters = {"account_id": account_id, "e164s": listed(conn, e164s)}
    return {row[0]: NumberRecord(*row) for row in await fetch_all(conn, query, parameters)}


@lru_cache(maxsize=2)
def _locked_records_query(dialect: str) -> Select[Any]:
    """``lock_records``' statement, built once per dialect (``fetch_all`` runs it on the
    driver: a bulk job's batch locks 500 numbers)."""
    return (
        select(numbers)
        .where(
            numbers.c.account_id == bindparam("account_id"),
            among_bound(dialect, numbers.c.e164, "e164s"),
        )
        .order_by(numbers.c.e164)
        .with_for_update()
    )


async def set_routing(
    conn: AsyncConnection,
    account_id: str,
    e164s: Sequence[str],
    *,
    trunk_id: str | None,
    application_id: str | None,
    updated_at: datetime,
) -> None:
    """Route these numbers of the account (their status, hence the counts, is unchanged;
    the same number in another account's test world is another row, left alone)."""
    if not e164s:
        return
    await conn.execute(
        update(numbers)
        .where(numbers.c.account_id == account_id, among(conn, numbers.c.e164, e164s))
        .values(trunk_id=trunk_id, application_id=application_id, updated_at=updated_at)
    )


# The number object as SQLite writes it (the same JSON as the service's encoder: times in
# whole seconds, which is all SQLite stores; money with its two decimals).
_SQLITE_MONEY = "json(printf('%d.%02d', numbers.{0} / 100, numbers.{0} % 100))"
_SQLITE_TIME = "strftime('%Y-%m-%dT%H:%M:%SZ', numbers.{}, 'unixepoch')"
_SQLITE_NUMBER_JSON = (
    "json_object('e164', numbers.e164, 'country', numbers.country, 'type', numbers.type, "
    "'region', numbers.region, 'status', numbers.status, "
    f"'capabilities', json({_CAPABILITY_JSON}), "
    f"'monthly_fee', {_SQLITE_MONEY.format('monthly_fee_cents')}, "
    f"'setup_fee', {_SQLITE_MONEY.format('setup_fee_cents')}, 'currency', '{CURRENCY}', "
    "'trunk_id', numbers.trunk_id, 'application_id', numbers.application_id, "
    f"'created_at', {_SQLITE_TIME.format('created_at')}, "
    f"'updated_at', {_SQLITE_TIME.format('updated_at')})"
)


def number_events_data(conn: AsyncConnection, account_id: str, e164s: Sequence[str]) -> Select[Any]:
    """``(e164, data)`` of these numbers of the account: an event's data about each number,
    ``{"number": …}`` with the number as the API shows it now, written by the database as
    JSON text (a bulk job's batch records hundreds of events without reading a number back).
    """
    data: ColumnClause[Any]
    if conn.dialect.name == "postgresql":
        data = literal_column(f"""'{{"number":' || {_JSON_LINE_SQL} || '}}'""")
    else:
        data = literal_column(f"json_object('number', {_SQLITE_NUMBER_JSON})")
    return select(numbers.c.e164, data.label("data")).where(
        numbers.c.account_id == account_id, among(conn, numbers.c.e164, e164s)
    )


def routing_changes(
    conn: AsyncConnection,
    account_id: str,
    e164s: Sequence[str],
    *,
    trunk_id: str | None,
    application_id: str | None,
) -> Select[Any]:
    """``(object_id, changes)`` of these numbers of the account (each of which this routing
    changes): the audit log's changes of routing it to this trunk and application, the
    fields that differ as ``[old, new]``, as JSON. Read before the change is made."""
    obj, array = json_functions(conn)
    fields = [
        (name, column, bindparam(f"routed_{name}", value, type_=String()))
        for name, column, value in (
            ("trunk_id", numbers.c.trunk_id, trunk_id),
            ("application_id", numbers.c.application_id, application_id),
        )
    ]

    def changes(*names: str) -> ColumnElement[Any]:
        pairs = [
            (literal(name), array(column, new)) for name, column, new in fields if name in names
        ]
        return obj(*(part for pair in pairs for part in pair))

    (_, trunk, new_trunk), (_, application, new_application) = fields
    trunk_moves = trunk.is_distinct_from(new_trunk)
    application_moves = application.is_distinct_from(new_application)
    written = case(
        (and_(trunk_moves, application_moves), changes("trunk_id", "application_id")),
        (trunk_moves, changes("trunk_id")),
        else_=changes("application_id"),
    )
    return select(numbers.c.e164.label("object_id"), written.label("changes")).where(
        numbers.c.account_id == account_id, among(conn, numbers.c.e164, e164s)
    )


def matching_numbers(account_id: str, where: NumberFilter) -> Select[Any]:
    """``SELECT e164`` of the account's numbers a list filter matches, its values bound
    (for a statement that copies a selection, such as a bulk job's)."""
    return _filtered(select(numbers.c.e164), _shape(where)).params(**_parameters(account_id, where))


async def matching_records(
    conn: AsyncConnection, account_id: str, where: NumberFilter, after: str | None, limit: int
) -> list[NumberRecord]:
    """Up to ``limit`` of the account's numbers a list filter matches, as stored, in
    ``e164`` order after ``after`` (keyset: memory stays flat whatever the account's size)."""
    query = _filtered(select(numbers), _shape(where)).params(**_parameters(account_id, where))
    if after is not None:
        query = query.where(numbers.c.e164 > after)
    query = query.order_by(numbers.c.e164).limit(limit)
    return [NumberRecord(*row) for row in await conn.execute(query)]


async def find_owned_record(conn: AsyncConnection, e164: str) -> NumberRecord | None:
    """The number as owned live, whichever account owns it (for update). Test worlds'
    numbers are never found here: they are nobody's live number."""
    query = select(numbers).where(numbers.c.e164 == e164, numbers.c.live).with_for_update()
    row = (await conn.execute(query)).first()
    return NumberRecord(*row) if row else None


def _this(record: NumberRecord) -> Any:
    """The row of one owned number (its key: the number and the world owning it)."""
    return (numbers.c.e164 == record.e164) & (numbers.c.account_id == record.account_id)


async def update_number(conn: AsyncConnection, record: NumberRecord, **changes: Any) -> None:
    """Change columns of an owned number; a change of status keeps the counts in step."""
    await conn.execute(update(numbers).where(_this(record)).values(**changes))
    status = changes.get("status", record.status)
    if status != record.status:
        month = month_of(record.created_at)
        await adjust_count(conn, record.account_id, record.country, record.status, month, -1)
        await adjust_count(conn, record.account_id, record.country, status, month, +1)


async def delete_number(conn: AsyncConnection, record: NumberRecord) -> None:
    """Remove an owned number (on its way back to inventory), keeping the counts in step."""
    await conn.execute(delete(numbers).where(_this(record)))
    month = month_of(record.created_at)
    await adjust_count(conn, record.account_id, record.country, record.status, month, -1)


async def routing_target_exists(
    conn: AsyncConnection, account_id: str, target: Destination
) -> bool:
    """Whether the account has this trunk (or application)."""
    table = trunks if target.field == "trunk_id" else applications
    query = (
        select(table.c.id)
        .where(table.c.id == target.id, table.c.account_id == account_id)
        # Held to commit: a concurrent delete waits and then sees the routing (409), or wins
        # first and this finds nothing (400); never a foreign-key violation (500).
        .with_for_update(read=True, key_share=True)
    )
    return (await conn.execute(query)).first() is not None


def _routed_to(account_id: str, target: Destination) -> Any:
    return (numbers.c.account_id == account_id) & (numbers.c[target.field] == target.id)


async def count_routed(conn: AsyncConnection, account_id: str, target: Destination) -> int:
    """How many of the account's numbers route to this trunk (or application)."""
    query = select(func.count()).select_from(numbers).where(_routed_to(account_id, target))
    return int((await conn.execute(query)).scalar_one())


async def unroute_all(
    conn: AsyncConnection, account_id: str, now: datetime, target: Destination
) -> list[str]:
    """Clear a trunk (or application) from every number routed to it; returns their numbers."""
    result = await conn.execute(
        update(numbers)
        .where(_routed_to(account_id, target))
        .values({target.field: None, "updated_at": now})
        .returning(numbers.c.e164)
    )
    return sorted(row.e164 for row in result)


async def expired_releases(conn: AsyncConnection, now: datetime, limit: int) -> list[NumberRecord]:
    """Released numbers whose cooling-off is over, oldest first."""
    query = (
        select(numbers)
        .where(numbers.c.status == "released", numbers.c.available_after <= now)
        .order_by(numbers.c.available_after, numbers.c.e164)
        .limit(limit)
    )
    return [NumberRecord(*row) for row in await conn.execute(query)]
