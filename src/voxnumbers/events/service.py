"""Rules of events and webhook endpoints.

``record_event`` is called by every service that changes a number, inside its transaction;
the rest serves ``/v1/account/{account_id}/events`` and ``…/webhooks``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import partial
from typing import Any, cast
from urllib.parse import urlsplit

import msgspec
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.audit import service as audit
from voxnumbers.errors import Conflict, NotFound, ValidationFailed
from voxnumbers.events import repository
from voxnumbers.events.delivery import DeliveryPolicy, new_http_client, send_signed
from voxnumbers.events.schemas import (
    CreatedWebhook,
    EventFilter,
    EventPage,
    RotatedSecret,
    Webhook,
    WebhookDelivery,
    WebhookDeliveryPage,
    WebhookPage,
    WebhookPatch,
    WebhookRequest,
    WebhookTestResult,
)
from voxnumbers.events.types import EVENT_TYPES
from voxnumbers.events.types import EventType as EventType  # the type record_event takes
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.e164 import parse_e164_query
from voxnumbers.kit.ids import new_id
from voxnumbers.kit.jsonc import encode_json
from voxnumbers.kit.pagination import read_page

MAX_URL_LENGTH = 2000
MAX_WEBHOOKS_PER_ACCOUNT = 20
# Plain http is accepted only for these hosts: a receiver on the developer's own machine.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


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


async def record_events_from(
    conn: AsyncConnection, account_id: str, type: EventType, source: Select[Any]
) -> None:
    """``record_event`` for many events of one type at once, each event's data written by
    the database: one event per row of ``source`` (an ``e164`` and its ``data`` as JSON
    text), in ``e164`` order, and one delivery per event and subscribed endpoint. What a
    bulk job writes for a batch of numbers, in a few statements."""
    now = utc_now()
    endpoint_ids = await repository.subscribed_endpoint_ids(conn, account_id, type)
    written = await repository.insert_events_from(
        conn, source, account_id=account_id, type=type, created_at=now, returning=bool(endpoint_ids)
    )
    await repository.insert_delivery_rows(
        conn,
        [
            {
                "account_id": account_id,
                "endpoint_id": endpoint_id,
                "event_seq": seq,
                "e164": e164,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for seq, e164 in written
            for endpoint_id in endpoint_ids
        ],
    )


async def list_events(
    conn: AsyncConnection,
    account_id: str,
    *,
    type: str | None,
    e164: str | None,
    page: int,
    per_page: int,
) -> EventPage:
    """A page of the account's events, newest first, with the exact total of the filter."""
    where = EventFilter(
        type=_event_type_filter(type), e164=parse_e164_query(e164) if e164 is not None else None
    )
    total = await repository.count_events(conn, account_id, where)
    items, paging = await read_page(
        partial(repository.list_events, conn, account_id, where), total, page, per_page
    )
    return EventPage(data=items, pagination=paging)


async def create_webhook(
    conn: AsyncConnection, account_id: str, request: WebhookRequest
) -> CreatedWebhook:
    """Register an endpoint for the account's events; the answer carries its signing secret,
    which is never shown again."""
    endpoint = CreatedWebhook(
        id=new_id("whk"),
        url=webhook_url(request.url),
        event_types=subscribed_types(request.event_types),
        status="active",
        enabled=True,
        created_at=utc_now(),
        secret=new_id("whsec", 32),
    )
    if await repository.WEBHOOKS.count(conn, account_id) >= MAX_WEBHOOKS_PER_ACCOUNT:
        raise Conflict(
            f"An account can have at most {MAX_WEBHOOKS_PER_ACCOUNT} webhook endpoints; "
            "delete one first."
        )
    await repository.WEBHOOKS.insert(conn, endpoint, account_id=account_id)
    await audit.record_change(
        conn, "webhook.created", endpoint.id, account_id=account_id, after=endpoint
    )
    return endpoint


