"""All SQL of SIP trunks, their credentials and their IP ACL entries.

Every query names the account as well as the object: another account's trunk is simply
not there.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.schema import trunk_credentials, trunk_ip_acl, trunks
from voxnumbers.trunks.schemas import Credential, IpAclEntry, TrunkRecord

_TRUNK_COLUMNS = (
    trunks.c.id,
    trunks.c.account_id,
    trunks.c.name,
    trunks.c.auth_type,
    trunks.c.termination_uri,
    trunks.c.origination_uris,
    trunks.c.max_channels,
    trunks.c.status,
    trunks.c.created_at,
    trunks.c.updated_at,
)
_CREDENTIAL_COLUMNS = (
    trunk_credentials.c.id,
    trunk_credentials.c.trunk_id,
    trunk_credentials.c.username,
    trunk_credentials.c.created_at,
)
_ACL_COLUMNS = (
    trunk_ip_acl.c.id,
    trunk_ip_acl.c.trunk_id,
    trunk_ip_acl.c.ip,
    trunk_ip_acl.c.mask,
    trunk_ip_acl.c.cidr,
    trunk_ip_acl.c.description,
    trunk_ip_acl.c.created_at,
)


def _to_record(row: Any) -> TrunkRecord:
    return TrunkRecord(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        auth_type=row.auth_type,
        termination_uri=row.termination_uri,
        origination_uris=list(row.origination_uris),
        max_channels=row.max_channels,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _to_credential(row: Any) -> Credential:
    return Credential(
        id=row.id, trunk_id=row.trunk_id, username=row.username, created_at=row.created_at
    )


def _to_acl_entry(row: Any) -> IpAclEntry:
    return IpAclEntry(
        id=row.id,
        trunk_id=row.trunk_id,
        ip=row.ip,
        mask=row.mask,
        cidr=row.cidr,
        description=row.description,
        created_at=row.created_at,
    )


async def _count(conn: AsyncConnection, query: Select[Any]) -> int:
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    return int((await conn.execute(counted)).scalar_one())


# --- trunks ---------------------------------------------------------------------------------


def _account_trunks(account_id: str) -> Select[Any]:
    return select(*_TRUNK_COLUMNS).where(trunks.c.account_id == account_id)


async def insert_trunk(conn: AsyncConnection, trunk: TrunkRecord) -> None:
    await conn.execute(
        trunks.insert().values(
            id=trunk.id,
            account_id=trunk.account_id,
            name=trunk.name,
            auth_type=trunk.auth_type,
            termination_uri=trunk.termination_uri,
            origination_uris=trunk.origination_uris,
            max_channels=trunk.max_channels,
            status=trunk.status,
            created_at=trunk.created_at,
            updated_at=trunk.updated_at,
        )
    )


async def find_trunk(
    conn: AsyncConnection, account_id: str, trunk_id: str, *, for_update: bool = False
) -> TrunkRecord | None:
    """The account's trunk, optionally locked (PostgreSQL) until the transaction ends, so
    nothing can be attached to it or route to it meanwhile."""
    query = _account_trunks(account_id).where(trunks.c.id == trunk_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return _to_record(row) if row else None


async def count_trunks(conn: AsyncConnection, account_id: str) -> int:
    return await _count(conn, _account_trunks(account_id))


async def list_trunks(
    conn: AsyncConnection, account_id: str, *, limit: int, offset: int
) -> list[TrunkRecord]:
    """A page of the account's trunks, oldest first (created_at, then id: a total order)."""
    query = (
        _account_trunks(account_id)
        .order_by(trunks.c.created_at, trunks.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_to_record(row) for row in await conn.execute(query)]


async def replace_trunk(conn: AsyncConnection, trunk: TrunkRecord) -> None:
    """Write every changeable field of a trunk (its id, account and creation stay)."""
    await conn.execute(
        update(trunks)
        .where(trunks.c.account_id == trunk.account_id, trunks.c.id == trunk.id)
        .values(
            name=trunk.name,
            auth_type=trunk.auth_type,
            termination_uri=trunk.termination_uri,
            origination_uris=trunk.origination_uris,
            max_channels=trunk.max_channels,
            status=trunk.status,
            updated_at=trunk.updated_at,
        )
    )


async def delete_trunk(conn: AsyncConnection, account_id: str, trunk_id: str) -> None:
    """Delete a trunk; its credentials and ACL entries go with it (ON DELETE CASCADE)."""
    await conn.execute(
        delete(trunks).where(trunks.c.account_id == account_id, trunks.c.id == trunk_id)
    )


# --- credentials ----------------------------------------------------------------------------


def _trunk_credentials(account_id: str, trunk_id: str) -> Select[Any]:
    return select(*_CREDENTIAL_COLUMNS).where(
        trunk_credentials.c.account_id == account_id, trunk_credentials.c.trunk_id == trunk_id
    )


async def insert_credential(
    conn: AsyncConnection, credential: Credential, *, account_id: str, password_hash: str
) -> None:
    await conn.execute(
        trunk_credentials.insert().values(
            id=credential.id,
            account_id=account_id,
            trunk_id=credential.trunk_id,
            username=credential.username,
            password_hash=password_hash,
            created_at=credential.created_at,
        )
    )


async def username_taken(conn: AsyncConnection, trunk_id: str, username: str) -> bool:
    query = select(trunk_credentials.c.id).where(
        trunk_credentials.c.trunk_id == trunk_id, trunk_credentials.c.username == username
    )
    return (await conn.execute(query)).first() is not None


async def find_credential(
    conn: AsyncConnection, account_id: str, trunk_id: str, credential_id: str
) -> Credential | None:
    query = _trunk_credentials(account_id, trunk_id).where(trunk_credentials.c.id == credential_id)
    row = (await conn.execute(query)).first()
    return _to_credential(row) if row else None


async def count_credentials(conn: AsyncConnection, account_id: str, trunk_id: str) -> int:
    return await _count(conn, _trunk_credentials(account_id, trunk_id))


async def list_credentials(
    conn: AsyncConnection, account_id: str, trunk_id: str, *, limit: int, offset: int
) -> list[Credential]:
    query = (
        _trunk_credentials(account_id, trunk_id)
        .order_by(trunk_credentials.c.created_at, trunk_credentials.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_to_credential(row) for row in await conn.execute(query)]


async def delete_credential(conn: AsyncConnection, account_id: str, credential_id: str) -> None:
    await conn.execute(
        delete(trunk_credentials).where(
            trunk_credentials.c.account_id == account_id, trunk_credentials.c.id == credential_id
        )
    )


# --- IP ACL ---------------------------------------------------------------------------------


def _trunk_acl(account_id: str, trunk_id: str) -> Select[Any]:
    return select(*_ACL_COLUMNS).where(
        trunk_ip_acl.c.account_id == account_id, trunk_ip_acl.c.trunk_id == trunk_id
    )


async def insert_acl_entry(conn: AsyncConnection, entry: IpAclEntry, *, account_id: str) -> None:
    await conn.execute(
        trunk_ip_acl.insert().values(
            id=entry.id,
            account_id=account_id,
            trunk_id=entry.trunk_id,
            ip=entry.ip,
            mask=entry.mask,
            cidr=entry.cidr,
            description=entry.description,
            created_at=entry.created_at,
        )
    )


async def network_listed(conn: AsyncConnection, trunk_id: str, cidr: str) -> bool:
    query = select(trunk_ip_acl.c.id).where(
        trunk_ip_acl.c.trunk_id == trunk_id, trunk_ip_acl.c.cidr == cidr
    )
    return (await conn.execute(query)).first() is not None


async def find_acl_entry(
    conn: AsyncConnection, account_id: str, trunk_id: str, entry_id: str
) -> IpAclEntry | None:
    query = _trunk_acl(account_id, trunk_id).where(trunk_ip_acl.c.id == entry_id)
    row = (await conn.execute(query)).first()
    return _to_acl_entry(row) if row else None


async def count_acl_entries(conn: AsyncConnection, account_id: str, trunk_id: str) -> int:
    return await _count(conn, _trunk_acl(account_id, trunk_id))


async def list_acl_entries(
    conn: AsyncConnection, account_id: str, trunk_id: str, *, limit: int, offset: int
) -> list[IpAclEntry]:
    query = (
        _trunk_acl(account_id, trunk_id)
        .order_by(trunk_ip_acl.c.created_at, trunk_ip_acl.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_to_acl_entry(row) for row in await conn.execute(query)]


async def delete_acl_entry(conn: AsyncConnection, account_id: str, entry_id: str) -> None:
    await conn.execute(
        delete(trunk_ip_acl).where(
            trunk_ip_acl.c.account_id == account_id, trunk_ip_acl.c.id == entry_id
        )
    )
