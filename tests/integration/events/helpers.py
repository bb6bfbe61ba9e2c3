"""Shared pieces of the delivery tests: an account with a webhook endpoint, events."""

from __future__ import annotations

from typing import Any

from voxnumbers.db.engine import Database
from voxnumbers.events import repository
from voxnumbers.events import service as events
from voxnumbers.events.schemas import CreatedWebhook, DeliveryState, WebhookRequest
from voxnumbers.events.types import EventType


async def add_endpoint(
    database: Database, account_id: str, url: str, event_types: list[str] | None = None
) -> CreatedWebhook:
    async with database.transaction() as conn:
        return await events.create_webhook(
            conn, account_id, WebhookRequest(url=url, event_types=event_types or [])
        )


async def add_event(
    database: Database,
    account_id: str,
    e164: str | None,
    type: EventType = "number.routing_changed",
    data: dict[str, Any] | None = None,
) -> str:
    async with database.transaction() as conn:
        return await events.record_event(conn, account_id, type, e164, data or {"e164": e164})


async def deliveries(database: Database, endpoint_id: str) -> list[DeliveryState]:
    async with database.transaction(write=False) as conn:
        return await repository.deliveries_of_endpoint(conn, endpoint_id)
