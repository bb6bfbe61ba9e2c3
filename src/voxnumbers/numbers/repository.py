"""All SQL of owned numbers and their exact counts.

Every change to an owned number's account, country or status goes through this module,
which keeps ``number_totals`` and ``number_counts`` in step in the same transaction:
``total`` in lists is read from there, never counted at request time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, delete, func, literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.kit.money import CURRENCY, cents_to_decimal
from voxnumbers.kit.upsert import insert_for
from voxnumbers.numbers.capabilities import to_list
from voxnumbers.numbers.schemas import ListOrder, Number, NumberFilter, NumberRecord, Position
from voxnumbers.schema import applications, number_counts, number_totals, numbers, trunks

_LISTED_BY_DEFAULT = ("active", "pending", "suspended")
# Below this offset, skipping rows costs less than looking up where a month starts.
_SEEK_FROM_OFFSET = 2000
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
)


def to_number(row: Any) -> Number:
    """The API's number object from a row of ``_NUMBER_COLUMNS``."""
    return Number(
        e164=row.e164,
        country=row.country,
        type=row.type,
        region=row.region,
        status=row.status,
        capabilities=to_list(row.capabilities),  # type: ignore[arg-type]
        monthly_fee=cents_to_decimal(row.monthly_fee_cents),
        setup_fee=cents_to_decimal(row.setup_fee_cents),
        currency=CURRENCY,
        trunk_id=row.trunk_id,
        application_id=row.application_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _filtered(query: Select[Any], account_id: str, where: NumberFilter) -> Select[Any]:
    query = query.where(numbers.c.account_id == account_id)
    if where.country is not None:
        query = query.where(numbers.c.country == where.country)
    if where.status is not None:
        query = query.where(numbers.c.status == where.status)
        if where.status == "released" and where.now is not None:
            query = query.where(numbers.c.available_after > where.now)
    else:
        query = query.where(numbers.c.status.in_(_LISTED_BY_DEFAULT))
    if where.trunk_id is not None:
        query = query.where(numbers.c.trunk_id == where.trunk_id)
    if where.application_id is not None:
        query = query.where(numbers.c.application_id == where.application_id)
    if where.routed is True:
        query = query.where(
            (numbers.c.trunk_id.is_not(None)) | (numbers.c.application_id.is_not(None))
        )
    elif where.routed is False:
        query = query.where(numbers.c.trunk_id.is_(None), numbers.c.application_id.is_(None))
    if where.type is not None:
        query = query.where(numbers.c.type == where.type)
    if where.region is not None:
        query = query.where(func.lower(numbers.c.region) == where.region.lower())
    if where.capabilities_mask:
        mask = where.capabilities_mask
        query = query.where(numbers.c.capabilities.op("&")(mask) == mask)
    if where.contains is not None:
        query = query.where(numbers.c.e164.contains(where.contains, autoescape=True))
    if where.created_after is not None:
        query = query.where(numbers.c.created_at > where.created_after)
    if where.created_before is not None:
        query = query.where(numbers.c.created_at < where.created_before)
    if where.updated_since is not None:
        query = query.where(numbers.c.updated_at >= where.updated_since)
    return query


async def list_numbers(
    conn: AsyncConnection,
    account_id: str,
    where: NumberFilter,
    *,
    limit: int,
    offset: int = 0,
    order: ListOrder = DEFAULT_ORDER,
    after: Position | None = None,
) -> list[Number]:
    """One page of the account's numbers in a total order (``order``, then e164).

    ``after`` pages by keyset: the rows that follow a cursor's last row. By page number, a
    deep page of a seed filter in purchase order starts at the month its first row was
    bought in (found from ``number_counts``), so the database skips at most one month of
    rows, not all the rows before the page.
    """
    query = _filtered(select(*_NUMBER_COLUMNS), account_id, where)
    column = numbers.c[order.column]
    if after is not None:
        mark = tuple_(column, numbers.c.e164)
        query = query.where(
            mark < tuple_(literal(after.value, column.type), literal(after.e164))
            if order.descending
            else mark > tuple_(literal(after.value, column.type), literal(after.e164))
        )
    elif offset >= _SEEK_FROM_OFFSET and where.is_seed_filter and order.column == "created_at":
        query, offset = await _seek_month(conn, query, account_id, where, order, offset)
    keys = (column.desc(), numbers.c.e164.desc()) if order.descending else (column, numbers.c.e164)
    query = query.order_by(*keys).limit(limit).offset(offset)
    return [to_number(row) for row in await conn.execute(query)]


async def _seek_month(
    conn: AsyncConnection,
    query: Select[Any],
    account_id: str,
    where: NumberFilter,
    order: ListOrder,
    position: int,
) -> tuple[Select[Any], int]:
    """Narrow ``query`` to start at the month holding the row at ``position`` of the list;
    returns it with the offset left within that month."""
    months = _counted(
        select(number_counts.c.month, func.sum(number_counts.c.total)), account_id, where
    ).group_by(number_counts.c.month)
    months = months.order_by(
        number_counts.c.month.desc() if order.descending else number_counts.c.month
    )
    before = 0
    for month, total in await conn.execute(months):
        if before + int(total) > position:
            if order.descending:
                return query.where(numbers.c.created_at < month_start(next_month(month))), (
                    position - before
                )
            return query.where(numbers.c.created_at >= month_start(month)), position - before
        before += int(total)
    return query, position


async def number_batches(
    conn: AsyncConnection, account_id: str, where: NumberFilter, order: ListOrder, size: int
) -> AsyncIterator[list[Number]]:
    """Every matching number, ``size`` at a time, by keyset: memory stays flat whatever the
    account's size."""
    after: Position | None = None
    while True:
        batch = await list_numbers(conn, account_id, where, limit=size, order=order, after=after)
        if not batch:
            return
        yield batch
        after = position_of(batch[-1], order)


def position_of(number: Number, order: ListOrder) -> Position:
    """The keyset position of a row in ``order``."""
    return Position(value=getattr(number, order.column), e164=number.e164)


def _counted(query: Select[Any], account_id: str, where: NumberFilter) -> Select[Any]:
    """``query`` over ``number_counts`` narrowed to a seed filter."""
    query = query.where(number_counts.c.account_id == account_id)
    if where.country is not None:
        query = query.where(number_counts.c.country == where.country)
    if where.status is not None:
        return query.where(number_counts.c.status == where.status)
    return query.where(number_counts.c.status.in_(_LISTED_BY_DEFAULT))


def _total_of(account_id: str, where: NumberFilter) -> Select[Any]:
    query = select(func.coalesce(func.sum(number_totals.c.total), 0)).where(
        number_totals.c.account_id == account_id
    )
    if where.country is not None:
        query = query.where(number_totals.c.country == where.country)
    if where.status is not None:
        return query.where(number_totals.c.status == where.status)
    return query.where(number_totals.c.status.in_(_LISTED_BY_DEFAULT))


async def count_numbers(conn: AsyncConnection, account_id: str, where: NumberFilter) -> int:
    """Exact number of the account's numbers matching a seed filter, from ``number_totals``;
    other filters are counted by scanning."""
    if not where.is_seed_filter:
        return await count_numbers_by_scanning(conn, account_id, where)
    return int((await conn.execute(_total_of(account_id, where))).scalar_one())


async def count_numbers_by_scanning(
    conn: AsyncConnection, account_id: str, where: NumberFilter
) -> int:
    """The same count by scanning ``numbers``: what ``number_totals`` must always equal."""
    query = _filtered(select(func.count()).select_from(numbers), account_id, where)
    return int((await conn.execute(query)).scalar_one())


async def find_number(conn: AsyncConnection, account_id: str, e164: str) -> Number | None:
    row = (
        await conn.execute(
            select(*_NUMBER_COLUMNS).where(
                numbers.c.e164 == e164, numbers.c.account_id == account_id
            )
        )
    ).first()
    return to_number(row) if row else None


async def insert_numbers(conn: AsyncConnection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Add owned numbers (each a full ``numbers`` row) and count them."""
    rows = list(rows)
    if not rows:
        return
    await conn.execute(numbers.insert(), rows)
    deltas: dict[tuple[str, str, str, int], int] = {}
    for row in rows:
        bucket = (row["account_id"], row["country"], row["status"], month_of(row["created_at"]))
        deltas[bucket] = deltas.get(bucket, 0) + 1
    for (account_id, country, status, month), delta in deltas.items():
        await _adjust_count(conn, account_id, country, status, month, delta)


async def find_record(
    conn: AsyncConnection, account_id: str, e164: str, *, for_update: bool = False
) -> NumberRecord | None:
    """The account's number as stored; ``for_update`` locks the row until commit
    (PostgreSQL; SQLite's write transactions are exclusive already)."""
    query = select(numbers).where(numbers.c.e164 == e164, numbers.c.account_id == account_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return NumberRecord(**row._mapping) if row else None


async def find_owned_record(conn: AsyncConnection, e164: str) -> NumberRecord | None:
    """The number as stored, whichever account owns it (for update)."""
    query = select(numbers).where(numbers.c.e164 == e164).with_for_update()
    row = (await conn.execute(query)).first()
    return NumberRecord(**row._mapping) if row else None


async def update_number(conn: AsyncConnection, record: NumberRecord, **changes: Any) -> None:
    """Change columns of an owned number; a change of status keeps the counts in step."""
    await conn.execute(update(numbers).where(numbers.c.e164 == record.e164).values(**changes))
    status = changes.get("status", record.status)
    if status != record.status:
        month = month_of(record.created_at)
        await _adjust_count(conn, record.account_id, record.country, record.status, month, -1)
        await _adjust_count(conn, record.account_id, record.country, status, month, +1)


async def delete_number(conn: AsyncConnection, record: NumberRecord) -> None:
    """Remove an owned number (on its way back to inventory), keeping the counts in step."""
    await conn.execute(delete(numbers).where(numbers.c.e164 == record.e164))
    month = month_of(record.created_at)
    await _adjust_count(conn, record.account_id, record.country, record.status, month, -1)


async def routing_target_exists(
    conn: AsyncConnection,
    account_id: str,
    *,
    trunk_id: str | None = None,
    application_id: str | None = None,
) -> bool:
    """Whether the account has this trunk (or application)."""
    table, target = (trunks, trunk_id) if trunk_id is not None else (applications, application_id)
    query = (
        select(table.c.id)
        .where(table.c.id == target, table.c.account_id == account_id)
        # Held to commit: a concurrent delete waits and then sees the routing (409), or wins
        # first and this finds nothing (400); never a foreign-key violation (500).
        .with_for_update(read=True, key_share=True)
    )
    return (await conn.execute(query)).first() is not None


def _routed_to(account_id: str, trunk_id: str | None, application_id: str | None) -> Any:
    if trunk_id is not None:
        return (numbers.c.account_id == account_id) & (numbers.c.trunk_id == trunk_id)
    return (numbers.c.account_id == account_id) & (numbers.c.application_id == application_id)


async def count_routed(
    conn: AsyncConnection,
    account_id: str,
    *,
    trunk_id: str | None = None,
    application_id: str | None = None,
) -> int:
    """How many of the account's numbers route to this trunk (or application)."""
    routed = _routed_to(account_id, trunk_id, application_id)
    query = select(func.count()).select_from(numbers).where(routed)
    return int((await conn.execute(query)).scalar_one())


async def unroute_all(
    conn: AsyncConnection,
    account_id: str,
    now: datetime,
    *,
    trunk_id: str | None = None,
    application_id: str | None = None,
) -> list[str]:
    """Clear a trunk (or application) from every number routed to it; returns their numbers."""
    column = "trunk_id" if trunk_id is not None else "application_id"
    result = await conn.execute(
        update(numbers)
        .where(_routed_to(account_id, trunk_id, application_id))
        .values({column: None, "updated_at": now})
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
    return [NumberRecord(**row._mapping) for row in await conn.execute(query)]


async def _adjust_count(
    conn: AsyncConnection, account_id: str, country: str, status: str, month: int, delta: int
) -> None:
    """Add ``delta`` to the total of a bucket, and of its month."""
    for table, key in ((number_totals, {}), (number_counts, {"month": month})):
        statement = insert_for(conn, table).values(
            account_id=account_id, country=country, status=status, total=delta, **key
        )
        statement = statement.on_conflict_do_update(
            index_elements=[column for column in table.primary_key.columns],
            set_={"total": table.c.total + delta},
        )
        await conn.execute(statement)


def month_of(moment: datetime) -> int:
    """The ``number_counts`` month of a purchase time: 2026-03-15 -> 202603."""
    moment = moment.astimezone(UTC)
    return moment.year * 100 + moment.month


def next_month(month: int) -> int:
    """202612 -> 202701."""
    return month + 89 if month % 100 == 12 else month + 1


def month_start(month: int) -> datetime:
    """The first instant of a ``number_counts`` month."""
    return datetime(month // 100, month % 100, 1, tzinfo=UTC)
