"""Routing a number to a SIP trunk or a voice application (never both)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.errors import ApiError, Conflict, ValidationFailed
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.etags import IfMatch
from voxnumbers.numbers import repository
from voxnumbers.numbers.schemas import Destination, NumberRecord, Routing, RoutingField
from voxnumbers.numbers.service.common import (
    actionable,
    audit_routing_changes,
    checked_status,
    owned_number,
    record_number_event,
    record_number_events,
)


async def unassign_trunk(
    conn: AsyncConnection, account_id: str, e164: str, *, if_match: IfMatch | None = None
) -> Routing:
    """Remove the trunk; idempotent (also when none was assigned), but ``412`` when
    ``if_match`` is given and the number's current tag is not in it."""
    return await _unroute(conn, account_id, e164, "trunk_id", if_match)


async def unassign_application(
    conn: AsyncConnection, account_id: str, e164: str, *, if_match: IfMatch | None = None
) -> Routing:
    """Remove the application; idempotent (also when none was assigned), but ``412`` when
    ``if_match`` is given and the number's current tag is not in it."""
    return await _unroute(conn, account_id, e164, "application_id", if_match)


async def route_numbers(
    conn: AsyncConnection, account_id: str, e164s: list[str], target: Destination
) -> dict[str, bool | ApiError]:
    """Route many numbers (canonical e164s) to a trunk or an application in a few
    statements, under the rules of ``assign_trunk`` and ``assign_application`` and their
    lock order (the target, then the numbers, in e164 order): for each number, whether it
    changed, or the error its single-number endpoint answers. One event per change."""
    now = utc_now()
    trunk_id, application_id = target.routing
    target_exists = await repository.routing_target_exists(conn, account_id, target)
    records = await repository.lock_records(conn, account_id, e164s)
    outcomes: dict[str, bool | ApiError] = {}
    for e164 in e164s:
        try:
            record = actionable(records.get(e164), now)
            changes = routing_change(record, trunk_id, application_id)
            if not target_exists:
                raise ValidationFailed.on(target.field, "does not exist in this account")
        except ApiError as error:
            outcomes[e164] = error
            continue
        outcomes[e164] = changes
    await _set_routing(conn, account_id, outcomes, trunk_id, application_id, now)
    return outcomes


async def unroute_numbers(
    conn: AsyncConnection, account_id: str, e164s: list[str]
) -> dict[str, bool | ApiError]:
    """Remove the trunk or application of many numbers (canonical e164s) in a few
    statements, under the rules of ``unassign_trunk`` and ``unassign_application``: for
    each number, whether it changed, or the error its single-number endpoint answers."""
    now = utc_now()
    records = await repository.lock_records(conn, account_id, e164s)
    outcomes: dict[str, bool | ApiError] = {}
    for e164 in e164s:
        try:
            outcomes[e164] = unrouting_change(actionable(records.get(e164), now))
        except ApiError as error:
            outcomes[e164] = error
    await _set_routing(conn, account_id, outcomes, None, None, now)
    return outcomes


async def _set_routing(
    conn: AsyncConnection,
    account_id: str,
    outcomes: Mapping[str, bool | ApiError],
    trunk_id: str | None,
    application_id: str | None,
    now: datetime,
) -> None:
    """Route the numbers whose outcome is a change to this target (or to none), with an
    audit entry (from the routing before) and an event (with the number after) each."""
    changed = [e164 for e164, outcome in outcomes.items() if outcome is True]
    if not changed:
        return
    await audit_routing_changes(
        conn, account_id, changed, trunk_id=trunk_id, application_id=application_id
    )
    await repository.set_routing(
        conn, account_id, changed, trunk_id=trunk_id, application_id=application_id, updated_at=now
    )
    await record_number_events(conn, account_id, changed, "number.routing_changed")


def routing_change(record: NumberRecord, trunk_id: str | None, application_id: str | None) -> bool:
    """Whether routing the number to this target changes it; ``409`` when the number cannot
    be routed (released)."""
    checked_status(record, "route")
    return (record.trunk_id, record.application_id) != (trunk_id, application_id)


