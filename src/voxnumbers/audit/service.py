"""Rules of the audit log.

``record`` is called by every service that changes something, inside the transaction of the
change, so an entry exists if and only if its change was committed. The actor, request id
and client address come from ``kit.actors`` (set by the request guards, the operator
commands, maintenance and workers). Values of secret fields never reach an entry: they are
written as ``"[redacted]"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.audit import repository
from voxnumbers.audit.schemas import AuditFilter, AuditPage
from voxnumbers.errors import ValidationFailed
from voxnumbers.kit.actors import current_actor
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.cursor import InvalidCursor, decode_cursor, encode_cursor
from voxnumbers.kit.ids import new_id
from voxnumbers.kit.jsonc import to_json_data

REDACTED = "[redacted]"
# Fields whose values are secrets (or stand for one): never written to an entry.
SECRET_FIELDS = frozenset(
    {"secret", "webhook_secret", "previous_secret", "password", "digest", "token", "key"}
)
_MAX_REQUEST_ID = 200
_MAX_FILTER_LENGTH = 200
PRUNE_BATCH = 5_000


async def record(
    conn: AsyncConnection,
    *,
    action: str,
    object_type: str | None = None,
    object_id: str,
    account_id: str | None = None,
    changes: Mapping[str, Any] | None = None,
) -> None:
    """Write an audit entry for a change made in ``conn``'s transaction, attributed to the
    current actor (``kit.actors.acting_as``). ``changes`` maps each changed field to
    ``(old, new)``; secret fields are redacted whatever they hold. The object's type is
    the action's first part (``job`` of ``job.created``) unless ``object_type`` says."""
    object_type = object_type or action.partition(".")[0]
    await repository.insert_entries(
        conn, [_entry(action, object_type, object_id, account_id, changes, utc_now())]
    )


async def record_many_from(
    conn: AsyncConnection,
    *,
    action: str,
    object_type: str,
    account_id: str | None,
    changes: Select[Any],
) -> None:
    """``record`` for many objects changed alike (a bulk job's batch), the changes written by
    the database: one entry per row of ``changes`` (an ``object_id`` and its changes as
    JSON, each field ``[old, new]``), attributed to the current actor. The rows never pass
    through Python, so the fields compared must hold no secret (nothing is redacted)."""
    await repository.insert_entries_from(
        conn, changes, _attribution(action, object_type, account_id, utc_now())
    )


def _entry(
    action: str,
    object_type: str,
    object_id: str,
    account_id: str | None,
    changes: Mapping[str, Any] | None,
    at: datetime,
) -> dict[str, Any]:
    """An entry's row, attributed to the current actor."""
    return {
        "id": new_id("aud", 20),
        **_attribution(action, object_type, account_id, at),
        "object_id": object_id,
        "changes": redacted(changes or {}),
    }


def _attribution(
    action: str, object_type: str, account_id: str | None, at: datetime
) -> dict[str, Any]:
    """An entry's columns but its id, object and changes: what was done, when, in which
    account, by whom (the current actor) and from where."""
    actor = current_actor()
    return {
        "at": at,
        "account_id": account_id,
        "actor_type": actor.type,
        "actor_id": actor.id,
        "action": action,
        "object_type": object_type,
        "request_id": actor.request_id[:_MAX_REQUEST_ID] if actor.request_id else None,
        "ip": actor.ip[:64] if actor.ip else None,
    }


async def record_change(
    conn: AsyncConnection,
    action: str,
    object_id: str,
    *,
    account_id: str | None,
    before: Any = None,
    after: Any = None,
    extra: Mapping[str, tuple[Any, Any]] | None = None,
) -> None:
    """``record`` of ``action`` (``<object type>.<what happened>``: ``trunk.created``) with
    the changes found by comparing two states of the object (dataclasses or structs; ``None``
    before a creation or after a deletion), field by field, leaving out its id and
    timestamps; ``extra`` adds changes the states do not show (a password set)."""
    object_type = action.partition(".")[0]
    old, new = _as_data(before), _as_data(after)
    fields = [name for name in {**(old or {}), **(new or {})} if name not in _NOT_COMPARED]
    changes: dict[str, tuple[Any, Any]] = changes_between(old, new, fields)
    changes.update(extra or {})
    await record(
        conn,
        action=action,
        object_type=object_type,
        object_id=object_id,
        account_id=account_id,
        changes=changes,
    )


_NOT_COMPARED = frozenset({"id", "created_at", "updated_at"})


def _as_data(state: Any) -> dict[str, Any] | None:
    if state is None:
        return None
    data = to_json_data(state)
    assert isinstance(data, dict)
    return data


def changes_between(
    old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, fields: Iterable[str]
) -> dict[str, tuple[Any, Any]]:
    """The fields whose value differs between ``old`` and ``new`` (either may be ``None``:
    a creation or a deletion), each as ``(old, new)``."""
    changed: dict[str, tuple[Any, Any]] = {}
    for name in fields:
        before = old.get(name) if old is not None else None
        after = new.get(name) if new is not None else None
        if before != after:
            changed[name] = (before, after)
    return changed


def redacted(changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` as JSON data, each secret field's values replaced by ``"[redacted]"``."""
    clean: dict[str, Any] = {}
    for name, (before, after) in changes.items():
        if name in SECRET_FIELDS:
            clean[name] = [
                None if before is None else REDACTED,
                None if after is None else REDACTED,
            ]
        else:
            clean[name] = to_json_data([before, after])
    return clean


async def list_entries(
    conn: AsyncConnection,
    *,
    account_id: str | None,
    object_type: str | None = None,
    object_id: str | None = None,
    actor_id: str | None = None,
    since: datetime | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> AuditPage:
    """A page of entries, newest first (only ``account_id``'s when given), with the cursor
    of the next page."""
    where = AuditFilter(
        account_id=account_id,
        object_type=_text_filter("object_type", object_type),
        object_id=_text_filter("object_id", object_id),
        actor_id=_text_filter("actor_id", actor_id),
        since=_since(since),
        before_seq=_cursor_seq(cursor),
    )
    rows = await repository.list_entries(conn, where, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor({"seq": rows[-1][0]}) if more and rows else None
    return AuditPage(data=[entry for _, entry in rows], next_cursor=next_cursor)


async def prune(conn: AsyncConnection, retention_days: int, now: datetime | None = None) -> int:
    """Delete a batch of entries older than ``retention_days``; returns how many."""
    cutoff = (now or utc_now()) - timedelta(days=retention_days)
    return await repository.delete_older_than(conn, cutoff, PRUNE_BATCH)


def _text_filter(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not value or len(value) > _MAX_FILTER_LENGTH:
        raise ValidationFailed.on(name, f"must be 1 to {_MAX_FILTER_LENGTH} characters")
    return value


def _since(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _cursor_seq(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        seq = decode_cursor(cursor).get("seq")
    except InvalidCursor as exc:
        raise ValidationFailed.on("cursor", str(exc)) from exc
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 < seq < 2**63:
        raise ValidationFailed.on("cursor", "is not a cursor returned by this API")
    return seq
