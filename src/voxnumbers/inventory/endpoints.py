"""HTTP surface of the inventory search."""

from __future__ import annotations

from typing import Annotated

from litestar import Router, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from voxnumbers.accounts.schemas import Caller
from voxnumbers.inventory import service
from voxnumbers.inventory.schemas import AvailableNumberPage
from voxnumbers.kit.pagination import PER_PAGE_DEFAULT, PageNumber, PerPage
from voxnumbers.vocabulary import Capability, NumberType
from voxnumbers.web.handlers import Conn
from voxnumbers.web.openapi import error_responses

Who = NamedDependency[Caller]


@get("/numbers", summary="Search numbers available to buy", responses=error_responses(400))
async def search_inventory(
    conn: Conn,
    caller: Who,
    country: Annotated[str | None, Parameter(description="ISO 3166-1 alpha-2 code.")] = None,
    type: Annotated[NumberType | None, Parameter(description="local, toll_free or mobile.")] = None,
    region: Annotated[str | None, Parameter(max_length=100)] = None,
    capability: Annotated[
        list[Capability] | None,
        Parameter(description="Repeatable; every capability given must be present."),
    ] = None,
    contains: Annotated[str | None, Parameter(description="Digits the number contains.")] = None,
    page: PageNumber = 1,
    per_page: PerPage = PER_PAGE_DEFAULT,
) -> AvailableNumberPage:
    """Numbers nobody owns or holds in cooling-off, in ``e164`` order. In test mode: the
    test world's generated numbers it does not hold."""
    return await service.search_inventory(
        conn,
        caller.account_id,
        country=country,
        number_type=type,
        region=region,
        capabilities=capability or [],
        contains=contains,
        page=page,
        per_page=per_page,
    )


router = Router(
    path="/v1/account/{account_id:str}/inventory",
    route_handlers=[search_inventory],
    tags=["inventory"],
)
