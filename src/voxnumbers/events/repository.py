"""All SQL of events, webhook endpoints and the delivery queue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, and_, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.db.dialects import as_json, random_id
from voxnumbers.db.tables import events, webhook_deliveries, webhook_endpoints
from voxnumbers.db.types import Timestamp
from voxnumbers.events.schemas import (
    Delivery,
    DeliveryState,
    Event,
    EventFilter,
    EventPayload,
    Webhook,
    WebhookDelivery,
)
from voxnumbers.kit.account_rows import AccountRows
from voxnumbers.kit.worlds import is_live


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


async def insert_events_from(
    conn: AsyncConnection,
    source: Select[Any],
    *,
    account_id: str,
    type: str,
    created_at: datetime,
    returning: bool,
) -> list[tuple[int, str]]:
    """Append one event per row of ``source`` (its ``e164`` and its ``data`` as JSON text),
    in ``e164`` order, each with an id the database makes (``db.dialects.random_id``): the
    rows go from the source to the log without passing through Python. With ``returning``,
    each event's ``(seq, e164)``, in order."""
    given = source.subquery()
    rows = (
        select(
            random_id(conn, "evt", 20),
            literal(account_id, String()),
            literal(type, String()),
            given.c.e164,
            as_json(conn, given.c.data),
            literal(created_at, Timestamp()),
        )
        .select_from(given)
        .order_by(given.c.e164)
    )
    columns = ["id", "account_id", "type", "e164", "data", "created_at"]
    statement = events.insert().from_select(columns, rows)
    if not returning:
        await conn.execute(statement)
        return []
    result = await conn.execute(statement.returning(events.c.seq, events.c.e164))
    return sorted((int(seq), str(e164)) for seq, e164 in result)


async def subscribed_endpoint_ids(conn: AsyncConnection, account_id: str, type: str) -> list[str]:
    """Active endpoints of the account that want this event type (empty list: all types)."""
    rows = await conn.execute(
        select(webhook_endpoints.c.id, webhook_endpoints.c.event_types).where(
            webhook_endpoints.c.account_id == account_id,
            webhook_endpoints.c.status == "active",
            webhook_endpoints.c.enabled.is_(True),
        )
    )
    return [row.id for row in rows if not row.event_types or type in row.event_types]


