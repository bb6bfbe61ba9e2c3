"""What the number services share: finding a number the account may act on, events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.audit import service as audit
from voxnumbers.errors import Conflict, NotFound
from voxnumbers.events.service import EventType, record_event, record_events_from
from voxnumbers.kit.etags import IfMatch, require_match
from voxnumbers.kit.jsonc import to_json_data
from voxnumbers.numbers import repository
from voxnumbers.numbers.lifecycle import Action, InvalidTransition, next_status
from voxnumbers.numbers.schemas import Number, NumberRecord
from voxnumbers.vocabulary import parse_e164


async def owned_number(
    conn: AsyncConnection,
    account_id: str,
    raw_e164: str,
    now: datetime,
    *,
    lock: bool = True,
    cooled_off: bool = False,
    if_match: IfMatch | None = None,
) -> NumberRecord:
    """The account's number, locked for the transaction; ``404`` if the account does not own
    it, including a released number whose cooling-off is over (it is no longer theirs)
    unless ``cooled_off`` asks for it, to say why it cannot come back. Then ``412`` unless
    its current representation satisfies ``if_match``: checked on the locked row, so no
    other writer can change it between the check and the caller's write."""
    record = await repository.find_record(conn, account_id, parse_e164(raw_e164), for_update=lock)
    record = actionable(record, now, cooled_off=cooled_off)
    if if_match is not None:
        require_match(if_match, repository.to_number(record))
    return record


def actionable(
    record: NumberRecord | None, now: datetime, *, cooled_off: bool = False
) -> NumberRecord:
    """``record`` if the account may act on it: ``404`` when there is none, or when it is a
    released number whose cooling-off is over, unless ``cooled_off`` asks for those too."""
    if record is None:
        raise NotFound("No such number in this account.")
    if record.status == "released" and not record.is_cooling_off(now) and not cooled_off:
        raise NotFound("No such number in this account.")
    return record


def checked_status(record: NumberRecord, action: Action) -> str:
    """The status ``action`` leads to, or ``409`` saying why it is not allowed."""
    try:
        return next_status(record.status, action)
    except InvalidTransition as exc:
        raise Conflict(f"{record.e164}: {exc}.") from exc


async def record_number_events(
    conn: AsyncConnection, account_id: str, e164s: Sequence[str], type: EventType
) -> None:
    """``record_number_event`` for many numbers of the account at once (a bulk job's batch
    writes hundreds): one event each, carrying the number as it is now, written by the
    database from the rows themselves. Their audit entries are written before the change
    (``audit_routing_changes``)."""
    await record_events_from(
        conn, account_id, type, repository.number_events_data(conn, account_id, e164s)
    )


async def audit_routing_changes(
    conn: AsyncConnection,
    account_id: str,
    e164s: Sequence[str],
    *,
    trunk_id: str | None,
    application_id: str | None,
) -> None:
    """The audit entries of routing many numbers of the account (each of which changes) to
    this trunk and application, as ``record_number_event`` writes one for each: the routing
    fields that change, ``[old, new]``. Written before the change, from the rows as they
    were."""
    await audit.record_many_from(
        conn,
        action="number.routing_changed",
        object_type="number",
        account_id=account_id,
        changes=repository.routing_changes(
            conn, account_id, e164s, trunk_id=trunk_id, application_id=application_id
        ),
    )


# What the audit log compares before and after a change of a number.
AUDITED_FIELDS = ("account_id", "status", "trunk_id", "application_id", "available_after")


async def record_number_event(
    conn: AsyncConnection,
    record: NumberRecord,
    type: EventType,
    *,
    created: bool = False,
    changes: dict[str, tuple[Any, Any]] | None = None,
    after: NumberRecord | None = None,
    **data: Any,
) -> None:
    """An event about a number, carrying the number as the API shows it after the change,
    and its audit entry: ``record`` is the number before the change (after it, and
    ``created``, for a purchase); ``changes`` replaces the comparison when the caller knows
    them better. ``after``, when the caller has the number as it is now (a purchase has the
    row it inserted), spares reading it back."""
    if after is not None:
        number: Number | None = repository.to_number(after)
    else:
        number = await repository.find_number(conn, record.account_id, record.e164)
    payload: dict[str, Any] = {"number": to_json_data(number) if number else None}
    payload.update(data)
    await record_event(conn, record.account_id, type, record.e164, payload)
    if changes is None:
        if after is None:
            after = await repository.find_record(conn, record.account_id, record.e164)
        before = None if created else msgspec.structs.asdict(record)
        changes = audit.changes_between(
            before, msgspec.structs.asdict(after) if after else None, AUDITED_FIELDS
        )
    await audit.record(
        conn,
        action=type,
        object_type="number",
        object_id=record.e164,
        account_id=record.account_id,
        changes=changes,
    )