def unrouting_change(
    record: NumberRecord, fields: tuple[str, ...] = ("trunk_id", "application_id")
) -> bool:
    """Whether removing these routing fields changes the number (idempotent: not when none
    is set); ``409`` when it has one but cannot be routed."""
    routed = any(getattr(record, field) is not None for field in fields)
    if routed:
        checked_status(record, "route")
    return routed


# How many of the account's numbers route to a trunk (or an application).
count_routed = repository.count_routed


async def unroute_before_delete(
    conn: AsyncConnection, account_id: str, target: Destination, *, force: bool
) -> None:
    """Before a trunk (or application) is deleted: ``409`` while numbers route to it, unless
    ``force``, which unassigns them (``unroute_all``). The caller has locked the target's row,
    so no number can be routed to it between the count and the delete."""
    routed = await count_routed(conn, account_id, target)
    if routed and not force:
        raise Conflict(
            f"{routed} number(s) still route to this {target.noun}: unassign them first, "
            "or delete with ?force=true to unassign them."
        )
    if routed:
        await unroute_all(conn, account_id, target)


async def unroute_all(conn: AsyncConnection, account_id: str, target: Destination) -> int:
    """Clear a trunk (or application) from every number routed to it, with one event per
    number; used when the trunk or application is deleted with ``force``."""
    changed = await repository.unroute_all(conn, account_id, utc_now(), target)
    for e164 in changed:
        record = await repository.find_record(conn, account_id, e164)
        assert record is not None
        await record_number_event(
            conn,
            record,
            "number.routing_changed",
            changes={target.field: (target.id, None)},
            reason="target_deleted",
        )
    return len(changed)


async def _route(
    conn: AsyncConnection,
    account_id: str,
    e164: str,
    target_id: str,
    *,
    target_field: RoutingField,
    if_match: IfMatch | None = None,
) -> Routing:
    """Route the number to the trunk (``target_field`` ``trunk_id``) or the application
    ``target_id``, clearing the other."""
    target = Destination(target_field, target_id)
    trunk_id, application_id = target.routing
    now = utc_now()
    # The lock order (docs/architecture.md): the routing target before the number.
    target_exists = await repository.routing_target_exists(conn, account_id, target)
    record = await owned_number(conn, account_id, e164, now, if_match=if_match)
    changes = routing_change(record, trunk_id, application_id)
    if not target_exists:
        raise ValidationFailed.on(target_field, "does not exist in this account")
    if changes:
        await repository.update_number(
            conn, record, trunk_id=trunk_id, application_id=application_id, updated_at=now
        )
        await record_number_event(conn, record, "number.routing_changed")
    return await _routing_of(conn, account_id, record.e164)


# Route the number to one of the account's trunks (or applications); the other is cleared.
# ``412`` when ``if_match`` is given and the number's current tag is not in it.
assign_trunk = partial(_route, target_field="trunk_id")
assign_application = partial(_route, target_field="application_id")


async def _unroute(
    conn: AsyncConnection, account_id: str, e164: str, field: str, if_match: IfMatch | None
) -> Routing:
    _, e164 = await _unroute_changed(conn, account_id, e164, field, if_match)
    return await _routing_of(conn, account_id, e164)


async def _unroute_changed(
    conn: AsyncConnection, account_id: str, e164: str, field: str, if_match: IfMatch | None
) -> tuple[bool, str]:
    now = utc_now()
    record = await owned_number(conn, account_id, e164, now, if_match=if_match)
    changes = unrouting_change(record, (field,))
    if changes:
        await repository.update_number(conn, record, **{field: None, "updated_at": now})
        await record_number_event(conn, record, "number.routing_changed")
    return changes, record.e164


async def _routing_of(conn: AsyncConnection, account_id: str, e164: str) -> Routing:
    record = await repository.find_record(conn, account_id, e164)
    assert record is not None
    return routing_view(record)


def routing_view(record: NumberRecord) -> Routing:
    return Routing(
        e164=record.e164,
        trunk_id=record.trunk_id,
        application_id=record.application_id,
        status=record.status,  # type: ignore[arg-type]
        updated_at=record.updated_at,
    )
