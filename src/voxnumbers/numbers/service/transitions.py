"""Operator transitions: activate a pending number, suspend and reinstate."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.errors import NotFound, ValidationFailed
from voxnumbers.events.service import EventType
from voxnumbers.kit.clock import utc_now
from voxnumbers.numbers import repository
from voxnumbers.numbers.lifecycle import Action
from voxnumbers.numbers.schemas import Number
from voxnumbers.numbers.service.common import checked_status, record_number_event
from voxnumbers.vocabulary import parse_e164


async def activate(conn: AsyncConnection, e164: str) -> Number:
    """Pending to active, once provisioning is done."""
    return await _transition(conn, e164, "activate", "number.activated")


async def suspend(conn: AsyncConnection, e164: str, reason: str) -> Number:
    """Active to suspended (for example for billing), with the reason in the event."""
    reason = reason.strip()
    if not reason or len(reason) > 200:
        raise ValidationFailed.on("reason", "must be 1 to 200 characters")
    return await _transition(conn, e164, "suspend", "number.suspended", reason=reason)


async def reinstate(conn: AsyncConnection, e164: str) -> Number:
    """Suspended to active."""
    return await _transition(conn, e164, "reinstate", "number.reinstated")


async def _transition(
    conn: AsyncConnection, raw_e164: str, action: Action, event: EventType, **data: Any
) -> Number:
    record = await repository.find_owned_record(conn, parse_e164(raw_e164))
    if record is None:
        raise NotFound("No account owns this number.")
    status = checked_status(record, action)
    await repository.update_number(conn, record, status=status, updated_at=utc_now())
    await record_number_event(conn, record, event, **data)
    number = await repository.find_number(conn, record.account_id, record.e164)
    assert number is not None
    return number
