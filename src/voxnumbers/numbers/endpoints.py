"""HTTP surface of owned numbers (thin: parse, call one service function, return)."""

from __future__ import annotations

from typing import Annotated

from litestar import Router, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.accounts.schemas import Caller
from voxnumbers.kit.pagination import PER_PAGE_DEFAULT, PageNumber, PerPage
from voxnumbers.numbers import service
from voxnumbers.numbers.schemas import ListableStatus, Number, NumberPage, PurchaseRequest
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
) -> NumberPage:
    """Numbers owned by the account, oldest purchase first, with the exact total."""
    return await service.list_numbers(
        conn,
        caller.account_id,
        country=country,
        status=status.value if status else None,
        page=page,
        per_page=per_page,
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


router = Router(
    path="/v1/account/{account_id:str}/numbers",
    route_handlers=[list_numbers, get_number, purchase_number],
    tags=["numbers"],
)
