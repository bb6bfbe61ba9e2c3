"""HTTP surface of the audit log (thin: parse, call one service function).

``audit_query`` is shared by the account's log (``/v1``) and the operators' (``/admin/v1``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Router, get
from litestar.di import NamedDependency
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.accounts.schemas import Caller
from voxnumbers.audit import service
from voxnumbers.audit.schemas import AuditPage
from voxnumbers.kit.pagination import PER_PAGE_MAX
from voxnumbers.web.openapi import error_responses

ObjectType = Annotated[
    str | None,
    Parameter(
        description="Only changes of this type of object (`number`, `trunk`, `webhook`, …).",
        min_length=1,
        max_length=200,
    ),
]
ObjectId = Annotated[
    str | None,
    Parameter(
        description="Only changes of this object (its id, or a number's e164).",
        min_length=1,
        max_length=200,
    ),
]
ActorId = Annotated[
    str | None,
    Parameter(
        description="Only changes made by this key (`key_…`) or operator token (`opt_…`).",
        min_length=1,
        max_length=200,
    ),
]
Since = Annotated[
    datetime | None,
    Parameter(
        description="Only changes at or after this time (ISO 8601, e.g. `2026-03-15T08:20:00Z`)."
    ),
]
Cursor = Annotated[
    str | None, Parameter(description="`next_cursor` of the previous page.", max_length=1024)
]
Limit = Annotated[
    int, Parameter(ge=1, le=PER_PAGE_MAX, description=f"Entries per page, 1 to {PER_PAGE_MAX}.")
]


@get("/", summary="List the account's audit log", responses=error_responses(400))
async def account_audit_log(
    conn: NamedDependency[AsyncConnection],
    caller: NamedDependency[Caller],
    object_type: ObjectType = None,
    object_id: ObjectId = None,
    actor_id: ActorId = None,
    since: Since = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> AuditPage:
    """Who changed what in the account, newest first, with cursor paging."""
    return await service.list_entries(
        conn,
        account_id=caller.account_id,
        object_type=object_type,
        object_id=object_id,
        actor_id=actor_id,
        since=since,
        cursor=cursor,
        limit=limit,
    )


audit_router = Router(
    path="/v1/account/{account_id:str}/audit-log",
    route_handlers=[account_audit_log],
    tags=["audit log"],
)