async def list_webhooks(
    conn: AsyncConnection, account_id: str, *, page: int, per_page: int
) -> WebhookPage:
    """A page of the account's endpoints (without secrets), oldest first."""
    items, paging = await repository.WEBHOOKS.read_page(
        conn, account_id, page=page, per_page=per_page
    )
    return WebhookPage(data=items, pagination=paging)


async def get_webhook(conn: AsyncConnection, account_id: str, webhook_id: str) -> Webhook:
    """One of the account's endpoints; deleted ones and other accounts' are not found."""
    endpoint = await repository.WEBHOOKS.find(conn, account_id, webhook_id)
    if endpoint is None:
        raise NotFound("No such webhook endpoint in this account.")
    return endpoint


async def delete_webhook(conn: AsyncConnection, account_id: str, webhook_id: str) -> Webhook:
    """Delete an endpoint: nothing more is queued for it and its pending deliveries end as
    ``failed``. Returns its final state (``status: "deleted"``)."""
    endpoint = await get_webhook(conn, account_id, webhook_id)
    await repository.mark_endpoint_deleted(conn, webhook_id)
    await repository.fail_pending_deliveries(conn, webhook_id, reason="endpoint deleted")
    await audit.record(
        conn,
        action="webhook.deleted",
        object_id=webhook_id,
        account_id=account_id,
        changes={"status": (endpoint.status, "deleted")},
    )
    endpoint.status = "deleted"
    return endpoint


