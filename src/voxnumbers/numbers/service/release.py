"""Release with a cooling-off period, its preview and cancellation, and the return of
numbers to inventory when the period is over."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.audit import service as audit
from voxnumbers.errors import Conflict
from voxnumbers.events.service import record_event
from voxnumbers.inventory import service as inventory
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.etags import IfMatch
from voxnumbers.kit.money import CURRENCY, cents_to_decimal
from voxnumbers.kit.views import view_of
from voxnumbers.numbers import repository
from voxnumbers.numbers.lifecycle import can
from voxnumbers.numbers.schemas import (
    Destination,
    Number,
    NumberRecord,
    Release,
    ReleasePreview,
    RoutingField,
)
from voxnumbers.numbers.service.common import checked_status, owned_number, record_number_event
from voxnumbers.settings import Settings


def early_termination_fee(record: NumberRecord, settings: Settings) -> int:
    """The fee in cents: due while the number is younger than the minimum term."""
    young = utc_now() - record.created_at < timedelta(days=settings.minimum_term_days)
    return settings.early_termination_fee_cents if young else 0


async def preview_release(
    conn: AsyncConnection, account_id: str, e164: str, settings: Settings
) -> ReleasePreview:
    """What releasing the number would cost and change, without changing anything."""
    record = await owned_number(conn, account_id, e164, utc_now(), lock=False)
    fee = early_termination_fee(record, settings)
    warnings = []
    if record.status == "pending":
        warnings.append("The number is pending: it can be released once it is active.")
    elif record.status == "released":
        warnings.append("The number is already released.")
    if fee:
        warnings.append(
            f"Bought less than {settings.minimum_term_days} days ago: an early termination "
            f"fee of {cents_to_decimal(fee)} {CURRENCY} applies."
        )
    if record.trunk_id or record.application_id:
        target = record.trunk_id or record.application_id
        warnings.append(f"Routing to {target} will be removed.")
    return ReleasePreview(
        e164=record.e164,
        can_release=can(record.status, "release"),
        early_termination_fee=cents_to_decimal(fee),
        currency=CURRENCY,
        cooling_off_period_days=settings.cooling_off_days,
        warnings=warnings,
    )


async def release_number(
    conn: AsyncConnection,
    account_id: str,
    e164: str,
    settings: Settings,
    *,
    if_match: IfMatch | None = None,
) -> Release:
    """Release the number: routing is cleared (and remembered for a cancellation), and it
    stays reserved to the account until ``available_after``. ``412`` when ``if_match`` is
    given and the number's current tag is not in it."""
    now = utc_now()
    record = await owned_number(conn, account_id, e164, now, if_match=if_match)
    status = release_status(record)
    fee = early_termination_fee(record, settings)
    available_after = now + timedelta(days=settings.cooling_off_days)
    await repository.update_number(
        conn,
        record,
        status=status,
        released_at=now,
        available_after=available_after,
        previous_trunk_id=record.trunk_id,
        previous_application_id=record.application_id,
        trunk_id=None,
        application_id=None,
        updated_at=now,
    )
    await record_number_event(
        conn, record, "number.released", early_termination_fee=cents_to_decimal(fee)
    )
    return Release(
        e164=record.e164,
        status="released",
        released_at=now,
        early_termination_fee=cents_to_decimal(fee),
        currency=CURRENCY,
        cooling_off_period_days=settings.cooling_off_days,
        available_after=available_after,
    )


async def cancel_release(
    conn: AsyncConnection, account_id: str, e164: str, *, if_match: IfMatch | None = None
) -> Number:
    """Undo a release inside the cooling-off window: active again, with the routing it had
    where that trunk or application still exists. ``412`` when ``if_match`` is given and
    the number's current tag is not in it."""
    now = utc_now()
    # The lock order (docs/architecture.md): the routing targets to restore, then the
    # number. Which targets those are is read first without a lock; only a concurrent
    # cancellation changes them, and then this one finds the number active (409).
    peeked = await owned_number(conn, account_id, e164, now, lock=False, cooled_off=True)
    restorable = await _restorable_routing(conn, account_id, peeked)
    record = await owned_number(conn, account_id, e164, now, cooled_off=True, if_match=if_match)
    status = cancellation_status(record, now)
    trunk_id, application_id = restorable
    await repository.update_number(
        conn,
        record,
        status=status,
        released_at=None,
        available_after=None,
        previous_trunk_id=None,
        previous_application_id=None,
        trunk_id=trunk_id,
        application_id=application_id,
        updated_at=now,
    )
    await record_number_event(conn, record, "number.release_cancelled")
    number = await repository.find_number(conn, account_id, record.e164)
    assert number is not None
    return number


def release_status(record: NumberRecord) -> str:
    """The status a release leads to; ``409`` when the number cannot be released."""
    return checked_status(record, "release")


def cancellation_status(record: NumberRecord, now: datetime) -> str:
    """The status a cancelled release leads to; ``409`` when the number is not released or
    its cooling-off period is over."""
    status = checked_status(record, "cancel_release")
    if not record.is_cooling_off(now):
        raise Conflict(f"{record.e164}: the cooling-off period ended; buy it again instead.")
    return status


async def _restorable_routing(
    conn: AsyncConnection, account_id: str, record: NumberRecord
) -> tuple[str | None, str | None]:
    """The trunk and application a released number routed to, each where it still exists
    (locked against deletion until commit)."""
    return (
        await _existing(conn, account_id, "trunk_id", record.previous_trunk_id),
        await _existing(conn, account_id, "application_id", record.previous_application_id),
    )


async def _existing(
    conn: AsyncConnection, account_id: str, field: RoutingField, target_id: str | None
) -> str | None:
    """``target_id`` where the account still has that trunk (or application), locked."""
    if target_id is None:
        return None
    exists = await repository.routing_target_exists(conn, account_id, Destination(field, target_id))
    return target_id if exists else None


async def return_to_inventory(conn: AsyncConnection, record: NumberRecord) -> None:
    """Move a number whose cooling-off is over back to inventory, as it was bought. A test
    world's number just goes: test mode never touches the live inventory."""
    checked_status(record, "return")
    await repository.delete_number(conn, record)
    if record.live:
        await _restock(conn, record)
    await record_event(
        conn, record.account_id, "number.returned_to_inventory", record.e164, {"e164": record.e164}
    )
    await audit.record(
        conn,
        action="number.returned_to_inventory",
        object_id=record.e164,
        account_id=record.account_id,
        changes={"account_id": (record.account_id, None), "status": (record.status, None)},
    )


async def _restock(conn: AsyncConnection, record: NumberRecord) -> None:
    """Put the number back on sale with the facts and fees it was sold with."""
    await inventory.restock(conn, view_of(inventory.InventoryEntry, record, added_at=utc_now()))


async def sweep_expired_releases(conn: AsyncConnection, limit: int = 500) -> int:
    """Return up to ``limit`` numbers whose cooling-off is over to inventory; returns how
    many. Run periodically; purchases and reads are correct even before it runs."""
    records = await repository.expired_releases(conn, utc_now(), limit)
    for record in records:
        await return_to_inventory(conn, record)
    return len(records)
