"""HTTP surface of owned numbers (thin: parse, call one service function, return)."""

from __future__ import annotations

from typing import Annotated

from litestar import Router, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.accounts.schemas import Caller
from voxnumbers.kit.pagination import PER_PAGE_DEFAULT, PageNumber, PerPage
from voxnumbers.numbers import service
from voxnumbers.numbers.schemas import (
    ApplicationTarget,
    ListableStatus,
    Number,
    NumberPage,
    PurchaseRequest,
    Release,
    ReleasePreview,
    Routing,
    RoutingTarget,
)
from voxnumbers.settings import Settings
from voxnumbers.web.openapi import error_responses

CountryCode = Annotated[
    str | None, Parameter(description="ISO 3166-1 alpha-2 country code, case-insensitive.")
]
E164Path = Annotated[
    str, Parameter(description="The number: `+14155551234`, `%2B14155551234` or `14155551234`.")
]


@get("/", summary="List your numbers", responses=error_responses(400))
async def list_numbers(
    conn: NamedDependency[AsyncConnection],
    caller: NamedDependency[Caller],
    country: CountryCode = None,
    status: Annotated[
        ListableStatus | None,
        Parameter(description="Filter by status; `released` lists numbers cooling off."),
    ] = None,
    page: PageNumber = 1,
    per_page: PerPage = PER_PAGE_DEFAULT,
    trunk_id: Annotated[str | None, Parameter(description="Routed to this trunk.")] = None,
    application_id: Annotated[
        str | None, Parameter(description="Routed to this application.")
    ] = None,
    routed: Annotated[
        bool | None, Parameter(description="`true`: routed anywhere; `false`: not routed.")
    ] = None,
) -> NumberPage:
    """Numbers owned by the account, oldest purchase first, with the exact total."""
    return await service.list_numbers(
        conn,
        caller.account_id,
        country=country,
        status=status.value if status else None,
        page=page,
        per_page=per_page,
        trunk_id=trunk_id,
        application_id=application_id,
        routed=routed,
    )


@get("/{e164:str}", summary="Get a number", responses=error_responses(400, 404))
async def get_number(
    conn: NamedDependency[AsyncConnection], caller: NamedDependency[Caller], e164: E164Path
) -> Number:
    return await service.get_number(conn, caller.account_id, e164)


@post(
    "/purchase-from-inventory",
    summary="Buy a number from inventory",
    status_code=201,
    responses=error_responses(400, 404, 409, 413, 415),
)
async def purchase_number(
    conn: NamedDependency[AsyncConnection],
    caller: NamedDependency[Caller],
    data: JSONBody[PurchaseRequest],
) -> Number:
    """Buy a number; of concurrent buyers exactly one succeeds, the others get ``409``."""
    return await service.purchase_number(conn, caller.account_id, data)


Conn = NamedDependency[AsyncConnection]
Who = NamedDependency[Caller]


@post(
    "/{e164:str}/assign",
    summary="Route a number to a SIP trunk",
    status_code=200,
    responses=error_responses(400, 404, 409, 413, 415),
)
async def assign_trunk(
    conn: Conn, caller: Who, e164: E164Path, data: JSONBody[RoutingTarget]
) -> Routing:
    """Route to a trunk of the account; an application, if any, is cleared."""
    return await service.assign_trunk(conn, caller.account_id, e164, data.trunk_id)


@delete(
    "/{e164:str}/assign",
    summary="Remove a number's SIP trunk",
    status_code=200,
    responses=error_responses(400, 404, 409),
)
async def unassign_trunk(conn: Conn, caller: Who, e164: E164Path) -> Routing:
    """Idempotent: also ``200`` when no trunk was assigned."""
    return await service.unassign_trunk(conn, caller.account_id, e164)


@post(
    "/{e164:str}/application",
    summary="Route a number to a voice application",
    status_code=200,
    responses=error_responses(400, 404, 409, 413, 415),
)
async def assign_application(
    conn: Conn, caller: Who, e164: E164Path, data: JSONBody[ApplicationTarget]
) -> Routing:
    """Route to an application of the account; a trunk, if any, is cleared."""
    return await service.assign_application(conn, caller.account_id, e164, data.application_id)


@delete(
    "/{e164:str}/application",
    summary="Remove a number's voice application",
    status_code=200,
    responses=error_responses(400, 404, 409),
)
async def unassign_application(conn: Conn, caller: Who, e164: E164Path) -> Routing:
    """Idempotent: also ``200`` when no application was assigned."""
    return await service.unassign_application(conn, caller.account_id, e164)


@get(
    "/{e164:str}/release-preview",
    summary="What releasing a number would cost",
    responses=error_responses(400, 404),
)
async def preview_release(
    conn: Conn, caller: Who, settings: NamedDependency[Settings], e164: E164Path
) -> ReleasePreview:
    return await service.preview_release(conn, caller.account_id, e164, settings)


@delete(
    "/{e164:str}",
    summary="Release a number",
    status_code=200,
    responses=error_responses(400, 404, 409),
)
async def release_number(
    conn: Conn, caller: Who, settings: NamedDependency[Settings], e164: E164Path
) -> Release:
    """The number cools off for the configured period before returning to inventory."""
    return await service.release_number(conn, caller.account_id, e164, settings)


@post(
    "/{e164:str}/cancel-release",
    summary="Undo a release while cooling off",
    status_code=200,
    responses=error_responses(400, 404, 409, 415),
)
async def cancel_release(conn: Conn, caller: Who, e164: E164Path) -> Number:
    """Active again, with its previous routing where the target still exists."""
    return await service.cancel_release(conn, caller.account_id, e164)


router = Router(
    path="/v1/account/{account_id:str}/numbers",
    route_handlers=[
        list_numbers,
        get_number,
        purchase_number,
        assign_trunk,
        unassign_trunk,
        assign_application,
        unassign_application,
        preview_release,
        release_number,
        cancel_release,
    ],
    tags=["numbers"],
)
