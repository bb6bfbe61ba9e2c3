"""Rules of SIP trunks, their credentials and their IP ACLs (``spec/API.md`` §4)."""

from __future__ import annotations

import ipaddress
import string
from datetime import datetime

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers import audit
from voxnumbers.errors import Conflict, NotFound, ValidationFailed
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.etags import IfMatch, require_match
from voxnumbers.kit.ids import is_well_formed, new_id
from voxnumbers.kit.pagination import offset_of, pagination
from voxnumbers.kit.text import clean_text
from voxnumbers.numbers import service as numbers
from voxnumbers.trunks import repository
from voxnumbers.trunks.schemas import (
    Credential,
    CredentialPage,
    CredentialRequest,
    IpAclEntry,
    IpAclPage,
    IpAclRequest,
    Trunk,
    TrunkPage,
    TrunkRecord,
    TrunkRequest,
    TrunkStatus,
)
from voxnumbers.trunks.sip_uri import InvalidSipUri, parse_sip_uri

# Argon2id with the library's defaults (RFC 9106's second recommended profile).
_HASHER = PasswordHasher()
_USERNAME_CHARACTERS = frozenset(string.ascii_letters + string.digits + "._-")
# Ids are ``<prefix>_`` and lower-case letters and digits (kit.ids); anything else cannot
# exist and is answered without asking the database.

IpInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface


# --- trunks ---------------------------------------------------------------------------------


async def create_trunk(
    conn: AsyncConnection, account_id: str, request: TrunkRequest, *, sip_domain: str
) -> Trunk:
    """A new active trunk with validated, canonical SIP URIs."""
    now = utc_now()
    record = _trunk_record(
        request,
        trunk_id=new_id("trunk"),
        account_id=account_id,
        status="active",
        created_at=now,
        updated_at=now,
    )
    await repository.insert_trunk(conn, record)
    view = _trunk_view(record, sip_domain)
    await audit.record_change(
        conn,
        action="trunk.created",
        object_type="trunk",
        object_id=view.id,
        account_id=account_id,
        before=None,
        after=view,
    )
    return view


async def list_trunks(
    conn: AsyncConnection, account_id: str, *, page: int, per_page: int, sip_domain: str
) -> TrunkPage:
    """A page of the account's trunks, oldest first, with the exact total."""
    total = await repository.count_trunks(conn, account_id)
    offset = offset_of(page, per_page)
    records = (
        await repository.list_trunks(conn, account_id, limit=per_page, offset=offset)
        if offset < total
        else []
    )
    return TrunkPage(
        data=[_trunk_view(record, sip_domain) for record in records],
        pagination=pagination(total, len(records), page, per_page),
    )


async def get_trunk(
    conn: AsyncConnection, account_id: str, trunk_id: str, *, sip_domain: str
) -> Trunk:
    """One of the account's trunks; another account's trunk is simply not found."""
    return _trunk_view(await _find_trunk(conn, account_id, trunk_id), sip_domain)


async def replace_trunk(
    conn: AsyncConnection,
    account_id: str,
    trunk_id: str,
    request: TrunkRequest,
    *,
    sip_domain: str,
    if_match: IfMatch | None = None,
) -> Trunk:
    """Replace every field of a trunk (PUT): fields left out return to their defaults.
    ``412`` when ``if_match`` is given and the trunk's current tag is not in it."""
    current = await _find_trunk(conn, account_id, trunk_id, for_update=True)
    require_match(if_match, _trunk_view(current, sip_domain))
    replaced = _trunk_record(
        request,
        trunk_id=current.id,
        account_id=account_id,
        status=current.status,
        created_at=current.created_at,
        updated_at=utc_now(),
    )
    await repository.replace_trunk(conn, replaced)
    view = _trunk_view(replaced, sip_domain)
    await audit.record_change(
        conn,
        action="trunk.replaced",
        object_type="trunk",
        object_id=view.id,
        account_id=account_id,
        before=_trunk_view(current, sip_domain),
        after=view,
    )
    return view


