"""Listing, reading and buying numbers (the seed and its neighbours)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.errors import Conflict, NotFound, ValidationFailed
from voxnumbers.inventory import repository as inventory
from voxnumbers.inventory.service import country_filter
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.e164 import number_facts, parse_e164
from voxnumbers.kit.pagination import offset_of, pagination
from voxnumbers.numbers import repository
from voxnumbers.numbers.schemas import Number, NumberFilter, NumberPage, PurchaseRequest
from voxnumbers.numbers.service.common import owned_number, record_number_event
from voxnumbers.numbers.service.release import return_to_inventory


async def list_numbers(
    conn: AsyncConnection,
    account_id: str,
    *,
    country: str | None,
    status: str | None,
    page: int,
    per_page: int,
    trunk_id: str | None = None,
    application_id: str | None = None,
    routed: bool | None = None,
) -> NumberPage:
    """The seed: a page of the account's numbers with the exact total of the filter.

    Released numbers appear only when asked for with ``status=released`` (and only while
    cooling off). Totals of the seed filters come from the maintained counts; other filters
    (routing, released numbers, whose cooling-off ends with time alone) are counted.
    """
    where = NumberFilter(
        country=country_filter(country),
        status=status,
        now=utc_now(),
        trunk_id=trunk_id,
        application_id=application_id,
        routed=routed,
    )
    total = await repository.count_numbers(conn, account_id, where)
    offset = offset_of(page, per_page)
    items = (
        await repository.list_numbers(conn, account_id, where, limit=per_page, offset=offset)
        if offset < total
        else []
    )
    return NumberPage(data=items, pagination=pagination(total, len(items), page, per_page))


async def get_number(conn: AsyncConnection, account_id: str, e164: str) -> Number:
    """One of the account's numbers; another account's number is simply not found."""
    record = await owned_number(conn, account_id, e164, utc_now(), lock=False)
    number = await repository.find_number(conn, account_id, record.e164)
    assert number is not None
    return number


async def purchase_number(
    conn: AsyncConnection, account_id: str, request: PurchaseRequest
) -> Number:
    """Buy a number from inventory: it leaves inventory and joins the account atomically.

    ``pending`` when its inventory entry needs provisioning, ``active`` otherwise. A number
    whose cooling-off ended is back in inventory even if the sweeper has not run yet.
    """
    e164 = parse_e164(request.e164)
    country = country_filter(request.country)
    actual = number_facts(e164).country
    if country != actual:
        raise ValidationFailed.on("country", f"does not match the number, which is in {actual}")
    now = utc_now()
    entry = await inventory.take(conn, e164)
    if entry is None:
        owned = await repository.find_owned_record(conn, e164)
        if owned is None:
            raise NotFound("This number is not in inventory.")
        if owned.status != "released" or owned.is_cooling_off(now):
            raise Conflict("This number is not available: it is owned or cooling off.")
        await return_to_inventory(conn, owned)
        entry = await inventory.take(conn, e164)
        assert entry is not None
    await repository.insert_numbers(
        conn,
        [
            {
                "e164": e164,
                "account_id": account_id,
                "country": entry.country,
                "type": entry.type,
                "region": entry.region,
                "capabilities": entry.capabilities,
                "monthly_fee_cents": entry.monthly_fee_cents,
                "setup_fee_cents": entry.setup_fee_cents,
                "needs_provisioning": entry.needs_provisioning,
                "status": "pending" if entry.needs_provisioning else "active",
                "trunk_id": None,
                "application_id": None,
                "created_at": now,
                "updated_at": now,
                "released_at": None,
                "available_after": None,
                "previous_trunk_id": None,
                "previous_application_id": None,
            }
        ],
    )
    record = await owned_number(conn, account_id, e164, now, lock=False)
    await record_number_event(conn, record, "number.purchased")
    number = await repository.find_number(conn, account_id, e164)
    assert number is not None
    return number
