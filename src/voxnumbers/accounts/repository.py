"""All SQL of accounts and API keys."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.accounts.schemas import Account, ApiKey, Caller
from voxnumbers.db.direct import fetch_all
from voxnumbers.db.tables import accounts, api_keys
from voxnumbers.kit.worlds import world_of, world_of_mode

# Public accounts are the live rows; a test world's row (``live_account_id`` set) is internal.
_ACCOUNT_COLUMNS = (accounts.c.id, accounts.c.name, accounts.c.status, accounts.c.created_at)
_PUBLIC = accounts.c.live_account_id.is_(None)

_KEY_COLUMNS = (
    api_keys.c.id,
    api_keys.c.account_id,
    api_keys.c.hint,
    api_keys.c.mode,
    api_keys.c.created_at,
    api_keys.c.revoked_at,
    api_keys.c.last_used_at,
)


async def insert_account(conn: AsyncConnection, account: Account) -> None:
    """The account's live row (its public id) and its test world's row, linked to it."""
    await conn.execute(
        accounts.insert(),
        [
            {
                "id": world_of(account.id, live=live),
                "name": account.name,
                "status": account.status,
                "created_at": account.created_at,
                "live_account_id": None if live else account.id,
            }
            for live in (True, False)
        ],
    )


async def find_account(conn: AsyncConnection, account_id: str) -> Account | None:
    query = select(*_ACCOUNT_COLUMNS).where(accounts.c.id == account_id, _PUBLIC)
    row = (await conn.execute(query)).first()
    return Account(**row._mapping) if row else None


async def find_account_by_name(conn: AsyncConnection, name: str) -> Account | None:
    row = (
        await conn.execute(
            select(*_ACCOUNT_COLUMNS)
            .where(accounts.c.name == name, _PUBLIC)
            .order_by(accounts.c.created_at)
            .limit(1)
        )
    ).first()
    return Account(**row._mapping) if row else None


async def any_account(conn: AsyncConnection) -> bool:
    return (await conn.execute(select(accounts.c.id).limit(1))).first() is not None


async def list_accounts(
    conn: AsyncConnection, *, limit: int | None = None, offset: int = 0
) -> list[Account]:
    """Public accounts (their live rows; a test world is not an account of its own)."""
    query = select(*_ACCOUNT_COLUMNS).where(_PUBLIC).order_by(accounts.c.created_at, accounts.c.id)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    rows = await conn.execute(query)
    return [Account(**row._mapping) for row in rows]


async def count_accounts(conn: AsyncConnection) -> int:
    query = select(func.count()).select_from(accounts).where(_PUBLIC)
    return int((await conn.execute(query)).scalar_one())


async def insert_key(conn: AsyncConnection, key: ApiKey, digest: str) -> None:
    await conn.execute(api_keys.insert().values(**dataclasses.asdict(key), digest=digest))


_CALLER_BY_DIGEST = (
    select(api_keys.c.id, api_keys.c.account_id, api_keys.c.mode)
    .join(accounts, accounts.c.id == api_keys.c.account_id)
    .where(
        api_keys.c.digest == bindparam("digest"),
        api_keys.c.revoked_at.is_(None),
        accounts.c.status == "active",
    )
)


async def find_caller_by_digest(conn: AsyncConnection, digest: str) -> Caller | None:
    """The caller of an active, unrevoked key of an active account; None otherwise."""
    rows = await fetch_all(conn, _CALLER_BY_DIGEST, {"digest": digest})
    if not rows:
        return None
    key_id, account_id, mode = rows[0]
    # The key's row names the public account; the caller acts in the world of the key's mode.
    return Caller(
        account_id=world_of_mode(account_id, mode),
        key_id=key_id,
        mode=mode,
        public_account_id=account_id,
    )


async def list_keys(conn: AsyncConnection, account_id: str) -> list[ApiKey]:
    rows = await conn.execute(
        select(*_KEY_COLUMNS)
        .where(api_keys.c.account_id == account_id)
        .order_by(api_keys.c.created_at, api_keys.c.id)
    )
    return [ApiKey(**row._mapping) for row in rows]


async def find_key(conn: AsyncConnection, key_id: str) -> ApiKey | None:
    row = (await conn.execute(select(*_KEY_COLUMNS).where(api_keys.c.id == key_id))).first()
    return ApiKey(**row._mapping) if row else None


async def revoke_key(conn: AsyncConnection, key_id: str, at: datetime) -> None:
    await conn.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )


async def record_key_usage(conn: AsyncConnection, last_used: dict[str, datetime]) -> None:
    """Write many keys' ``last_used_at`` in one statement (executemany)."""
    if not last_used:
        return
    await conn.execute(
        update(api_keys)
        .where(api_keys.c.id == bindparam("key_id"))
        .values(last_used_at=bindparam("used_at")),
        [{"key_id": key_id, "used_at": at} for key_id, at in last_used.items()],
    )
