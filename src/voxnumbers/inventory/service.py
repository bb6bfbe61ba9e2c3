"""Rules of the inventory: what a search may ask, and what may be put up for sale."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.errors import ValidationFailed
from voxnumbers.inventory import repository
from voxnumbers.inventory.schemas import AvailableNumberPage, InventoryEntry, InventorySearch
from voxnumbers.inventory.testmode import generated_inventory
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.e164 import digits_filter, is_country_code
from voxnumbers.kit.pagination import offset_of, pagination
from voxnumbers.kit.worlds import is_live, public_id_of
from voxnumbers.numbers.capabilities import to_mask


async def search_inventory(
    conn: AsyncConnection,
    account_id: str,
    *,
    country: str | None,
    number_type: str | None,
    region: str | None,
    capabilities: Sequence[str],
    contains: str | None,
    page: int,
    per_page: int,
) -> AvailableNumberPage:
    """A page of numbers anyone may buy now, in ``e164`` order, with the exact total."""
    search = InventorySearch(
        country=country_filter(country),
        type=number_type,
        region=region.strip() if region and region.strip() else None,
        capabilities_mask=to_mask(capabilities),
        contains=digits_filter(contains),
    )
    now = utc_now()
    if not is_live(account_id):
        return await _search_test_inventory(conn, account_id, search, now, page, per_page)
    total = await repository.count_available(conn, search, now)
    offset = offset_of(page, per_page)
    # Past the end there is nothing to read (and a huge page's offset overflows SQL integers).
    items = (
        await repository.search_available(conn, search, now, limit=per_page, offset=offset)
        if offset < total
        else []
    )
    return AvailableNumberPage(data=items, pagination=pagination(total, len(items), page, per_page))


async def _search_test_inventory(
    conn: AsyncConnection,
    account_id: str,
    search: InventorySearch,
    now: datetime,
    page: int,
    per_page: int,
) -> AvailableNumberPage:
    """The test world's search: its generated numbers, less those it holds (owned, or
    released and still cooling off)."""
    held = await repository.held_in_world(conn, account_id, now)
    found = [
        entry
        for entry in generated_inventory(public_id_of(account_id))
        if entry.e164 not in held and _matches(entry, search)
    ]
    offset = offset_of(page, per_page)
    items = [repository.available_of(entry) for entry in found[offset : offset + per_page]]
    return AvailableNumberPage(
        data=items, pagination=pagination(len(found), len(items), page, per_page)
    )


def _matches(entry: InventoryEntry, search: InventorySearch) -> bool:
    return (
        (search.country is None or entry.country == search.country)
        and (search.type is None or entry.type == search.type)
        and (search.region is None or entry.region.lower() == search.region.lower())
        and entry.capabilities & search.capabilities_mask == search.capabilities_mask
        and (search.contains is None or search.contains in entry.e164)
    )


async def add_to_inventory(conn: AsyncConnection, entries: Sequence[InventoryEntry]) -> int:
    """Put validated entries up for sale; numbers already for sale or owned are skipped.
    Returns how many were added."""
    return await repository.add_entries(conn, entries)


async def any_for_sale(conn: AsyncConnection) -> bool:
    """Whether anything is in inventory (a fresh database has nothing)."""
    return await repository.any_for_sale(conn)


def country_filter(country: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 filter, case-insensitive; ``400`` on anything else."""
    if country is None:
        return None
    code = country.strip().upper()
    if not is_country_code(code):
        raise ValidationFailed.on("country", "must be an ISO 3166-1 alpha-2 country code, e.g. US")
    return code
