"""All SQL of events and webhook deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.schema import events, webhook_deliveries, webhook_endpoints


async def insert_event(
    conn: AsyncConnection,
    *,
    event_id: str,
    account_id: str,
    type: str,
    e164: str | None,
    data: dict[str, Any],
    created_at: datetime,
) -> int:
    """Append an event; returns its sequence number (the order of events)."""
    result = await conn.execute(
        events.insert()
        .values(
            id=event_id,
            account_id=account_id,
            type=type,
            e164=e164,
            data=data,
            created_at=created_at,
        )
        .returning(events.c.seq)
    )
    return int(result.scalar_one())


async def subscribed_endpoint_ids(conn: AsyncConnection, account_id: str, type: str) -> list[str]:
    """Active endpoints of the account that want this event type (empty list: all types)."""
    rows = await conn.execute(
        select(webhook_endpoints.c.id, webhook_endpoints.c.event_types).where(
            webhook_endpoints.c.account_id == account_id,
            webhook_endpoints.c.status == "active",
        )
    )
    return [row.id for row in rows if not row.event_types or type in row.event_types]


async def insert_deliveries(
    conn: AsyncConnection,
    *,
    account_id: str,
    event_seq: int,
    e164: str | None,
    endpoint_ids: list[str],
    at: datetime,
) -> None:
    if not endpoint_ids:
        return
    await conn.execute(
        webhook_deliveries.insert(),
        [
            {
                "account_id": account_id,
                "endpoint_id": endpoint_id,
                "event_seq": event_seq,
                "e164": e164,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": at,
                "created_at": at,
            }
            for endpoint_id in endpoint_ids
        ],
    )
