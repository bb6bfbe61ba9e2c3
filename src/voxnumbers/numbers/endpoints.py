"""HTTP surface of owned numbers (thin: parse, call one service function, return)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from operator import attrgetter
from typing import Annotated, Any, Literal, TypeVar

from litestar import Request, Response, Router, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, Parameter
from litestar.response import Stream

from voxnumbers.accounts.schemas import Caller
from voxnumbers.kit.pagination import PER_PAGE_DEFAULT, PerPage
from voxnumbers.numbers import service
from voxnumbers.numbers.schemas import (
    ApplicationTarget,
    ListableStatus,
    ListOrder,
    Number,
    NumberPage,
    PurchaseRequest,
    Release,
    ReleasePreview,
    Routing,
    RoutingTarget,
    SortKey,
)
from voxnumbers.settings import Settings
from voxnumbers.vocabulary import Capability, NumberType
from voxnumbers.web.etags import (
    ETAG_HEADER,
    IF_MATCH_DEPENDENCY,
    ROUTING_ETAG_HEADER,
    tagged,
    tagged_as,
)
from voxnumbers.web.handlers import Conn, Precondition, Route, answers, route_handler
from voxnumbers.web.openapi import also_answered_as, error_responses
from voxnumbers.web.unitofwork import unit_of_work

Who = NamedDependency[Caller]
CountryCode = Annotated[
    str | None, Parameter(description="ISO 3166-1 alpha-2 country code, case-insensitive.")
]
E164Path = Annotated[
    str, Parameter(description="The number: `+14155551234`, `%2B14155551234` or `14155551234`.")
]
StatusFilter = Annotated[
    ListableStatus | None,
    Parameter(description="Filter by status; `released` lists numbers cooling off."),
]


def list_filters(
    country: CountryCode = None,
    status: StatusFilter = None,
    trunk_id: Annotated[str | None, Parameter(description="Routed to this trunk.")] = None,
    application_id: Annotated[
        str | None, Parameter(description="Routed to this application.")
    ] = None,
    routed: Annotated[
        bool | None, Parameter(description="`true`: routed anywhere; `false`: not routed.")
    ] = None,
    type: Annotated[NumberType | None, Parameter(description="local, toll_free or mobile.")] = None,
    region: Annotated[str | None, Parameter(max_length=100, description="Exact region.")] = None,
    capability: Annotated[
        list[Capability] | None,
        Parameter(description="Repeatable; every capability given must be present."),
    ] = None,
    contains: Annotated[str | None, Parameter(description="Digits the number contains.")] = None,
    created_after: Annotated[
        datetime | None, Parameter(description="Bought after (ISO 8601; no offset: UTC).")
    ] = None,
    created_before: Annotated[datetime | None, Parameter(description="Bought before.")] = None,
    updated_since: Annotated[datetime | None, Parameter(description="Changed since.")] = None,
) -> service.ListFilters:
    """The list's filters from the query (shared by the list and its export)."""
    return service.ListFilters(
        country=country,
        status=status.value if status else None,
        trunk_id=trunk_id,
        application_id=application_id,
        routed=routed,
        type=type,
        region=region,
        capabilities=tuple(capability or ()),
        contains=contains,
        created_after=created_after,
        created_before=created_before,
        updated_since=updated_since,
    )


Filters = NamedDependency[service.ListFilters]
Sort = Annotated[SortKey, Parameter(description="Order; `-` for descending. Then by number.")]


# One statement answers the page and its total, so no snapshot is needed around it
# (web/unitofwork.py). A deep page by number reads the month counts first: a write between
# the two moves the page by that write, as it would between two requests.
@get("/", summary="List your numbers", responses=error_responses(400), opt={"snapshot": False})
async def list_numbers(
    conn: Conn,
    caller: Who,
    filters: Filters,
    page: Annotated[
        int | None,
        Parameter(ge=1, description="Page number, from 1.", schema_extra={"default": 1}),
    ] = None,
    per_page: PerPage = PER_PAGE_DEFAULT,
    sort: Sort = "created_at",
    cursor: Annotated[
        str | None,
        Parameter(description="Page by cursor: empty for the first page, then `next_cursor`."),
    ] = None,
) -> NumberPage:
    """Numbers owned by the account, oldest purchase first, with the exact total."""
    return await service.list_numbers(
        conn,
        caller.account_id,
        filters,
        page=page,
        per_page=per_page,
        sort=sort,
        cursor=cursor,
    )


@get(
    "/export",
    summary="Export your numbers (CSV or NDJSON)",
    responses={
        200: ResponseSpec(
            data_container=str,
            media_type="text/csv",
            description="CSV with a header row (`format=csv`), or one JSON number object "
            "per line (`format=ndjson`, `application/x-ndjson`); the columns are the number "
            "object's keys.",
            generate_examples=False,
        ),
        **error_responses(400),
    },
    operation_class=also_answered_as(200, "application/x-ndjson"),
    opt={"stream_in_transaction": True},
)
async def export_numbers(
    request: Request[Any, Any, Any],
    caller: Who,
    filters: Filters,
    format: Annotated[Literal["csv", "ndjson"], Parameter(description="csv or ndjson.")] = "csv",
    sort: Sort = "created_at",
) -> Stream:
    """Every number the list's filters match, streamed: memory stays flat at any size."""
    where, order = service.number_filter(filters), ListOrder.parse(sort)
    # The stream reads in the request's own transaction: the connection and the snapshot
    # the key was looked up in, held until the last byte is sent (or the client leaves),
    # then ended by the unit of work. One pooled connection for the whole export.
    unit = unit_of_work(request)
    conn = await unit.connection()
    chunks = unit.streaming(service.export_numbers(conn, caller.account_id, where, order, format))
    return Stream(
        chunks,
        media_type=service.EXPORT_MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="numbers.{format}"'},
    )


