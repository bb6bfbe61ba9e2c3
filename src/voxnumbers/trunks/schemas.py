"""Request and response shapes of SIP trunks, their credentials and IP ACLs (``spec/API.md`` §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from voxnumbers.kit.pagination import Page
from voxnumbers.trunks.sip_uri import MAX_LENGTH as SIP_URI_MAX_LENGTH

AuthType = Literal["ip", "credential"]
TrunkStatus = Literal["active", "deleted"]

MAX_ORIGINATION_URIS = 10
# No real trunk has more; the bound also keeps the value inside the database's integer.
MAX_CHANNELS = 1_000_000

Name = Annotated[
    str, msgspec.Meta(min_length=1, max_length=200, description="1 to 200 characters.")
]
SipUriText = Annotated[
    str,
    msgspec.Meta(
        max_length=SIP_URI_MAX_LENGTH,
        description="A `sip:` or `sips:` URI: `sip:[user@]host[:port][;params]`.",
    ),
]


class TrunkRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST …/trunks`` and ``PUT …/trunks/{trunk_id}`` (PUT replaces everything:
    optional fields left out go back to their defaults)."""

    name: Name
    auth_type: AuthType
    termination_uri: SipUriText | None = None
    origination_uris: Annotated[
        list[SipUriText],
        msgspec.Meta(max_length=MAX_ORIGINATION_URIS, description="Up to 10 SIP URIs."),
    ] = msgspec.field(default_factory=list)
    max_channels: Annotated[
        int, msgspec.Meta(ge=0, le=MAX_CHANNELS, description="Concurrent calls; 0 = unlimited.")
    ] = 0


class TrunkRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A trunk as stored (what the repository reads and writes)."""

    id: str
    account_id: str
    name: str
    auth_type: AuthType
    termination_uri: str | None
    origination_uris: list[str]
    max_channels: int
    status: TrunkStatus
    created_at: datetime
    updated_at: datetime


class Trunk(msgspec.Struct, kw_only=True):
    """A SIP trunk as the API returns it."""

    id: str
    name: str
    auth_type: AuthType
    termination_uri: str | None
    origination_uris: list[str]
    max_channels: int
    sip_domain: str
    status: TrunkStatus
    created_at: datetime
    updated_at: datetime


class TrunkPage(Page[Trunk]):
    data: list[Trunk]


class CredentialRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST …/trunks/{trunk_id}/credentials``."""

    username: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=100,
            description="1 to 100 characters: letters, digits, `.`, `_` and `-`.",
        ),
    ]
    password: Annotated[
        str,
        msgspec.Meta(
            min_length=12,
            max_length=128,
            description="12 to 128 characters; stored as an Argon2id hash, never returned.",
        ),
    ]


class Credential(msgspec.Struct, kw_only=True):
    """A username allowed to authenticate on a trunk; the password is never returned."""

    id: str
    trunk_id: str
    username: str
    created_at: datetime


class CredentialPage(Page[Credential]):
    data: list[Credential]


class IpAclRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST …/trunks/{trunk_id}/ip-acl``."""

    ip: Annotated[str, msgspec.Meta(min_length=1, max_length=45, description="IPv4 or IPv6.")]
    mask: (
        Annotated[
            int,
            msgspec.Meta(description="Prefix length: IPv4 0..32 (default 32), IPv6 0..128 (128)."),
        ]
        | None
    ) = None
    description: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class IpAclEntry(msgspec.Struct, kw_only=True):
    """An address range allowed to send traffic to a trunk.

    ``ip`` is the address as given (canonical spelling); ``cidr`` is the network it belongs
    to with the host bits cleared (``203.0.113.7`` mask 24 -> ``203.0.113.0/24``), which is
    what traffic is matched against.
    """

    id: str
    trunk_id: str
    ip: str
    mask: int
    cidr: str
    description: str
    created_at: datetime


class IpAclPage(Page[IpAclEntry]):
    data: list[IpAclEntry]
