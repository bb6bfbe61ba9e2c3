"""Rules of voice applications (``spec/API.md`` §5)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.applications import repository
from voxnumbers.applications.schemas import (
    Application,
    ApplicationCreate,
    ApplicationPage,
    ApplicationPatch,
    ApplicationRecord,
)
from voxnumbers.audit import service as audit
from voxnumbers.errors import NotFound, ValidationFailed
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.etags import IfMatch, require_match
from voxnumbers.kit.ids import new_id
from voxnumbers.kit.text import has_control_characters
from voxnumbers.kit.views import view_of
from voxnumbers.numbers import service as numbers

URL_FIELDS = ("answer_url", "hangup_url", "fallback_url")


async def create_application(
    conn: AsyncConnection, account_id: str, request: ApplicationCreate
) -> Application:
    """A new voice application; its webhook secret is stored and never returned."""
    fields = _checked(msgspec.structs.asdict(request))
    now = utc_now()
    record = ApplicationRecord(
        id=new_id("app"), account_id=account_id, created_at=now, updated_at=now, **fields
    )
    await repository.APPLICATIONS.insert(conn, record)
    await audit.record_change(
        conn, "application.created", record.id, account_id=account_id, after=record
    )
    return _view(record)


async def list_applications(
    conn: AsyncConnection, account_id: str, *, page: int, per_page: int
) -> ApplicationPage:
    """A page of the account's applications, oldest first, with the exact total."""
    records, paging = await repository.APPLICATIONS.read_page(
        conn, account_id, page=page, per_page=per_page
    )
    return ApplicationPage(data=[_view(record) for record in records], pagination=paging)


async def get_application(
    conn: AsyncConnection, account_id: str, application_id: str
) -> Application:
    """One of the account's applications; another account's is simply not found."""
    return _view(await _find(conn, account_id, application_id))


async def update_application(
    conn: AsyncConnection,
    account_id: str,
    application_id: str,
    patch: ApplicationPatch,
    *,
    if_match: IfMatch | None = None,
) -> Application:
    """Change only the fields given (``null`` clears a URL or the webhook secret); ``412``
    on a stale ``if_match``, as ``_locked`` checks it."""
    current = await _locked(conn, account_id, application_id, if_match)
    given = {
        name: value
        for name, value in msgspec.structs.asdict(patch).items()
        if value is not msgspec.UNSET
    }
    if not given:
        return _view(current)
    changes = {**_checked(given), "updated_at": utc_now()}
    await repository.APPLICATIONS.update(conn, account_id, application_id, changes)
    updated = msgspec.structs.replace(current, **changes)
    await audit.record_change(
        conn,
        "application.updated",
        application_id,
        account_id=account_id,
        before=current,
        after=updated,
    )
    return _view(updated)


async def delete_application(
    conn: AsyncConnection,
    account_id: str,
    application_id: str,
    *,
    force: bool,
    if_match: IfMatch | None = None,
) -> Application:
    """Delete an application and answer its final state; numbers routed to it follow
    ``numbers.unroute_before_delete`` (``409``, or unassigned with ``force``), under the
    lock ``_locked`` takes."""
    record = await _locked(conn, account_id, application_id, if_match)
    await numbers.unroute_before_delete(
        conn, account_id, numbers.Destination("application_id", application_id), force=force
    )
    await repository.APPLICATIONS.delete(conn, account_id, application_id)
    await audit.record_change(
        conn,
        "application.deleted",
        application_id,
        account_id=account_id,
        before=record,
    )
    return _view(record)


def check_url(field: str, url: str) -> str:
    """An absolute ``http``/``https`` URL naming a host (and a valid port, if any)."""
    if any(ch.isspace() for ch in url) or has_control_characters(url):
        raise ValidationFailed.on(field, "must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- parsing the port is what validates it
    except ValueError as exc:
        raise ValidationFailed.on(field, "is not a valid URL") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise ValidationFailed.on(field, "must be an absolute http:// or https:// URL")
    if not parts.hostname:
        raise ValidationFailed.on(field, "must name a host")
    return url


def _checked(fields: dict[str, Any]) -> dict[str, Any]:
    """Validate the free-form fields present in ``fields`` (the rest msgspec checked)."""
    checked = dict(fields)
    if "name" in checked:
        checked["name"] = checked["name"].strip()
        if not checked["name"]:
            raise ValidationFailed.on("name", "must not be blank")
    for field in URL_FIELDS:
        if checked.get(field) is not None:
            checked[field] = check_url(field, checked[field])
    for field in ("name", "webhook_secret"):
        value = checked.get(field)
        if value is not None and has_control_characters(value):
            raise ValidationFailed.on(field, "must not contain control characters")
    return checked


def _view(record: ApplicationRecord) -> Application:
    return view_of(Application, record, has_webhook_secret=record.webhook_secret is not None)


async def _locked(
    conn: AsyncConnection, account_id: str, application_id: str, if_match: IfMatch | None
) -> ApplicationRecord:
    """The account's application, locked for a change (no number can be routed to it, nor
    it changed, until the transaction ends); ``412`` when ``if_match`` is given and its
    current tag is not in it."""
    record = await _find(conn, account_id, application_id, for_update=True)
    require_match(if_match, _view(record))
    return record


async def _find(
    conn: AsyncConnection, account_id: str, application_id: str, *, for_update: bool = False
) -> ApplicationRecord:
    record = await repository.APPLICATIONS.find(
        conn, account_id, application_id, for_update=for_update
    )
    if record is None:
        raise NotFound("No such application in this account.")
    return record