async def delete_trunk(
    conn: AsyncConnection,
    account_id: str,
    trunk_id: str,
    *,
    force: bool,
    sip_domain: str,
    if_match: IfMatch | None = None,
) -> Trunk:
    """Delete a trunk with its credentials and ACL entries; answers its final state.

    While numbers route to it the answer is ``409`` unless ``force``, which unassigns them
    in the same transaction. The trunk row is locked first, so no number can be routed to it
    between the count and the delete (nor the trunk changed after ``if_match`` is checked:
    ``412`` when given and the trunk's current tag is not in it).
    """
    record = await _find_trunk(conn, account_id, trunk_id, for_update=True)
    require_match(if_match, _trunk_view(record, sip_domain))
    routed = await numbers.count_routed(conn, account_id, trunk_id=trunk_id)
    if routed and not force:
        raise Conflict(
            f"{routed} number(s) still route to this trunk: unassign them first, "
            "or delete with ?force=true to unassign them."
        )
    if routed:
        await numbers.unroute_all(conn, account_id, trunk_id=trunk_id)
    await repository.delete_trunk(conn, account_id, trunk_id)
    view = _trunk_view(record, sip_domain, status="deleted")
    await audit.record_change(
        conn,
        action="trunk.deleted",
        object_type="trunk",
        object_id=trunk_id,
        account_id=account_id,
        before=_trunk_view(record, sip_domain),
        after=view,
    )
    return view


def trunk_sip_domain(trunk_id: str, sip_domain: str) -> str:
    """The trunk's own SIP host, ``trunk-<random part of the id>.<sip_domain>``.

    The ``trunk_`` prefix is left out: an underscore is not allowed in a host name.
    """
    return f"trunk-{trunk_id.removeprefix('trunk_')}.{sip_domain}"


def _trunk_record(
    request: TrunkRequest,
    *,
    trunk_id: str,
    account_id: str,
    status: TrunkStatus,
    created_at: datetime,
    updated_at: datetime,
) -> TrunkRecord:
    """The stored trunk a create or replace request describes, validated and canonical."""
    termination = request.termination_uri
    return TrunkRecord(
        id=trunk_id,
        account_id=account_id,
        name=clean_text("name", request.name),
        auth_type=request.auth_type,
        termination_uri=None if termination is None else _sip_uri("termination_uri", termination),
        origination_uris=[
            _sip_uri(f"origination_uris[{index}]", uri)
            for index, uri in enumerate(request.origination_uris)
        ],
        max_channels=request.max_channels,
        status=status,
        created_at=created_at,
        updated_at=updated_at,
    )


def _sip_uri(field: str, text: str) -> str:
    try:
        return str(parse_sip_uri(text))
    except InvalidSipUri as exc:
        raise ValidationFailed.on(field, str(exc)) from exc


