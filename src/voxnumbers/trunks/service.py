"""Rules of SIP trunks, their credentials and their IP ACLs (``spec/API.md`` §4)."""

from __future__ import annotations

import ipaddress
import string
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

import anyio.to_thread
import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.audit import service as audit
from voxnumbers.errors import Conflict, NotFound, ValidationFailed
from voxnumbers.kit.account_rows import AccountRows
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.etags import IfMatch, require_match
from voxnumbers.kit.ids import new_id
from voxnumbers.kit.pagination import Page
from voxnumbers.kit.text import clean_text
from voxnumbers.kit.views import view_of
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

IpInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
Child = TypeVar("Child", bound=msgspec.Struct)
ChildPage = TypeVar("ChildPage", bound=Page[Any])


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
    await repository.TRUNKS.insert(conn, record)
    view = _trunk_view(record, sip_domain)
    await audit.record_change(conn, "trunk.created", view.id, account_id=account_id, after=view)
    return view


async def list_trunks(
    conn: AsyncConnection, account_id: str, *, page: int, per_page: int, sip_domain: str
) -> TrunkPage:
    """A page of the account's trunks, oldest first, with the exact total."""
    records, paging = await repository.TRUNKS.read_page(
        conn, account_id, page=page, per_page=per_page
    )
    return TrunkPage(data=[_trunk_view(r, sip_domain) for r in records], pagination=paging)


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
    """Replace every field of a trunk (PUT): fields left out return to their defaults
    (``412`` on a stale ``if_match``)."""
    current = await _locked_trunk(conn, account_id, trunk_id, sip_domain, if_match)
    replaced = _trunk_record(
        request,
        trunk_id=current.id,
        account_id=account_id,
        status=current.status,
        created_at=current.created_at,
        updated_at=utc_now(),
    )
    await repository.TRUNKS.update(conn, account_id, trunk_id, _changeable(replaced))
    view = _trunk_view(replaced, sip_domain)
    await audit.record_change(
        conn,
        "trunk.replaced",
        view.id,
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
    """Delete a trunk with its credentials and ACL entries; answers its final state. The
    trunk's row is locked first (``_locked_trunk``), so no number can be routed to it
    between the count and the delete: while numbers route to it the answer is ``409``
    unless ``force``, which unassigns them in the same transaction."""
    record = await _locked_trunk(conn, account_id, trunk_id, sip_domain, if_match)
    await numbers.unroute_before_delete(
        conn, account_id, numbers.Destination("trunk_id", trunk_id), force=force
    )
    await repository.TRUNKS.delete(conn, account_id, trunk_id)
    view = _trunk_view(record, sip_domain, status="deleted")
    await audit.record_change(
        conn,
        "trunk.deleted",
        trunk_id,
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


def _changeable(record: TrunkRecord) -> dict[str, Any]:
    """The fields a replace writes: all but the id, the account and the creation time."""
    fields = msgspec.structs.asdict(record).items()
    return {name: value for name, value in fields if name not in _FIXED_FIELDS}


_FIXED_FIELDS = frozenset({"id", "account_id", "created_at"})


def _sip_uri(field: str, text: str) -> str:
    try:
        return str(parse_sip_uri(text))
    except InvalidSipUri as exc:
        raise ValidationFailed.on(field, str(exc)) from exc


def _trunk_view(record: TrunkRecord, sip_domain: str, status: TrunkStatus | None = None) -> Trunk:
    return view_of(
        Trunk,
        record,
        sip_domain=trunk_sip_domain(record.id, sip_domain),
        status=status or record.status,
    )


async def _locked_trunk(
    conn: AsyncConnection,
    account_id: str,
    trunk_id: str,
    sip_domain: str,
    if_match: IfMatch | None,
) -> TrunkRecord:
    """The account's trunk, locked for a change (nothing can route to it or change it until
    the transaction ends); ``412`` when ``if_match`` is given and the trunk's current tag is
    not in it."""
    record = await _find_trunk(conn, account_id, trunk_id, for_update=True)
    require_match(if_match, _trunk_view(record, sip_domain))
    return record


async def _find_trunk(
    conn: AsyncConnection, account_id: str, trunk_id: str, *, for_update: bool = False
) -> TrunkRecord:
    record = await repository.TRUNKS.find(conn, account_id, trunk_id, for_update=for_update)
    if record is None:
        raise NotFound("No such trunk in this account.")
    return record


class _TrunkChildren(Generic[Child, ChildPage]):
    """What a trunk's credentials and its IP ACL entries (``rows``) share: a page of them
    and the removal of one, each first checking that the trunk is the account's."""

    def __init__(
        self,
        rows: AccountRows[Child],
        page_type: type[ChildPage],
        *,
        what: str,
        audit_prefix: str,
        extra_when_deleted: Mapping[str, tuple[Any, Any]] | None = None,
    ) -> None:
        self.rows: AccountRows[Child] = rows
        self.page_type: type[ChildPage] = page_type
        self.what = what
        self.audit_prefix = audit_prefix
        self.extra_when_deleted = extra_when_deleted

    async def page(
        self, conn: AsyncConnection, account_id: str, trunk_id: str, *, page: int, per_page: int
    ) -> ChildPage:
        """A page of the trunk's rows, oldest first."""
        await _find_trunk(conn, account_id, trunk_id)
        items, paging = await self.rows.read_page(
            conn, account_id, parent_id=trunk_id, page=page, per_page=per_page
        )
        return self.page_type(data=items, pagination=paging)

    async def remove(
        self, conn: AsyncConnection, account_id: str, trunk_id: str, child_id: str
    ) -> Child:
        """Remove one from the trunk and answer what was removed; ``404`` when the trunk is
        not the account's or ``child_id`` is not on it."""
        await _find_trunk(conn, account_id, trunk_id)
        child = await self.rows.find(conn, account_id, child_id, parent_id=trunk_id)
        if child is None:
            raise NotFound(f"No such {self.what} on this trunk.")
        await self.rows.delete(conn, account_id, child_id)
        await audit.record_change(
            conn,
            f"{self.audit_prefix}.deleted",
            child_id,
            account_id=account_id,
            before=child,
            extra=self.extra_when_deleted,
        )
        return child


_CREDENTIALS = _TrunkChildren(
    repository.CREDENTIALS,
    CredentialPage,
    what="credential",
    audit_prefix="credential",
    extra_when_deleted={"password": ("set", None)},
)
# A page of the trunk's credentials, oldest first (usernames only); removing one.
list_credentials = _CREDENTIALS.page
delete_credential = _CREDENTIALS.remove

_ACL_ENTRIES = _TrunkChildren(
    repository.ACL_ENTRIES, IpAclPage, what="IP ACL entry", audit_prefix="ip_acl"
)
# A page of the trunk's IP ACL, oldest first; removing an entry.
list_acl_entries = _ACL_ENTRIES.page
delete_acl_entry = _ACL_ENTRIES.remove


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
    await repository.CREDENTIALS.insert(
        conn, credential, account_id=account_id, password_hash=password_hash
    )
    await audit.record_change(
        conn,
        "credential.created",
        credential.id,
        account_id=account_id,
        after=credential,
        extra={"password": (None, "set")},
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
    await repository.ACL_ENTRIES.insert(conn, entry, account_id=account_id)
    await audit.record_change(conn, "ip_acl.created", entry.id, account_id=account_id, after=entry)
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
