"""HTTP surface of voice applications (thin: parse, call one service function, return).

Reading and changing one application is also served at TryVox's
``/v1/voice/applications/{app_id}`` [compat], where the account is the key's.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Response, Router, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from voxnumbers.accounts.schemas import Caller
from voxnumbers.applications import service
from voxnumbers.applications.schemas import (
    Application,
    ApplicationCreate,
    ApplicationPage,
    ApplicationPatch,
)
from voxnumbers.kit.pagination import PER_PAGE_DEFAULT, PageNumber, PerPage
from voxnumbers.web.etags import ETAG_HEADER, IF_MATCH_DEPENDENCY, tagged
from voxnumbers.web.handlers import Conn, Precondition, answers
from voxnumbers.web.openapi import error_responses

_COLLECTION = "/account/{account_id:str}/applications"
_ONE = f"{_COLLECTION}/{{app_id:str}}"
_ONE_COMPAT = "/voice/applications/{app_id:str}"

Who = NamedDependency[Caller]
AppId = Annotated[str, Parameter(description="The application's id (`app_…`).")]


@post(_COLLECTION, summary="Create a voice application", **answers(201, 400, 413, 415))
async def create_application(
    conn: Conn, caller: Who, data: JSONBody[ApplicationCreate]
) -> Application:
    """`webhook_secret` is write-only: the response says only `has_webhook_secret`."""
    return await service.create_application(conn, caller.account_id, data)


@get(_COLLECTION, summary="List voice applications", responses=error_responses(400))
async def list_applications(
    conn: Conn, caller: Who, page: PageNumber = 1, per_page: PerPage = PER_PAGE_DEFAULT
) -> ApplicationPage:
    """The account's applications, oldest first, with the exact total."""
    return await service.list_applications(conn, caller.account_id, page=page, per_page=per_page)


@get(
    [_ONE, _ONE_COMPAT],
    summary="Get a voice application",
    responses=error_responses(400, 404),
    response_headers=ETAG_HEADER,
)
async def get_application(conn: Conn, caller: Who, app_id: AppId) -> Response[Application]:
    return tagged(await service.get_application(conn, caller.account_id, app_id))


@patch(
    [_ONE, _ONE_COMPAT],
    summary="Update a voice application",
    responses=error_responses(400, 404, 412, 413, 415),
    response_headers=ETAG_HEADER,
)
async def update_application(
    conn: Conn, caller: Who, if_match: Precondition, app_id: AppId, data: JSONBody[ApplicationPatch]
) -> Response[Application]:
    """Only the fields given change; `null` clears a URL or the webhook secret."""
    return tagged(
        await service.update_application(conn, caller.account_id, app_id, data, if_match=if_match)
    )


@delete(_ONE, summary="Delete a voice application", **answers(200, 400, 404, 409, 412))
async def delete_application(
    conn: Conn,
    caller: Who,
    if_match: Precondition,
    app_id: AppId,
    force: Annotated[
        bool,
        Parameter(description="Also unassign the numbers that route to it (else `409`)."),
    ] = False,
) -> Application:
    """Delete the application and answer its final state (no `ETag`: there is nothing left
    to read); `409` while numbers route to it, unless `force=true`."""
    return await service.delete_application(
        conn, caller.account_id, app_id, force=force, if_match=if_match
    )


router = Router(
    path="/v1",
    route_handlers=[
        create_application,
        list_applications,
        get_application,
        update_application,
        delete_application,
    ],
    dependencies=IF_MATCH_DEPENDENCY,
    tags=["applications"],
)
