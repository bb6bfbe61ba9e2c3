"""All SQL of stored idempotent responses."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.db.tables import idempotency_keys
from voxnumbers.idempotency.schemas import StoredResponse

_k = idempotency_keys.c


async def try_lock(conn: AsyncConnection, account_id: str, key: str) -> bool:
    """Take the key for this transaction; False if another transaction holds it.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: write transactions are exclusive
    already (``BEGIN IMMEDIATE``), so a second request waits for the first and then replays.
    """
    if conn.dialect.name != "postgresql":
        return True
    digest = hashlib.sha256(f"{account_id}\0{key}".encode()).digest()
    lock_id = int.from_bytes(digest[:8], "big", signed=True)
    result = await conn.execute(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": lock_id})
    return bool(result.scalar_one())


async def find(conn: AsyncConnection, account_id: str, key: str) -> StoredResponse | None:
    row = (
        await conn.execute(
            select(idempotency_keys).where(_k.account_id == account_id, _k.key == key)
        )
    ).first()
    return StoredResponse(**row._mapping) if row else None


async def insert(conn: AsyncConnection, stored: StoredResponse) -> None:
    await conn.execute(idempotency_keys.insert().values(**asdict(stored)))


async def forget(conn: AsyncConnection, account_id: str, key: str) -> None:
    await conn.execute(delete(idempotency_keys).where(_k.account_id == account_id, _k.key == key))


async def forget_expired(conn: AsyncConnection, now: datetime) -> int:
    """Delete responses past their replay window; returns how many."""
    expired = select(func.count()).select_from(idempotency_keys).where(_k.expires_at <= now)
    count = int((await conn.execute(expired)).scalar_one())
    if count:
        await conn.execute(delete(idempotency_keys).where(_k.expires_at <= now))
    return count
