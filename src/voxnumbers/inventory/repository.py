"""All SQL of the inventory of numbers for sale."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.inventory.schemas import AvailableNumber, InventoryEntry, InventorySearch
from voxnumbers.kit.money import CURRENCY, cents_to_decimal
from voxnumbers.kit.upsert import insert_for
from voxnumbers.numbers.capabilities import to_list
from voxnumbers.schema import inventory_numbers, numbers

_inv = inventory_numbers.c
_SHOWN = (
    "e164",
    "country",
    "type",
    "region",
    "capabilities",
    "monthly_fee_cents",
    "setup_fee_cents",
)


def _available(now: datetime) -> Any:
    """What anyone may buy at ``now``: the inventory, and released numbers whose cooling-off
    is over but that the sweeper has not moved back yet."""
    in_stock = select(*(inventory_numbers.c[name] for name in _SHOWN))
    cooled_off = select(*(numbers.c[name] for name in _SHOWN)).where(
        numbers.c.status == "released", numbers.c.available_after <= now
    )
    return union_all(in_stock, cooled_off).subquery("available")


def _searched(query: Select[Any], available: Any, search: InventorySearch) -> Select[Any]:
    c = available.c
    if search.country is not None:
        query = query.where(c.country == search.country)
    if search.type is not None:
        query = query.where(c.type == search.type)
    if search.region is not None:
        query = query.where(func.lower(c.region) == search.region.lower())
    if search.capabilities_mask:
        mask = search.capabilities_mask
        query = query.where(c.capabilities.op("&")(mask) == mask)
    if search.contains is not None:
        query = query.where(c.e164.contains(search.contains, autoescape=True))
    return query


async def search_available(
    conn: AsyncConnection, search: InventorySearch, now: datetime, *, limit: int, offset: int
) -> list[AvailableNumber]:
    available = _available(now)
    query = _searched(select(available), available, search).order_by(available.c.e164)
    rows = await conn.execute(query.limit(limit).offset(offset))
    return [
        AvailableNumber(
            e164=row.e164,
            country=row.country,
            type=row.type,
            region=row.region,
            capabilities=to_list(row.capabilities),  # type: ignore[arg-type]
            monthly_fee=cents_to_decimal(row.monthly_fee_cents),
            setup_fee=cents_to_decimal(row.setup_fee_cents),
            currency=CURRENCY,
        )
        for row in rows
    ]


async def count_available(conn: AsyncConnection, search: InventorySearch, now: datetime) -> int:
    available = _available(now)
    query = _searched(select(func.count()).select_from(available), available, search)
    return int((await conn.execute(query)).scalar_one())


async def take(conn: AsyncConnection, e164: str) -> InventoryEntry | None:
    """Remove a number from sale and return it; ``None`` if it is not (or no longer) for sale.

    A single ``DELETE … RETURNING``: of concurrent buyers exactly one gets the row.
    """
    row = (
        await conn.execute(
            delete(inventory_numbers).where(_inv.e164 == e164).returning(*inventory_numbers.c)
        )
    ).first()
    return InventoryEntry(**row._mapping) if row else None


async def add_entries(conn: AsyncConnection, entries: Sequence[InventoryEntry]) -> int:
    """Put numbers up for sale, skipping those already for sale or owned; returns how many
    were added (so importing the same file twice adds nothing the second time)."""
    if not entries:
        return 0
    wanted = [entry.e164 for entry in entries]
    present = set(
        (await conn.execute(select(numbers.c.e164).where(numbers.c.e164.in_(wanted)))).scalars()
    )
    present.update((await conn.execute(select(_inv.e164).where(_inv.e164.in_(wanted)))).scalars())
    rows = [entry_to_row(entry) for entry in entries if entry.e164 not in present]
    if not rows:
        return 0
    # DO NOTHING covers a concurrent import of the same numbers.
    statement = insert_for(conn, inventory_numbers).on_conflict_do_nothing(
        index_elements=[_inv.e164]
    )
    await conn.execute(statement, rows)
    return len(rows)


async def any_for_sale(conn: AsyncConnection) -> bool:
    return (await conn.execute(select(_inv.e164).limit(1))).first() is not None


async def is_for_sale(conn: AsyncConnection, e164: str) -> bool:
    row = (await conn.execute(select(_inv.e164).where(_inv.e164 == e164))).first()
    return row is not None


def entry_to_row(entry: InventoryEntry) -> dict[str, Any]:
    return {field: getattr(entry, field) for field in entry.__struct_fields__}