def _trunk_view(record: TrunkRecord, sip_domain: str, status: TrunkStatus | None = None) -> Trunk:
    return Trunk(
        id=record.id,
        name=record.name,
        auth_type=record.auth_type,
        termination_uri=record.termination_uri,
        origination_uris=record.origination_uris,
        max_channels=record.max_channels,
        sip_domain=trunk_sip_domain(record.id, sip_domain),
        status=status or record.status,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


async def _find_trunk(
    conn: AsyncConnection, account_id: str, trunk_id: str, *, for_update: bool = False
) -> TrunkRecord:
    record = (
        await repository.find_trunk(conn, account_id, trunk_id, for_update=for_update)
        if is_well_formed(trunk_id, "trunk")
        else None
    )
    if record is None:
        raise NotFound("No such trunk in this account.")
    return record


# --- credentials ----------------------------------------------------------------------------


async def create_credential(
    conn: AsyncConnection, account_id: str, trunk_id: str, request: CredentialRequest
) -> Credential:
    """Allow a username and password on a trunk. The password is kept only as an Argon2id
    hash (computed off the event loop) and is never returned."""
    username = check_username(request.username)
    await _find_trunk(conn, account_id, trunk_id, for_update=True)
    if await repository.username_taken(conn, trunk_id, username):
        raise Conflict("This trunk already has a credential with this username.")
    password_hash = await anyio.to_thread.run_sync(_HASHER.hash, request.password)
    credential = Credential(
        id=new_id("cred"), trunk_id=trunk_id, username=username, created_at=utc_now()
    )
    await repository.insert_credential(
        conn, credential, account_id=account_id, password_hash=password_hash
    )
    await audit.record_change(
        conn,
        action="credential.created",
        object_type="credential",
        object_id=credential.id,
        account_id=account_id,
        before=None,
        after=credential,
        extra={"password": (None, "set")},
    )
    return credential


async def list_credentials(
    conn: AsyncConnection, account_id: str, trunk_id: str, *, page: int, per_page: int
) -> CredentialPage:
    """A page of the trunk's credentials, oldest first (usernames only)."""
    await _find_trunk(conn, account_id, trunk_id)
    total = await repository.count_credentials(conn, account_id, trunk_id)
    offset = offset_of(page, per_page)
    items = (
        await repository.list_credentials(conn, account_id, trunk_id, limit=per_page, offset=offset)
        if offset < total
        else []
    )
    return CredentialPage(data=items, pagination=pagination(total, len(items), page, per_page))


async def delete_credential(
    conn: AsyncConnection, account_id: str, trunk_id: str, credential_id: str
) -> Credential:
    """Remove a credential from a trunk; answers what was removed."""
    await _find_trunk(conn, account_id, trunk_id)
    credential = (
        await repository.find_credential(conn, account_id, trunk_id, credential_id)
        if is_well_formed(credential_id, "cred")
        else None
    )
    if credential is None:
        raise NotFound("No such credential on this trunk.")
    await repository.delete_credential(conn, account_id, credential_id)
    await audit.record_change(
        conn,
        action="credential.deleted",
        object_type="credential",
        object_id=credential.id,
        account_id=account_id,
        before=credential,
        after=None,
        extra={"password": ("set", None)},
    )
    return credential


def check_username(username: str) -> str:
    """A SIP username: 1 to 100 ASCII letters, digits, ``.``, ``_`` and ``-``."""
    if not 1 <= len(username) <= 100 or not set(username) <= _USERNAME_CHARACTERS:
        raise ValidationFailed.on(
            "username", "must be 1 to 100 characters: letters, digits, '.', '_' or '-'"
        )
    return username


def verify_password(password_hash: str, password: str) -> bool:
    """Whether a password matches a stored hash (for whoever authenticates SIP traffic)."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# --- IP ACL ---------------------------------------------------------------------------------


async def create_acl_entry(
    conn: AsyncConnection, account_id: str, trunk_id: str, request: IpAclRequest
) -> IpAclEntry:
    """Allow traffic from an address range; the same network twice on a trunk is ``409``."""
    interface = acl_interface(request.ip, request.mask)
    description = clean_text("description", request.description or "", allow_empty=True)
    await _find_trunk(conn, account_id, trunk_id, for_update=True)
    cidr = str(interface.network)
    if await repository.network_listed(conn, trunk_id, cidr):
        raise Conflict(f"{cidr} is already in this trunk's IP ACL.")
    entry = IpAclEntry(
        id=new_id("acl"),
        trunk_id=trunk_id,
        ip=str(interface.ip),
        mask=interface.network.prefixlen,
        cidr=cidr,
        description=description,
        created_at=utc_now(),
    )
    await repository.insert_acl_entry(conn, entry, account_id=account_id)
    await audit.record_change(
        conn,
        action="ip_acl.created",
        object_type="ip_acl",
        object_id=entry.id,
        account_id=account_id,
        before=None,
        after=entry,
    )
    return entry


async def list_acl_entries(
    conn: AsyncConnection, account_id: str, trunk_id: str, *, page: int, per_page: int
) -> IpAclPage:
    """A page of the trunk's IP ACL, oldest first."""
    await _find_trunk(conn, account_id, trunk_id)
    total = await repository.count_acl_entries(conn, account_id, trunk_id)
    offset = offset_of(page, per_page)
    items = (
        await repository.list_acl_entries(conn, account_id, trunk_id, limit=per_page, offset=offset)
        if offset < total
        else []
    )
    return IpAclPage(data=items, pagination=pagination(total, len(items), page, per_page))


async def delete_acl_entry(
    conn: AsyncConnection, account_id: str, trunk_id: str, entry_id: str
) -> IpAclEntry:
    """Remove an entry from a trunk's IP ACL; answers what was removed."""
    await _find_trunk(conn, account_id, trunk_id)
    entry = (
        await repository.find_acl_entry(conn, account_id, trunk_id, entry_id)
        if is_well_formed(entry_id, "acl")
        else None
    )
    if entry is None:
        raise NotFound("No such IP ACL entry on this trunk.")
    await repository.delete_acl_entry(conn, account_id, entry_id)
    await audit.record_change(
        conn,
        action="ip_acl.deleted",
        object_type="ip_acl",
        object_id=entry.id,
        account_id=account_id,
        before=entry,
        after=None,
    )
    return entry


def acl_interface(ip: str, mask: int | None) -> IpInterface:
    """The address and prefix of an ACL entry. ``mask`` defaults to the whole address (32
    for IPv4, 128 for IPv6) and must fit the address family."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError as exc:
        raise ValidationFailed.on("ip", "must be an IPv4 or IPv6 address") from exc
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id is not None:
        raise ValidationFailed.on("ip", "must not carry an IPv6 zone id")
    bits = address.max_prefixlen
    prefix = bits if mask is None else mask
    if not 0 <= prefix <= bits:
        raise ValidationFailed.on("mask", f"must be from 0 to {bits} for IPv{address.version}")
    return ipaddress.ip_interface((address, prefix))
