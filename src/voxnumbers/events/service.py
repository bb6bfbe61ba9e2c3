"""Recording events: called by every service that changes a number, inside its transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.events import repository
from voxnumbers.events.types import EventType
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.ids import new_id


async def record_event(
    conn: AsyncConnection, account_id: str, type: EventType, e164: str | None, data: dict[str, Any]
) -> str:
    """Write an event and queue one delivery per subscribed webhook endpoint, in the caller's
    transaction: the event exists if and only if the change it describes was committed.
    Returns the event id."""
    now = utc_now()
    event_id = new_id("evt", 20)
    seq = await repository.insert_event(
        conn,
        event_id=event_id,
        account_id=account_id,
        type=type,
        e164=e164,
        data=data,
        created_at=now,
    )
    endpoint_ids = await repository.subscribed_endpoint_ids(conn, account_id, type)
    await repository.insert_deliveries(
        conn, account_id=account_id, event_seq=seq, e164=e164, endpoint_ids=endpoint_ids, at=now
    )
    return event_id
