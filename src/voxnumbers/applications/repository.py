"""All SQL of voice applications. Every query names the account as well as the object."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.applications.schemas import ApplicationRecord
from voxnumbers.schema import applications

_COLUMNS = (
    applications.c.id,
    applications.c.account_id,
    applications.c.name,
    applications.c.answer_url,
    applications.c.answer_method,
    applications.c.hangup_url,
    applications.c.hangup_method,
    applications.c.fallback_url,
    applications.c.webhook_secret,
    applications.c.created_at,
    applications.c.updated_at,
)


def _to_record(row: Any) -> ApplicationRecord:
    return ApplicationRecord(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        answer_url=row.answer_url,
        answer_method=row.answer_method,
        hangup_url=row.hangup_url,
        hangup_method=row.hangup_method,
        fallback_url=row.fallback_url,
        webhook_secret=row.webhook_secret,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _account_applications(account_id: str) -> Select[Any]:
    return select(*_COLUMNS).where(applications.c.account_id == account_id)


async def insert_application(conn: AsyncConnection, application: ApplicationRecord) -> None:
    await conn.execute(
        applications.insert().values(
            id=application.id,
            account_id=application.account_id,
            name=application.name,
            answer_url=application.answer_url,
            answer_method=application.answer_method,
            hangup_url=application.hangup_url,
            hangup_method=application.hangup_method,
            fallback_url=application.fallback_url,
            webhook_secret=application.webhook_secret,
            created_at=application.created_at,
            updated_at=application.updated_at,
        )
    )


async def find_application(
    conn: AsyncConnection, account_id: str, application_id: str, *, for_update: bool = False
) -> ApplicationRecord | None:
    """The account's application, optionally locked (PostgreSQL) until the transaction
    ends, so no number can be routed to it meanwhile."""
    query = _account_applications(account_id).where(applications.c.id == application_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return _to_record(row) if row else None


async def count_applications(conn: AsyncConnection, account_id: str) -> int:
    query = select(func.count()).where(applications.c.account_id == account_id)
    return int((await conn.execute(query)).scalar_one())


async def list_applications(
    conn: AsyncConnection, account_id: str, *, limit: int, offset: int
) -> list[ApplicationRecord]:
    """A page of the account's applications, oldest first (created_at, then id)."""
    query = (
        _account_applications(account_id)
        .order_by(applications.c.created_at, applications.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_to_record(row) for row in await conn.execute(query)]


async def update_application(
    conn: AsyncConnection, account_id: str, application_id: str, values: Mapping[str, Any]
) -> None:
    await conn.execute(
        update(applications)
        .where(applications.c.account_id == account_id, applications.c.id == application_id)
        .values(**values)
    )


async def delete_application(conn: AsyncConnection, account_id: str, application_id: str) -> None:
    await conn.execute(
        delete(applications).where(
            applications.c.account_id == account_id, applications.c.id == application_id
        )
    )
