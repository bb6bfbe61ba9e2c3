"""All SQL of SIP trunks, their credentials and their IP ACL entries.

Every query names the account as well as the object: another account's trunk is simply
not there.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.db.tables import trunk_credentials, trunk_ip_acl, trunks
from voxnumbers.kit.account_rows import AccountRows
from voxnumbers.trunks.schemas import Credential, IpAclEntry, TrunkRecord

# Deleting a trunk deletes its credentials and ACL entries with it (ON DELETE CASCADE).
TRUNKS = AccountRows(trunks, TrunkRecord, id_prefix="trunk")
CREDENTIALS = AccountRows(
    trunk_credentials, Credential, id_prefix="cred", parent=trunk_credentials.c.trunk_id
)
ACL_ENTRIES = AccountRows(trunk_ip_acl, IpAclEntry, id_prefix="acl", parent=trunk_ip_acl.c.trunk_id)


async def username_taken(conn: AsyncConnection, trunk_id: str, username: str) -> bool:
    query = select(trunk_credentials.c.id).where(
        trunk_credentials.c.trunk_id == trunk_id, trunk_credentials.c.username == username
    )
    return (await conn.execute(query)).first() is not None


async def network_listed(conn: AsyncConnection, trunk_id: str, cidr: str) -> bool:
    query = select(trunk_ip_acl.c.id).where(
        trunk_ip_acl.c.trunk_id == trunk_id, trunk_ip_acl.c.cidr == cidr
    )
    return (await conn.execute(query)).first() is not None