def webhook_url(url: str) -> str:
    """An absolute ``https`` URL (``http`` only for a loopback host), or ``400`` on ``url``."""
    if not url or len(url) > MAX_URL_LENGTH:
        raise ValidationFailed.on("url", f"must be 1 to {MAX_URL_LENGTH} characters")
    if not url.isascii() or any(ch.isspace() or not ch.isprintable() for ch in url):
        raise ValidationFailed.on("url", "must not contain spaces, control or non-ASCII characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError as exc:
        raise ValidationFailed.on("url", "is not a valid URL") from exc
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if scheme not in ("https", "http") or not host:
        raise ValidationFailed.on("url", "must be an absolute https:// URL")
    if scheme == "http" and host not in LOOPBACK_HOSTS:
        raise ValidationFailed.on(
            "url", "must use https (http is allowed only for localhost, 127.0.0.1 and ::1)"
        )
    return url


def subscribed_types(requested: Sequence[str]) -> list[EventType]:
    """Event types an endpoint asks for, without repeats (empty: every type)."""
    chosen: list[EventType] = []
    for value in requested:
        if value not in EVENT_TYPES:
            raise ValidationFailed.on(
                "event_types",
                f"unknown event type '{value}'; expected any of {', '.join(EVENT_TYPES)}",
            )
        if value not in chosen:
            chosen.append(cast(EventType, value))
    return chosen


def _event_type_filter(value: str | None) -> str | None:
    if value is not None and value not in EVENT_TYPES:
        raise ValidationFailed.on("type", f"must be one of {', '.join(EVENT_TYPES)}")
    return value


async def delivery_backlog(conn: AsyncConnection) -> dict[str, int]:
    """Webhook deliveries still to send (``pending``) and given up on (``failed``), over
    every account: what operators watch (``/metrics``)."""
    return await repository.count_deliveries_by_status(conn, ("pending", "failed"))


# --- webhook management --------------------------------------------------------------------

ROTATION_OVERLAP = timedelta(hours=24)
TEST_EVENT_TYPE = "webhook.test"


async def update_webhook(
    conn: AsyncConnection, account_id: str, webhook_id: str, patch: WebhookPatch
) -> Webhook:
    """Change only the fields given (``url``, ``enabled``, ``event_types``)."""
    current = await get_webhook(conn, account_id, webhook_id)
    values: dict[str, Any] = {}
    if patch.url is not msgspec.UNSET:
        values["url"] = webhook_url(patch.url)
    if patch.enabled is not msgspec.UNSET:
        values["enabled"] = patch.enabled
    if patch.event_types is not msgspec.UNSET:
        values["event_types"] = subscribed_types(patch.event_types)
    if not values:
        return current
    await repository.update_endpoint(conn, webhook_id, values)
    updated = msgspec.structs.replace(current, **values)
    await audit.record_change(
        conn, "webhook.updated", webhook_id, account_id=account_id, before=current, after=updated
    )
    return updated


async def rotate_secret(conn: AsyncConnection, account_id: str, webhook_id: str) -> RotatedSecret:
    """A new signing secret, returned this once; the current one keeps signing deliveries
    (as a second ``v1``) for ``ROTATION_OVERLAP``. A secret rotated out earlier and still
    honoured is dropped: only the two newest sign."""
    await get_webhook(conn, account_id, webhook_id)
    now = utc_now()
    current, _ = await repository.endpoint_secrets(conn, webhook_id, now, for_update=True)
    rotated = RotatedSecret(
        id=webhook_id,
        secret=new_id("whsec", 32),
        previous_secret_expires_at=now + ROTATION_OVERLAP,
    )
    await repository.update_endpoint(
        conn,
        webhook_id,
        {
            "secret": rotated.secret,
            "previous_secret": current,
            "previous_secret_expires_at": rotated.previous_secret_expires_at,
        },
    )
    await audit.record(
        conn,
        action="webhook.secret_rotated",
        object_id=webhook_id,
        account_id=account_id,
        changes={
            "secret": (current, rotated.secret),
            "previous_secret_expires_at": (None, rotated.previous_secret_expires_at),
        },
    )
    return rotated


async def list_deliveries(
    conn: AsyncConnection, account_id: str, webhook_id: str, *, page: int, per_page: int
) -> WebhookDeliveryPage:
    """A page of an endpoint's deliveries, newest first, with the exact total."""
    await get_webhook(conn, account_id, webhook_id)
    total = await repository.count_deliveries(conn, webhook_id)
    items, paging = await read_page(
        partial(repository.list_deliveries, conn, webhook_id), total, page, per_page
    )
    return WebhookDeliveryPage(data=items, pagination=paging)


async def redeliver(
    conn: AsyncConnection, account_id: str, webhook_id: str, delivery_id: str
) -> WebhookDelivery:
    """Queue a delivery again, due now, whatever its status (its attempts are kept); the
    worker sends it in order with the number's other pending deliveries."""
    await get_webhook(conn, account_id, webhook_id)
    seq = _delivery_seq(delivery_id)
    before = await repository.find_delivery(conn, webhook_id, seq) if seq is not None else None
    if before is None or seq is None:
        raise NotFound("No such delivery of this webhook endpoint.")
    await repository.queue_again(conn, seq, utc_now())
    after = await repository.find_delivery(conn, webhook_id, seq)
    assert after is not None
    await audit.record(
        conn,
        action="webhook.delivery_requeued",
        object_type="webhook_delivery",
        object_id=delivery_id,
        account_id=account_id,
        changes={"status": (before.status, after.status)},
    )
    return after


async def send_test_event(
    conn: AsyncConnection, account_id: str, webhook_id: str, *, limit_seconds: float
) -> WebhookTestResult:
    """Send a ``webhook.test`` event to the endpoint now, signed like every delivery, and
    answer what it answered. Nothing is recorded: it is not an event of the account."""
    endpoint = await get_webhook(conn, account_id, webhook_id)
    secret, previous = await repository.endpoint_secrets(conn, webhook_id, utc_now())
    payload = {
        "id": new_id("evt", 20),
        "type": TEST_EVENT_TYPE,
        "created_at": utc_now(),
        "data": {"webhook_id": webhook_id},
    }
    secrets = (secret, *([previous] if previous else []))
    async with new_http_client(DeliveryPolicy(timeout_seconds=limit_seconds)) as http:
        error, status = await send_signed(
            http, endpoint.url, encode_json(payload), secrets, limit_seconds
        )
    return WebhookTestResult(delivered=error is None, response_status=status, error=error)


def _delivery_seq(delivery_id: str) -> int | None:
    prefix, _, digits = delivery_id.partition("_")
    if prefix != "dlv" or not digits.isascii() or not digits.isdigit() or len(digits) > 18:
        return None
    return int(digits)
