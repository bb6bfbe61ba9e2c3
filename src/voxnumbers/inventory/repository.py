"""All SQL of the inventory of numbers for sale."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.db.tables import inventory_numbers, numbers
from voxnumbers.inventory.schemas import AvailableNumber, InventoryEntry, InventorySearch
from voxnumbers.kit.money import CURRENCY, cents_to_decimal
from voxnumbers.vocabulary import to_list

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
        numbers.c.live, numbers.c.status == "released", numbers.c.available_after <= now
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


def available_of(entry: InventoryEntry) -> AvailableNumber:
    """An entry as the search shows it."""
    return AvailableNumber(
        e164=entry.e164,
        country=entry.country,
        type=entry.type,  # type: ignore[arg-type]
        region=entry.region,
        capabilities=to_list(entry.capabilities),  # type: ignore[arg-type]
        monthly_fee=cents_to_decimal(entry.monthly_fee_cents),
        setup_fee=cents_to_decimal(entry.setup_fee_cents),
        currency=CURRENCY,
    )


async def held_in_world(conn: AsyncConnection, account_id: str, now: datetime) -> set[str]:
    """Numbers a world holds at ``now``: owned, or released and still cooling off."""
    query = select(numbers.c.e164).where(
        numbers.c.account_id == account_id,
        ~((numbers.c.status == "released") & (numbers.c.available_after <= now)),
    )
    return {row.e164 for row in await conn.execute(query)}


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
    were added (so importing the same file twice adds nothing the second time).

    The database does the skipping, in the INSERT itself: numbers owned by an account are
    left out (``NOT EXISTS``), and those already for sale, or put up meanwhile by a
    concurrent import of the same numbers, by ``ON CONFLICT DO NOTHING``; the count is what
    the database says it inserted. Rows go as plain tuples (on SQLite a prepared
    ``executemany``; on PostgreSQL arrays of columns, or a COPY for many entries), never
    processed one by one by SQLAlchemy, which costs more than the database's own work.
    """
    if not entries:
        return 0
    if conn.dialect.name != "postgresql":
        result = await conn.exec_driver_sql(_SQLITE_ADD, _rows(conn, entries))
        return int(result.rowcount)
    if len(entries) >= COPY_FROM_ENTRIES:
        return await _copy_entries(conn, entries)
    columns = tuple(zip(*_rows(conn, entries), strict=True))
    return int((await conn.exec_driver_sql(_POSTGRES_ADD, columns)).rowcount)


# The columns every statement below writes, in the order of ``_rows``' values.
_COLUMNS = (*_SHOWN, "needs_provisioning", "added_at")
_SQLITE_ADD = """
INSERT INTO inventory_numbers (e164, country, type, region, capabilities, monthly_fee_cents,
    setup_fee_cents, needs_provisioning, added_at)
SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?
WHERE NOT EXISTS (SELECT 1 FROM numbers WHERE numbers.e164 = ?1 AND numbers.live)
ON CONFLICT (e164) DO NOTHING
"""
_POSTGRES_ADD = """
INSERT INTO inventory_numbers (e164, country, type, region, capabilities, monthly_fee_cents,
    setup_fee_cents, needs_provisioning, added_at)
SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[],
    $5::integer[], $6::integer[], $7::integer[], $8::boolean[], $9::timestamptz[])
    AS staged (e164, country, type, region, capabilities, monthly_fee_cents, setup_fee_cents,
        needs_provisioning, added_at)
WHERE NOT EXISTS (SELECT 1 FROM numbers WHERE numbers.e164 = staged.e164 AND numbers.live)
ORDER BY e164
ON CONFLICT (e164) DO NOTHING
"""

# From this many entries on, PostgreSQL gets them by COPY into a temporary table, then one
# INSERT from there (measured on a million numbers: a third of the client's work of arrays
# of parameters, and a quarter less time). Below it one statement is cheaper than creating
# a table, and a purchase returns numbers to inventory one at a time.
COPY_FROM_ENTRIES = 500
_POSTGRES_STAGE = """
CREATE TEMPORARY TABLE IF NOT EXISTS pg_temp.inventory_import
    (LIKE inventory_numbers INCLUDING DEFAULTS) ON COMMIT DROP
"""
_POSTGRES_ADD_STAGED = """
INSERT INTO inventory_numbers (e164, country, type, region, capabilities, monthly_fee_cents,
    setup_fee_cents, needs_provisioning, added_at)
SELECT e164, country, type, region, capabilities, monthly_fee_cents, setup_fee_cents,
    needs_provisioning, added_at
FROM pg_temp.inventory_import AS staged
WHERE NOT EXISTS (SELECT 1 FROM numbers WHERE numbers.e164 = staged.e164 AND numbers.live)
ORDER BY e164
ON CONFLICT (e164) DO NOTHING
"""
_POSTGRES_EMPTY_STAGED = "TRUNCATE pg_temp.inventory_import"


async def _copy_entries(conn: AsyncConnection, entries: Sequence[InventoryEntry]) -> int:
    """COPY the entries into a temporary table, then insert them from there.

    The table lives in the caller's transaction (dropped at its end, whatever the end), and
    the COPY runs on that transaction's own connection: a rollback takes it all back.
    Creating the table goes through SQLAlchemy first, which begins the transaction on the
    server if nothing has yet.
    """
    await conn.exec_driver_sql(_POSTGRES_STAGE)
    driver = (await conn.get_raw_connection()).driver_connection
    if driver is None or not driver.is_in_transaction():  # a COPY of its own would commit
        raise RuntimeError("COPY needs the caller's transaction")
    await driver.copy_records_to_table(
        "inventory_import", schema_name="pg_temp", records=_rows(conn, entries), columns=_COLUMNS
    )
    added = (await conn.exec_driver_sql(_POSTGRES_ADD_STAGED)).rowcount
    await conn.exec_driver_sql(_POSTGRES_EMPTY_STAGED)
    return int(added)


def _unchanged(value: Any) -> Any:
    return value


def _rows(conn: AsyncConnection, entries: Sequence[InventoryEntry]) -> list[tuple[Any, ...]]:
    """The entries as tuples of database values (``added_at`` as the column type stores it)."""
    stored = _inv.added_at.type.bind_processor(conn.dialect) or _unchanged
    return [
        (
            entry.e164,
            entry.country,
            entry.type,
            entry.region,
            entry.capabilities,
            entry.monthly_fee_cents,
            entry.setup_fee_cents,
            entry.needs_provisioning,
            stored(entry.added_at),
        )
        for entry in entries
    ]


async def any_for_sale(conn: AsyncConnection) -> bool:
    return (await conn.execute(select(_inv.e164).limit(1))).first() is not None


async def is_for_sale(conn: AsyncConnection, e164: str) -> bool:
    row = (await conn.execute(select(_inv.e164).where(_inv.e164 == e164))).first()
    return row is not None


def entry_to_row(entry: InventoryEntry) -> dict[str, Any]:
    return {field: getattr(entry, field) for field in entry.__struct_fields__}