async def insert_delivery_rows(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Queue deliveries (full rows)."""
    if rows:
        await conn.execute(webhook_deliveries.insert(), rows)


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


# --- events list ---------------------------------------------------------------------------

_EVENT_COLUMNS = (
    events.c.id,
    events.c.type,
    events.c.e164,
    events.c.data,
    events.c.created_at,
)


def _events_filtered(query: Select[Any], account_id: str, where: EventFilter) -> Select[Any]:
    query = query.where(events.c.account_id == account_id)
    if where.type is not None:
        query = query.where(events.c.type == where.type)
    if where.e164 is not None:
        query = query.where(events.c.e164 == where.e164)
    return query


async def list_events(
    conn: AsyncConnection, account_id: str, where: EventFilter, *, limit: int, offset: int
) -> list[Event]:
    """One page of the account's events, newest first (``seq`` is the order of events)."""
    query = (
        _events_filtered(select(*_EVENT_COLUMNS), account_id, where)
        .order_by(events.c.seq.desc())
        .limit(limit)
        .offset(offset)
    )
    livemode = is_live(account_id)
    return [Event(**row._mapping, livemode=livemode) for row in await conn.execute(query)]


async def count_events(conn: AsyncConnection, account_id: str, where: EventFilter) -> int:
    query = _events_filtered(select(func.count()).select_from(events), account_id, where)
    return int((await conn.execute(query)).scalar_one())


# --- webhook endpoints ---------------------------------------------------------------------

# Active endpoints only: a deleted one is not found, listed nor counted.
WEBHOOKS = AccountRows(
    webhook_endpoints, Webhook, id_prefix="whk", visible=webhook_endpoints.c.status == "active"
)


async def mark_endpoint_deleted(conn: AsyncConnection, webhook_id: str) -> None:
    await conn.execute(
        update(webhook_endpoints)
        .where(webhook_endpoints.c.id == webhook_id)
        .values(status="deleted")
    )


async def fail_pending_deliveries(conn: AsyncConnection, endpoint_id: str, *, reason: str) -> int:
    """End every pending delivery to an endpoint (one in flight records nothing afterwards,
    because its result is only written while the delivery is still pending)."""
    result = await conn.execute(
        update(webhook_deliveries)
        .where(
            webhook_deliveries.c.endpoint_id == endpoint_id,
            webhook_deliveries.c.status == "pending",
        )
        .values(status="failed", last_error=reason, locked_until=None)
    )
    return int(result.rowcount or 0)


# --- the delivery queue --------------------------------------------------------------------

_d = webhook_deliveries.c


def _due(now: datetime) -> Any:
    return and_(
        _d.status == "pending",
        _d.next_attempt_at <= now,
        or_(_d.locked_until.is_(None), _d.locked_until < now),
    )


async def any_due(conn: AsyncConnection, now: datetime) -> bool:
    """Whether some delivery may be due (a cheap read before taking any write lock)."""
    row = (await conn.execute(select(_d.seq).where(_due(now)).limit(1))).first()
    return row is not None


async def claim_due(
    conn: AsyncConnection, now: datetime, *, lease_until: datetime, limit: int
) -> list[Delivery]:
    """Lease up to ``limit`` due deliveries to the caller and return them, oldest first.

    Only the oldest pending delivery of each (endpoint, number) can be claimed, so one
    number's events go out in order. Claims are exclusive: PostgreSQL skips rows another
    worker is claiming (``FOR UPDATE SKIP LOCKED``); on SQLite the caller's write
    transaction holds the database's write lock.
    """
    earlier = webhook_deliveries.alias("earlier")
    waiting = (
        select(earlier.c.seq)
        .where(
            earlier.c.endpoint_id == _d.endpoint_id,
            earlier.c.e164 == _d.e164,
            earlier.c.status == "pending",
            earlier.c.seq < _d.seq,
        )
        .exists()
    )
    claimable = (
        select(_d.seq)
        .where(_due(now), ~waiting)
        .order_by(_d.seq)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = await conn.execute(
        update(webhook_deliveries)
        .where(_d.seq.in_(claimable.scalar_subquery()))
        .values(locked_until=lease_until)
        .returning(_d.seq)
    )
    seqs = list(claimed.scalars())
    if not seqs:
        return []
    rows = await conn.execute(
        select(
            _d.seq,
            _d.endpoint_id,
            _d.attempts,
            _d.locked_until,
            webhook_endpoints.c.url,
            webhook_endpoints.c.secret,
            webhook_endpoints.c.previous_secret,
            webhook_endpoints.c.previous_secret_expires_at,
            webhook_endpoints.c.status.label("endpoint_status"),
            events.c.id.label("event_id"),
            events.c.type,
            events.c.created_at,
            events.c.data,
            events.c.account_id,
        )
        .join(webhook_endpoints, webhook_endpoints.c.id == _d.endpoint_id)
        .join(events, events.c.seq == _d.event_seq)
        .where(_d.seq.in_(seqs))
        .order_by(_d.seq)
    )
    deliveries, orphans = [], []
    for row in rows:
        if row.endpoint_status != "active":
            # Queued while the endpoint was being deleted: never send it.
            orphans.append(row.seq)
            continue
        deliveries.append(
            Delivery(
                seq=row.seq,
                endpoint_id=row.endpoint_id,
                url=row.url,
                secret=row.secret,
                previous_secret=_honoured(row.previous_secret, row.previous_secret_expires_at, now),
                attempts=row.attempts,
                locked_until=row.locked_until,
                event=EventPayload(
                    id=row.event_id,
                    type=row.type,
                    created_at=row.created_at,
                    data=row.data,
                    livemode=is_live(row.account_id),
                ),
            )
        )
    if orphans:
        await conn.execute(
            update(webhook_deliveries)
            .where(_d.seq.in_(orphans))
            .values(status="failed", last_error="endpoint deleted", locked_until=None)
        )
    return deliveries


def _honoured(secret: str | None, expires_at: datetime | None, now: datetime) -> str | None:
    """A rotated-out secret while it still signs deliveries."""
    if secret is None or expires_at is None or expires_at <= now:
        return None
    return secret


def _still_leased(delivery: Delivery) -> Any:
    return and_(
        _d.seq == delivery.seq,
        _d.status == "pending",
        _d.locked_until == delivery.locked_until,
    )


async def mark_delivered(
    conn: AsyncConnection, delivery: Delivery, *, at: datetime, response_status: int | None = None
) -> bool:
    """Record a successful attempt; ``False`` if the lease was lost (nothing written)."""
    result = await conn.execute(
        update(webhook_deliveries)
        .where(_still_leased(delivery))
        .values(
            status="delivered",
            attempts=_d.attempts + 1,
            delivered_at=at,
            locked_until=None,
            last_error=None,
            last_response_status=response_status,
        )
    )
    return bool(result.rowcount)


async def mark_attempt_failed(
    conn: AsyncConnection,
    delivery: Delivery,
    *,
    error: str,
    next_attempt_at: datetime,
    give_up: bool,
    response_status: int | None = None,
) -> bool:
    """Record a failed attempt: retried at ``next_attempt_at``, or ``failed`` for good when
    ``give_up``. ``False`` if the lease was lost (nothing written)."""
    result = await conn.execute(
        update(webhook_deliveries)
        .where(_still_leased(delivery))
        .values(
            status="failed" if give_up else "pending",
            attempts=_d.attempts + 1,
            next_attempt_at=next_attempt_at,
            locked_until=None,
            last_error=error[:500],
            last_response_status=response_status,
        )
    )
    return bool(result.rowcount)


async def deliveries_of_endpoint(conn: AsyncConnection, endpoint_id: str) -> list[DeliveryState]:
    """Every delivery to an endpoint, in queue order."""
    rows = await conn.execute(
        select(
            _d.seq,
            events.c.id.label("event_id"),
            _d.e164,
            _d.status,
            _d.attempts,
            _d.next_attempt_at,
            _d.locked_until,
            _d.last_error,
            _d.delivered_at,
        )
        .join(events, events.c.seq == _d.event_seq)
        .where(_d.endpoint_id == endpoint_id)
        .order_by(_d.seq)
    )
    return [DeliveryState(**row._mapping) for row in rows]


async def count_deliveries_by_status(
    conn: AsyncConnection, statuses: Sequence[str]
) -> dict[str, int]:
    """How many deliveries are in each of ``statuses`` (absent: none)."""
    query = (
        select(webhook_deliveries.c.status, func.count())
        .where(webhook_deliveries.c.status.in_(statuses))
        .group_by(webhook_deliveries.c.status)
    )
    return {status: int(count) for status, count in (await conn.execute(query)).all()}


# --- webhook management --------------------------------------------------------------------


async def update_endpoint(conn: AsyncConnection, webhook_id: str, values: dict[str, Any]) -> None:
    await conn.execute(
        update(webhook_endpoints).where(webhook_endpoints.c.id == webhook_id).values(**values)
    )


async def endpoint_secrets(
    conn: AsyncConnection, webhook_id: str, now: datetime, *, for_update: bool = False
) -> tuple[str, str | None]:
    """An endpoint's signing secret, and its previous one while that is still honoured."""
    query = select(
        webhook_endpoints.c.secret,
        webhook_endpoints.c.previous_secret,
        webhook_endpoints.c.previous_secret_expires_at,
    ).where(webhook_endpoints.c.id == webhook_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).one()
    return row.secret, _honoured(row.previous_secret, row.previous_secret_expires_at, now)


_DELIVERY_COLUMNS = (
    _d.seq,
    events.c.id.label("event_id"),
    events.c.type.label("event_type"),
    _d.e164,
    _d.status,
    _d.attempts,
    _d.last_response_status,
    _d.last_error,
    _d.next_attempt_at,
    _d.delivered_at,
    _d.created_at,
)


def _delivery_view(row: Any) -> WebhookDelivery:
    values = dict(row._mapping)
    seq = values.pop("seq")
    if values["status"] != "pending":
        values["next_attempt_at"] = None
    return WebhookDelivery(id=f"dlv_{seq}", **values)


async def list_deliveries(
    conn: AsyncConnection, endpoint_id: str, *, limit: int, offset: int
) -> list[WebhookDelivery]:
    """One page of an endpoint's deliveries, newest first."""
    rows = await conn.execute(
        select(*_DELIVERY_COLUMNS)
        .join(events, events.c.seq == _d.event_seq)
        .where(_d.endpoint_id == endpoint_id)
        .order_by(_d.seq.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_delivery_view(row) for row in rows]


async def count_deliveries(conn: AsyncConnection, endpoint_id: str) -> int:
    query = (
        select(func.count()).select_from(webhook_deliveries).where(_d.endpoint_id == endpoint_id)
    )
    return int((await conn.execute(query)).scalar_one())


async def find_delivery(
    conn: AsyncConnection, endpoint_id: str, seq: int
) -> WebhookDelivery | None:
    row = (
        await conn.execute(
            select(*_DELIVERY_COLUMNS)
            .join(events, events.c.seq == _d.event_seq)
            .where(_d.endpoint_id == endpoint_id, _d.seq == seq)
        )
    ).first()
    return _delivery_view(row) if row else None


async def queue_again(conn: AsyncConnection, seq: int, at: datetime) -> None:
    """Make a delivery due again at ``at`` (a lease in flight is left to end)."""
    await conn.execute(
        update(webhook_deliveries)
        .where(_d.seq == seq)
        .values(status="pending", next_attempt_at=at, delivered_at=None)
    )
