"""All SQL of owned numbers and their exact counts.

Every change to an owned number's account, country or status goes through this module,
which keeps ``number_counts`` in step in the same transaction: ``total`` in lists is read
from there, never counted at request time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.kit.money import CURRENCY, cents_to_decimal
from voxnumbers.kit.upsert import insert_for
from voxnumbers.numbers.capabilities import to_list
from voxnumbers.numbers.schemas import Number, NumberFilter
from voxnumbers.schema import number_counts, numbers

_LISTED_BY_DEFAULT = ("active", "pending", "suspended")

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
    else:
        query = query.where(numbers.c.status.in_(_LISTED_BY_DEFAULT))
    return query


async def list_numbers(
    conn: AsyncConnection, account_id: str, where: NumberFilter, *, limit: int, offset: int
) -> list[Number]:
    """One page of the account's numbers in the list's total order (created_at, e164)."""
    query = (
        _filtered(select(*_NUMBER_COLUMNS), account_id, where)
        .order_by(numbers.c.created_at, numbers.c.e164)
        .limit(limit)
        .offset(offset)
    )
    return [to_number(row) for row in await conn.execute(query)]


async def count_numbers(conn: AsyncConnection, account_id: str, where: NumberFilter) -> int:
    """Exact number of the account's numbers matching a seed filter, from ``number_counts``."""
    query = select(func.coalesce(func.sum(number_counts.c.total), 0)).where(
        number_counts.c.account_id == account_id
    )
    if where.country is not None:
        query = query.where(number_counts.c.country == where.country)
    if where.status is not None:
        query = query.where(number_counts.c.status == where.status)
    else:
        query = query.where(number_counts.c.status.in_(_LISTED_BY_DEFAULT))
    return int((await conn.execute(query)).scalar_one())


async def count_numbers_by_scanning(
    conn: AsyncConnection, account_id: str, where: NumberFilter
) -> int:
    """The same count by scanning ``numbers``: what ``number_counts`` must always equal."""
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


async def number_exists(conn: AsyncConnection, e164: str) -> bool:
    """Whether any account owns the number (in any status, released included)."""
    row = (await conn.execute(select(numbers.c.e164).where(numbers.c.e164 == e164))).first()
    return row is not None


async def insert_numbers(conn: AsyncConnection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Add owned numbers (each a full ``numbers`` row) and count them."""
    rows = list(rows)
    if not rows:
        return
    await conn.execute(numbers.insert(), rows)
    deltas: dict[tuple[str, str, str], int] = {}
    for row in rows:
        bucket = (row["account_id"], row["country"], row["status"])
        deltas[bucket] = deltas.get(bucket, 0) + 1
    for (account_id, country, status), delta in deltas.items():
        await _adjust_count(conn, account_id, country, status, delta)


async def set_status(
    conn: AsyncConnection, number: Number, account_id: str, status: str, **changes: Any
) -> None:
    """Move an owned number to another status (with other column changes), keeping counts."""
    await conn.execute(
        update(numbers).where(numbers.c.e164 == number.e164).values(status=status, **changes)
    )
    if status != number.status:
        await _adjust_count(conn, account_id, number.country, number.status, -1)
        await _adjust_count(conn, account_id, number.country, status, +1)


async def _adjust_count(
    conn: AsyncConnection, account_id: str, country: str, status: str, delta: int
) -> None:
    statement = insert_for(conn, number_counts).values(
        account_id=account_id, country=country, status=status, total=delta
    )
    statement = statement.on_conflict_do_update(
        index_elements=[
            number_counts.c.account_id,
            number_counts.c.country,
            number_counts.c.status,
        ],
        set_={"total": number_counts.c.total + delta},
    )
    await conn.execute(statement)
