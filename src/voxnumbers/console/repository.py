"""All SQL of the web console: its sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.console.schemas import ConsoleSession
from voxnumbers.db.direct import fetch_all
from voxnumbers.db.tables import accounts, api_keys, console_sessions
from voxnumbers.kit.worlds import world_of_mode


async def insert_session(
    conn: AsyncConnection,
    digest: str,
    session: ConsoleSession,
    *,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        console_sessions.insert().values(
            digest=digest,
            key_id=session.key_id,
            account_id=session.public_account_id,
            csrf_token=session.csrf_token,
            created_at=created_at,
            expires_at=expires_at,
        )
    )


# Every console request runs this: the key must still be unrevoked and its account active,
# so revoking a key or suspending an account signs its browsers out at once.
_SESSION_BY_DIGEST = (
    select(
        console_sessions.c.account_id,
        console_sessions.c.key_id,
        api_keys.c.mode,
        api_keys.c.hint,
        console_sessions.c.csrf_token,
    )
    .join(api_keys, api_keys.c.id == console_sessions.c.key_id)
    .join(accounts, accounts.c.id == console_sessions.c.account_id)
    .where(
        console_sessions.c.digest == bindparam("digest"),
        console_sessions.c.expires_at > bindparam("now"),
        api_keys.c.revoked_at.is_(None),
        accounts.c.status == "active",
    )
)


async def find_session(conn: AsyncConnection, digest: str, now: datetime) -> ConsoleSession | None:
    rows = await fetch_all(conn, _SESSION_BY_DIGEST, {"digest": digest, "now": now})
    if not rows:
        return None
    account_id, key_id, mode, hint, csrf_token = rows[0]
    # The session row names the public account (whose status the join checks); the session
    # acts in the world of its key's mode.
    return ConsoleSession(
        account_id=world_of_mode(account_id, mode),
        key_id=key_id,
        mode=mode,
        hint=hint,
        csrf_token=csrf_token,
        public_account_id=account_id,
    )


async def delete_session(conn: AsyncConnection, digest: str) -> None:
    await conn.execute(delete(console_sessions).where(console_sessions.c.digest == digest))


async def delete_expired_sessions(conn: AsyncConnection, now: datetime) -> None:
    await conn.execute(delete(console_sessions).where(console_sessions.c.expires_at <= now))
