"""Rules of owned numbers: listing, reading, buying."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.errors import Conflict, NotFound, ValidationFailed
from voxnumbers.events.service import record_event
from voxnumbers.inventory import repository as inventory
from voxnumbers.inventory.service import country_filter
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.e164 import InvalidNumber, normalize_e164, number_facts
from voxnumbers.kit.jsonc import to_json_data
from voxnumbers.kit.pagination import offset_of, pagination
from voxnumbers.numbers import repository
from voxnumbers.numbers.schemas import Number, NumberFilter, NumberPage, PurchaseRequest


async def list_numbers(
    conn: AsyncConnection,
    account_id: str,
    *,
    country: str | None,
    status: str | None,
    page: int,
    per_page: int,
) -> NumberPage:
    """The seed: a page of the account's numbers with the exact total of the filter.

    Released numbers appear only when asked for with ``status=released``.
    """
    where = NumberFilter(country=country_filter(country), status=status)
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
    number = await repository.find_number(conn, account_id, parse_e164(e164))
    if number is None:
        raise NotFound("No such number in this account.")
    return number


async def purchase_number(
    conn: AsyncConnection, account_id: str, request: PurchaseRequest
) -> Number:
    """Buy a number from inventory: it leaves inventory and joins the account atomically.

    ``pending`` when its inventory entry needs provisioning, ``active`` otherwise.
    """
    e164 = parse_e164(request.e164)
    country = country_filter(request.country)
    actual = number_facts(e164).country
    if country != actual:
        raise ValidationFailed.on("country", f"does not match the number, which is in {actual}")
    entry = await inventory.take(conn, e164)
    if entry is None:
        if await repository.number_exists(conn, e164):
            raise Conflict("This number is not available: it is owned or cooling off.")
        raise NotFound("This number is not in inventory.")
    now = utc_now()
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
            }
        ],
    )
    number = await repository.find_number(conn, account_id, e164)
    assert number is not None
    await record_event(conn, account_id, "number.purchased", e164, event_payload(number))
    return number


def event_payload(number: Number) -> dict[str, Any]:
    """The number as plain JSON data, for an event."""
    return {"number": to_json_data(number)}


def parse_e164(raw: str) -> str:
    """A number from a path or body in any accepted spelling, or ``400`` on field ``e164``."""
    try:
        return normalize_e164(raw)
    except InvalidNumber as exc:
        raise ValidationFailed.on("e164", str(exc)) from exc
