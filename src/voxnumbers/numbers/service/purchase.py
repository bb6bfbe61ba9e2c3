"""Buying a number: from inventory in the live world, generated in a test world."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.errors import Conflict, NotFound, ValidationFailed
from voxnumbers.inventory import service as inventory
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.worlds import is_live
from voxnumbers.numbers import repository
from voxnumbers.numbers.schemas import Number, NumberRecord, PurchaseRequest
from voxnumbers.numbers.service.common import record_number_event
from voxnumbers.numbers.service.release import return_to_inventory
from voxnumbers.vocabulary import country_filter, country_of, parse_e164


async def purchase_number(
    conn: AsyncConnection, account_id: str, request: PurchaseRequest
) -> Number:
    """Buy a number from inventory: it leaves inventory and joins the account atomically.

    ``pending`` when its inventory entry needs provisioning, ``active`` otherwise. A number
    whose cooling-off ended is back in inventory even if the sweeper has not run yet.
    """
    e164 = parse_e164(request.e164)
    country = country_filter(request.country)
    actual = country_of(e164)
    if country != actual:
        raise ValidationFailed.on("country", f"does not match the number, which is in {actual}")
    now = utc_now()
    if not is_live(account_id):
        return await _purchase_in_test_world(conn, account_id, e164, country, now)
    entry = await inventory.take_for_sale(conn, e164)
    if entry is None:
        owned = await repository.find_owned_record(conn, e164)
        if owned is None:
            raise NotFound("This number is not in inventory.")
        if owned.status != "released" or owned.is_cooling_off(now):
            raise Conflict("This number is not available: it is owned or cooling off.")
        await return_to_inventory(conn, owned)
        entry = await inventory.take_for_sale(conn, e164)
        assert entry is not None
    status = "pending" if entry.needs_provisioning else "active"
    row = owned_row(account_id, entry, status=status, created_at=now)
    await repository.insert_numbers(conn, [row])
    return await _purchased(conn, row)


async def _purchase_in_test_world(
    conn: AsyncConnection, account_id: str, e164: str, country: str | None, now: datetime
) -> Number:
    """Buy in a test world (``spec/API.md`` §10): the live inventory is never read or
    changed. Any valid number the test world does not hold can be bought and is ``active``
    at once; Twilio's magic numbers answer as there."""
    entry = inventory.test_world_entry(account_id, e164, country or country_of(e164))
    row = owned_row(account_id, entry, status="active", created_at=now)
    row["needs_provisioning"] = False
    always = inventory.always_available_in_tests(e164)
    if always:
        # Its buyers in one world queue here, so each replaces the one before it.
        await repository.lock_world(conn, account_id)
    held = await repository.find_record(conn, account_id, e164, for_update=True)
    if held is not None:
        if always:
            # Always available: buying it again replaces the world's earlier purchase.
            await repository.delete_number(conn, held)
        elif held.status != "released" or held.is_cooling_off(now):
            raise Conflict("This number is not available: it is owned or cooling off.")
        else:
            await return_to_inventory(conn, held)
    if not await repository.insert_number_if_free(conn, row):
        # A concurrent purchase of the same number in this test world committed first.
        raise Conflict("This number is not available: it is owned or cooling off.")
    return await _purchased(conn, row)


def owned_row(
    account_id: str,
    entry: inventory.InventoryEntry,
    *,
    status: str,
    created_at: datetime,
    updated_at: datetime | None = None,
    released_at: datetime | None = None,
    available_after: datetime | None = None,
) -> dict[str, Any]:
    """A full ``numbers`` row of ``entry`` owned by the account, routed nowhere; last
    changed when it was bought unless ``updated_at`` says otherwise."""
    return {
        "e164": entry.e164,
        "account_id": account_id,
        "country": entry.country,
        "type": entry.type,
        "region": entry.region,
        "capabilities": entry.capabilities,
        "monthly_fee_cents": entry.monthly_fee_cents,
        "setup_fee_cents": entry.setup_fee_cents,
        "needs_provisioning": entry.needs_provisioning,
        "status": status,
        "trunk_id": None,
        "application_id": None,
        "created_at": created_at,
        "updated_at": updated_at or created_at,
        "released_at": released_at,
        "available_after": available_after,
        "previous_trunk_id": None,
        "previous_application_id": None,
    }


async def _purchased(conn: AsyncConnection, row: dict[str, Any]) -> Number:
    """The event and audit entry of the purchase, and the answer: all from the row just
    inserted (the purchase holds the number's row; nothing else can have changed it)."""
    record = NumberRecord(**row, live=is_live(row["account_id"]))
    await record_number_event(conn, record, "number.purchased", created=True, after=record)
    return repository.to_number(record)
