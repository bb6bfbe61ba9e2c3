"""HTTP surface of SIP trunks, their credentials and IP ACLs (thin: parse, call, return)."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, Router, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from voxnumbers.accounts.schemas import Caller
from voxnumbers.kit.pagination import PER_PAGE_DEFAULT, PageNumber, PerPage
from voxnumbers.settings import Settings
from voxnumbers.trunks import schemas, service
from voxnumbers.web.etags import ETAG_HEADER, IF_MATCH_DEPENDENCY, tagged
from voxnumbers.web.handlers import Conn, Precondition, answers
from voxnumbers.web.openapi import error_responses

Who = NamedDependency[Caller]

TrunkId = Annotated[str, Parameter(description="The trunk's id (`trunk_…`).")]
Force = Annotated[
    bool,
    Parameter(description="Also unassign the numbers that route to the trunk (else `409`)."),
]
_BODY_ERRORS = (400, 404, 409, 413, 415)


@post("/", summary="Create a SIP trunk", status_code=201, responses=error_responses(400, 413, 415))
async def create_trunk(
    conn: Conn,
    caller: Who,
    settings: NamedDependency[Settings],
    data: JSONBody[schemas.TrunkRequest],
) -> schemas.Trunk:
    return await service.create_trunk(conn, caller.account_id, data, sip_domain=settings.sip_domain)


@get("/", summary="List SIP trunks", responses=error_responses(400))
async def list_trunks(
    conn: Conn,
    caller: Who,
    settings: NamedDependency[Settings],
    page: PageNumber = 1,
    per_page: PerPage = PER_PAGE_DEFAULT,
) -> schemas.TrunkPage:
    """The account's trunks, oldest first, with the exact total."""
    return await service.list_trunks(
        conn, caller.account_id, page=page, per_page=per_page, sip_domain=settings.sip_domain
    )


@get(
    "/{trunk_id:str}",
    summary="Get a SIP trunk",
    responses=error_responses(400, 404),
    response_headers=ETAG_HEADER,
)
async def get_trunk(
    conn: Conn, caller: Who, settings: NamedDependency[Settings], trunk_id: TrunkId
) -> Response[schemas.Trunk]:
    return tagged(
        await service.get_trunk(conn, caller.account_id, trunk_id, sip_domain=settings.sip_domain)
    )


@put(
    "/{trunk_id:str}",
    summary="Replace a SIP trunk",
    responses=error_responses(400, 404, 412, 413, 415),
    response_headers=ETAG_HEADER,
)
async def replace_trunk(
    conn: Conn,
    caller: Who,
    settings: NamedDependency[Settings],
    if_match: Precondition,
    trunk_id: TrunkId,
    data: JSONBody[schemas.TrunkRequest],
) -> Response[schemas.Trunk]:
    """Replace the whole trunk: optional fields left out return to their defaults."""
    return tagged(
        await service.replace_trunk(
            conn,
            caller.account_id,
            trunk_id,
            data,
            sip_domain=settings.sip_domain,
            if_match=if_match,
        )
    )


@delete("/{trunk_id:str}", summary="Delete a SIP trunk", **answers(200, 400, 404, 409, 412))
async def delete_trunk(
    conn: Conn,
    caller: Who,
    settings: NamedDependency[Settings],
    if_match: Precondition,
    trunk_id: TrunkId,
    force: Force = False,
) -> schemas.Trunk:
    """Delete the trunk (with its credentials and ACL) and answer its final state
    (`status: "deleted"`; no `ETag`: there is nothing left to read). `409` while numbers
    route to it, unless `force=true`."""
    return await service.delete_trunk(
        conn,
        caller.account_id,
        trunk_id,
        force=force,
        sip_domain=settings.sip_domain,
        if_match=if_match,
    )


@post(
    "/{trunk_id:str}/credentials",
    summary="Add a credential to a SIP trunk",
    **answers(201, *_BODY_ERRORS),
)
async def create_credential(
    conn: Conn, caller: Who, trunk_id: TrunkId, data: JSONBody[schemas.CredentialRequest]
) -> schemas.Credential:
    """The password is stored as an Argon2id hash and never returned."""
    return await service.create_credential(conn, caller.account_id, trunk_id, data)


@get(
    "/{trunk_id:str}/credentials",
    summary="List a SIP trunk's credentials",
    responses=error_responses(400, 404),
)
async def list_credentials(
    conn: Conn,
    caller: Who,
    trunk_id: TrunkId,
    page: PageNumber = 1,
    per_page: PerPage = PER_PAGE_DEFAULT,
) -> schemas.CredentialPage:
    return await service.list_credentials(
        conn, caller.account_id, trunk_id, page=page, per_page=per_page
    )


@delete(
    "/{trunk_id:str}/credentials/{cred_id:str}",
    summary="Remove a credential from a SIP trunk",
    **answers(200, 400, 404),
)
async def delete_credential(
    conn: Conn,
    caller: Who,
    trunk_id: TrunkId,
    cred_id: Annotated[str, Parameter(description="The credential's id (`cred_…`).")],
) -> schemas.Credential:
    return await service.delete_credential(conn, caller.account_id, trunk_id, cred_id)


@post(
    "/{trunk_id:str}/ip-acl",
    summary="Add an address range to a SIP trunk's IP ACL",
    **answers(201, *_BODY_ERRORS),
)
async def create_acl_entry(
    conn: Conn, caller: Who, trunk_id: TrunkId, data: JSONBody[schemas.IpAclRequest]
) -> schemas.IpAclEntry:
    """`cidr` is the network of `ip`/`mask` with the host bits cleared."""
    return await service.create_acl_entry(conn, caller.account_id, trunk_id, data)


@get(
    "/{trunk_id:str}/ip-acl",
    summary="List a SIP trunk's IP ACL",
    responses=error_responses(400, 404),
)
async def list_acl_entries(
    conn: Conn,
    caller: Who,
    trunk_id: TrunkId,
    page: PageNumber = 1,
    per_page: PerPage = PER_PAGE_DEFAULT,
) -> schemas.IpAclPage:
    return await service.list_acl_entries(
        conn, caller.account_id, trunk_id, page=page, per_page=per_page
    )


@delete(
    "/{trunk_id:str}/ip-acl/{acl_id:str}",
    summary="Remove an entry from a SIP trunk's IP ACL",
    **answers(200, 400, 404),
)
async def delete_acl_entry(
    conn: Conn,
    caller: Who,
    trunk_id: TrunkId,
    acl_id: Annotated[str, Parameter(description="The entry's id (`acl_…`).")],
) -> schemas.IpAclEntry:
    return await service.delete_acl_entry(conn, caller.account_id, trunk_id, acl_id)


router = Router(
    path="/v1/account/{account_id:str}/trunks",
    route_handlers=[
        create_trunk,
        list_trunks,
        get_trunk,
        replace_trunk,
        delete_trunk,
        create_credential,
        list_credentials,
        delete_credential,
        create_acl_entry,
        list_acl_entries,
        delete_acl_entry,
    ],
    dependencies=IF_MATCH_DEPENDENCY,
    tags=["trunks"],
)
