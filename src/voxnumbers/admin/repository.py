"""All SQL of operator tokens."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.admin.schemas import OperatorToken
from voxnumbers.db.direct import fetch_all
from voxnumbers.db.tables import operator_tokens

_t = operator_tokens.c
_COLUMNS = (_t.id, _t.name, _t.hint, _t.created_at, _t.revoked_at, _t.last_used_at)


async def insert_token(conn: AsyncConnection, token: OperatorToken, digest: str) -> None:
    await conn.execute(operator_tokens.insert().values(**dataclasses.asdict(token), digest=digest))


_BY_DIGEST = select(_t.id).where(_t.digest == bindparam("digest"), _t.revoked_at.is_(None))


async def find_active_id_by_digest(conn: AsyncConnection, digest: str) -> str | None:
    rows = await fetch_all(conn, _BY_DIGEST, {"digest": digest})
    return str(rows[0][0]) if rows else None


async def find_token(conn: AsyncConnection, token_id: str) -> OperatorToken | None:
    row = (await conn.execute(select(*_COLUMNS).where(_t.id == token_id))).first()
    return OperatorToken(**row._mapping) if row else None


async def list_tokens(conn: AsyncConnection) -> list[OperatorToken]:
    rows = await conn.execute(select(*_COLUMNS).order_by(_t.created_at, _t.id))
    return [OperatorToken(**row._mapping) for row in rows]


async def revoke_token(conn: AsyncConnection, token_id: str, at: datetime) -> None:
    await conn.execute(
        update(operator_tokens)
        .where(_t.id == token_id, _t.revoked_at.is_(None))
        .values(revoked_at=at)
    )


async def record_usage(conn: AsyncConnection, last_used: dict[str, datetime]) -> None:
    if last_used:
        await conn.execute(
            update(operator_tokens)
            .where(_t.id == bindparam("token_id"))
            .values(last_used_at=bindparam("used_at")),
            [{"token_id": token_id, "used_at": at} for token_id, at in last_used.items()],
        )
