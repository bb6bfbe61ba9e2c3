"""Rules of the inventory: what a search may ask, what may be put up for sale, and the
hand-over of a number between inventory and its buyer (the door ``numbers`` uses)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from operator import attrgetter

from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.audit import service as audit
from voxnumbers.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from voxnumbers.inventory import repository, testmode
from voxnumbers.inventory.importer import ValidatedFile, read_inventory_text
from voxnumbers.inventory.schemas import (
    AvailableNumber,
    AvailableNumberPage,
    InventorySearch,
)

# The inventory's entry is part of this door: numbers restocks and buys with it.
from voxnumbers.inventory.schemas import InventoryEntry as InventoryEntry
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.pagination import offset_of, pagination, read_page
from voxnumbers.kit.worlds import is_live, public_id_of
from voxnumbers.vocabulary import country_filter, digits_filter, parse_e164, to_mask

UPLOAD_FIELD = "csv"
PROBLEMS_SHOWN = 50


async def search_inventory(
    conn: AsyncConnection,
    account_id: str | None,
    *,
    country: str | None,
    number_type: str | None,
    region: str | None,
    capabilities: Sequence[str],
    contains: str | None,
    page: int,
    per_page: int,
) -> AvailableNumberPage:
    """A page of numbers anyone may buy now, in ``e164`` order, with the exact total: those
    of the world ``account_id`` acts in (a test world has its own), or with ``None`` (an
    operator's view) the live inventory."""
    search = InventorySearch(
        country=country_filter(country),
        type=number_type,
        region=region.strip() if region and region.strip() else None,
        capabilities_mask=to_mask(capabilities),
        contains=digits_filter(contains),
    )
    now = utc_now()
    if account_id is not None and not is_live(account_id):
        return await _search_test_inventory(conn, account_id, search, now, page, per_page)
    total = await repository.count_available(conn, search, now)
    items, paging = await read_page(
        partial(repository.search_available, conn, search, now), total, page, per_page
    )
    return AvailableNumberPage(data=items, pagination=paging)


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
        for entry in testmode.generated_inventory(public_id_of(account_id))
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
    Returns how many were added. The import is one audit entry (per batch), not one per
    number: ``changes`` holds how many were offered and added."""
    added = await repository.add_entries(conn, entries)
    if entries:
        await audit.record(
            conn,
            action="inventory.imported",
            object_id=f"{entries[0].e164}..{entries[-1].e164}"
            if len(entries) > 1
            else entries[0].e164,
            changes={"added": (None, added), "offered": (None, len(entries))},
        )
    return added


def import_problems(checked: ValidatedFile, *, skip_invalid: bool) -> None:
    """The import rules of a validated file: a header that cannot be used refuses the file;
    invalid rows refuse it too unless ``skip_invalid`` (``400``, one detail per row, on
    ``field``, as ``line <n>: <reason>``)."""
    if not checked.readable:
        raise ValidationFailed(
            "The header row is not usable: nothing imported.",
            [FieldProblem(UPLOAD_FIELD, f"line {p.line}: {p.reason}") for p in checked.problems],
        )
    if checked.problems and not skip_invalid:
        shown = checked.problems[:PROBLEMS_SHOWN]
        raise ValidationFailed(
            f"{len(checked.problems):,} invalid row(s) of {checked.rows:,}: nothing imported. "
            "Fix them, or pass skip_invalid to import the valid rows only.",
            [FieldProblem(UPLOAD_FIELD, f"line {p.line}: {p.reason}") for p in shown],
        )


def validate_csv_text(text: str) -> ValidatedFile:
    """Validate an inventory CSV given as text (an upload), row by row, with the rules of
    ``vox admin inventory import``."""
    return read_inventory_text(text)


async def import_entries(
    conn: AsyncConnection,
    entries: Sequence[InventoryEntry],
    batch_size: int,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Put validated entries up for sale in the caller's transaction (all or nothing), a
    batch at a time, in number order: each batch then falls on a few neighbouring pages of
    the indexes instead of all over them (on SQLite, four times faster for a million
    numbers). ``on_batch`` is told how many entries each batch held."""
    ordered = sorted(entries, key=attrgetter("e164"))
    added = 0
    for start in range(0, len(ordered), batch_size):
        batch = ordered[start : start + batch_size]
        added += await add_to_inventory(conn, batch)
        if on_batch is not None:
            on_batch(len(batch))
    return added


async def remove_from_inventory(conn: AsyncConnection, raw_e164: str) -> AvailableNumber:
    """Take a number off sale; ``404`` when it is not for sale. Answers what was removed."""
    e164 = parse_e164(raw_e164)
    entry = await repository.take(conn, e164)
    if entry is None:
        raise NotFound("This number is not in inventory.")
    await audit.record(
        conn,
        action="inventory.removed",
        object_type="inventory_number",
        object_id=e164,
        changes={"status": ("for_sale", None)},
    )
    return repository.available_of(entry)


async def any_for_sale(conn: AsyncConnection) -> bool:
    """Whether anything is in inventory (a fresh database has nothing)."""
    return await repository.any_for_sale(conn)


# -- the hand-over to and from ``numbers`` (its purchase and its return to inventory) --------


async def take_for_sale(conn: AsyncConnection, e164: str) -> InventoryEntry | None:
    """Take a number off sale for its buyer and answer its entry; ``None`` when it is not
    (or no longer) for sale. Of concurrent buyers exactly one gets it."""
    return await repository.take(conn, e164)


async def restock(conn: AsyncConnection, entry: InventoryEntry) -> None:
    """Put a number that comes back from its owner up for sale again, as it was bought (no
    audit entry of its own: the return to inventory records one)."""
    await repository.add_entries(conn, [entry])


def test_world_entry(account_id: str, e164: str, country: str) -> InventoryEntry:
    """What a test world buys when it buys ``e164`` (``spec/API.md`` §10): any valid number
    it does not hold, generated, never the live inventory. Twilio's magic numbers answer as
    there: the invalid one ``400`` on ``e164``, the unavailable one ``409``."""
    if e164 == testmode.MAGIC_INVALID:
        raise ValidationFailed.on("e164", "is invalid (test mode's magic invalid number)")
    if e164 == testmode.MAGIC_UNAVAILABLE:
        raise Conflict("This number is not available (test mode's magic unavailable number).")
    return testmode.purchase_entry(public_id_of(account_id), e164, country)


def always_available_in_tests(e164: str) -> bool:
    """Whether ``e164`` is test mode's magic always-available number: buying it again in a
    test world replaces the world's earlier purchase."""
    return e164 == testmode.MAGIC_AVAILABLE
