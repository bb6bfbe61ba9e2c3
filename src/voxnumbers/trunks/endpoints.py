"""HTTP surface of SIP trunks, their credentials and IP ACLs (thin: parse, call, return)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Response, Router, delete, get, post, put
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody, Parameter, PathParameter
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.accounts.schemas import Caller
from voxnumbers.kit.pagination import PER_PAGE_DEFAULT, Page, PageNumber, PerPage
from voxnumbers.settings import Settings
from voxnumbers.trunks import schemas, service
from voxnumbers.web.etags import ETAG_HEADER, IF_MATCH_DEPENDENCY, tagged
from voxnumbers.web.handlers import Conn, Precondition, Route, answers, route_handler
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


# A trunk's credentials and its IP ACL entries are two collections of one kind
# (``service._TrunkChildren``): each is added to, listed and removed from alike.
ChildRequest = TypeVar("ChildRequest", bound=msgspec.Struct)
Child = TypeVar("Child", bound=msgspec.Struct)
ChildPage = TypeVar("ChildPage", bound=Page[Any])
# One of them by id: to Litestar, the collection's own path parameter (``child_id``).
ChildId = str


def _trunk_child_routes(
    path: str,
    child_id: PathParameter,
    types: tuple[type[ChildRequest], type[Child], type[ChildPage]],
    *,
    add: Route[Callable[[AsyncConnection, str, str, ChildRequest], Awaitable[Child]]],
    read_page: Route[Callable[..., Awaitable[ChildPage]]],
    remove: Route[Callable[[AsyncConnection, str, str, str], Awaitable[Child]]],
) -> list[HTTPRouteHandler]:
    """The routes of the collection at ``path`` below a trunk: add one (``POST``), a page
    of them (``GET``) and remove one (``DELETE`` of ``path/{id}``, the path parameter that
    ``child_id`` names and describes)."""

    async def add_child(
        conn: Conn, caller: Who, trunk_id: TrunkId, data: JSONBody[ChildRequest]
    ) -> Child:
        return await add.call(conn, caller.account_id, trunk_id, data)

    async def list_children(
        conn: Conn,
        caller: Who,
        trunk_id: TrunkId,
        page: PageNumber = 1,
        per_page: PerPage = PER_PAGE_DEFAULT,
    ) -> ChildPage:
        return await read_page.call(conn, caller.account_id, trunk_id, page=page, per_page=per_page)

    async def remove_child(conn: Conn, caller: Who, trunk_id: TrunkId, child_id: ChildId) -> Child:
        return await remove.call(conn, caller.account_id, trunk_id, child_id)

    request_type, child_type, page_type = types
    # Litestar resolves the annotations above by name: these name this collection's types.
    by_name = {
        "ChildRequest": request_type,
        "Child": child_type,
        "ChildPage": page_type,
        "ChildId": Annotated[str, child_id],
    }
    return [
        route_handler(
            post, path, add, add_child, signature_namespace=by_name, **answers(201, *_BODY_ERRORS)
        ),
        route_handler(
            get,
            path,
            read_page,
            list_children,
            signature_namespace=by_name,
            responses=error_responses(400, 404),
        ),
        route_handler(
            delete,
            f"{path}/{{{child_id.name}:str}}",
            remove,
            remove_child,
            signature_namespace=by_name,
            **answers(200, 400, 404),
        ),
    ]


# The password is stored as an Argon2id hash and never returned.
_CREDENTIAL_ROUTES = _trunk_child_routes(
    "/{trunk_id:str}/credentials",
    PathParameter(name="cred_id", description="The credential's id (`cred_…`)."),
    (schemas.CredentialRequest, schemas.Credential, schemas.CredentialPage),
    add=Route("create_credential", "Add a credential to a SIP trunk", service.create_credential),
    read_page=Route("list_credentials", "List a SIP trunk's credentials", service.list_credentials),
    remove=Route(
        "delete_credential", "Remove a credential from a SIP trunk", service.delete_credential
    ),
)
# An entry's `cidr` is the network of `ip`/`mask` with the host bits cleared.
_ACL_ROUTES = _trunk_child_routes(
    "/{trunk_id:str}/ip-acl",
    PathParameter(name="acl_id", description="The entry's id (`acl_…`)."),
    (schemas.IpAclRequest, schemas.IpAclEntry, schemas.IpAclPage),
    add=Route(
        "create_acl_entry", "Add an address range to a SIP trunk's IP ACL", service.create_acl_entry
    ),
    read_page=Route("list_acl_entries", "List a SIP trunk's IP ACL", service.list_acl_entries),
    remove=Route(
        "delete_acl_entry", "Remove an entry from a SIP trunk's IP ACL", service.delete_acl_entry
    ),
)


router = Router(
    path="/v1/account/{account_id:str}/trunks",
    route_handlers=[
        create_trunk,
        list_trunks,
        get_trunk,
        replace_trunk,
        delete_trunk,
        *_CREDENTIAL_ROUTES,
        *_ACL_ROUTES,
    ],
    dependencies=IF_MATCH_DEPENDENCY,
    tags=["trunks"],
)