@get(
    "/{e164:str}",
    summary="Get a number",
    responses=error_responses(400, 404),
    response_headers=ETAG_HEADER,
)
async def get_number(conn: Conn, caller: Who, e164: E164Path) -> Response[Number]:
    """One number. A released one (cooling off) adds ``released_at`` and ``available_after``
    after the number object's keys, as ``status=released`` lists do."""
    return tagged(await service.get_number(conn, caller.account_id, e164))


@post(
    "/purchase-from-inventory",
    summary="Buy a number from inventory",
    **answers(201, 400, 404, 409, 413, 415),
)
async def purchase_number(conn: Conn, caller: Who, data: JSONBody[PurchaseRequest]) -> Number:
    """Buy a number; of concurrent buyers exactly one succeeds, the others get ``409``."""
    return await service.purchase_number(conn, caller.account_id, data)


NumberAnswer = TypeVar("NumberAnswer", Routing, Release)


async def _with_number_etag(
    conn: Conn, caller: Who, answer: NumberAnswer
) -> Response[NumberAnswer]:
    """Routing and release answers are not the number: they carry the ETag of the number
    after the change, so a client can chain writes with ``If-Match`` without a ``GET``."""
    return tagged_as(answer, await service.readable_number(conn, caller.account_id, answer.e164))


# A number routes to a trunk or to an application (never both), each set and removed alike.
Target = TypeVar("Target", RoutingTarget, ApplicationTarget)


def _routing_routes(
    path: str,
    target: type[Target],
    target_id: Callable[[Target], str],
    *,
    assign: Route[Callable[..., Awaitable[Routing]]],
    unassign: Route[Callable[..., Awaitable[Routing]]],
) -> list[HTTPRouteHandler]:
    """The routes of one kind of target at ``path`` below a number: route the number to the
    target the body names (``POST``; the other kind, if any, is cleared) and remove it
    (``DELETE``; idempotent: also ``200`` when none was assigned)."""

    async def route_to(
        conn: Conn, caller: Who, if_match: Precondition, e164: E164Path, data: JSONBody[Target]
    ) -> Response[Routing]:
        routing = await assign.call(
            conn, caller.account_id, e164, target_id(data), if_match=if_match
        )
        return await _with_number_etag(conn, caller, routing)

    async def unroute(
        conn: Conn, caller: Who, if_match: Precondition, e164: E164Path
    ) -> Response[Routing]:
        routing = await unassign.call(conn, caller.account_id, e164, if_match=if_match)
        return await _with_number_etag(conn, caller, routing)

    # Litestar resolves ``Target`` in the annotations by name: this route's body.
    by_name = {"Target": target}
    return [
        route_handler(
            post,
            path,
            assign,
            route_to,
            signature_namespace=by_name,
            response_headers=ROUTING_ETAG_HEADER,
            **answers(200, 400, 404, 409, 412, 413, 415),
        ),
        route_handler(
            delete,
            path,
            unassign,
            unroute,
            response_headers=ROUTING_ETAG_HEADER,
            **answers(200, 400, 404, 409, 412),
        ),
    ]


_TRUNK_ROUTES = _routing_routes(
    "/{e164:str}/assign",
    RoutingTarget,
    attrgetter("trunk_id"),
    assign=Route("assign_trunk", "Route a number to a SIP trunk", service.assign_trunk),
    unassign=Route("unassign_trunk", "Remove a number's SIP trunk", service.unassign_trunk),
)
_APPLICATION_ROUTES = _routing_routes(
    "/{e164:str}/application",
    ApplicationTarget,
    attrgetter("application_id"),
    assign=Route(
        "assign_application", "Route a number to a voice application", service.assign_application
    ),
    unassign=Route(
        "unassign_application",
        "Remove a number's voice application",
        service.unassign_application,
    ),
)


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
    **answers(200, 400, 404, 409, 412),
    response_headers=ROUTING_ETAG_HEADER,
)
async def release_number(
    conn: Conn,
    caller: Who,
    settings: NamedDependency[Settings],
    if_match: Precondition,
    e164: E164Path,
) -> Response[Release]:
    """The number cools off for the configured period before returning to inventory."""
    release = await service.release_number(
        conn, caller.account_id, e164, settings, if_match=if_match
    )
    return await _with_number_etag(conn, caller, release)


@post(
    "/{e164:str}/cancel-release",
    summary="Undo a release while cooling off",
    **answers(200, 400, 404, 409, 412, 415),
    response_headers=ETAG_HEADER,
)
async def cancel_release(
    conn: Conn, caller: Who, if_match: Precondition, e164: E164Path
) -> Response[Number]:
    """Active again, with its previous routing where the target still exists."""
    return tagged(await service.cancel_release(conn, caller.account_id, e164, if_match=if_match))


router = Router(
    path="/v1/account/{account_id:str}/numbers",
    route_handlers=[
        list_numbers,
        export_numbers,
        get_number,
        purchase_number,
        *_TRUNK_ROUTES,
        *_APPLICATION_ROUTES,
        preview_release,
        release_number,
        cancel_release,
    ],
    tags=["numbers"],
    dependencies={"filters": Provide(list_filters, sync_to_thread=False), **IF_MATCH_DEPENDENCY},
)
