"""HTTP surface of the audit log (thin: parse, call one service function).

The query's parameters (``schemas``) are shared by the account's log (``/v1``) and the
operators' (``/admin/v1``).
"""

from __future__ import annotations

from litestar import Router, get
from litestar.di import NamedDependency

from voxnumbers.accounts.schemas import Caller
from voxnumbers.audit import service
from voxnumbers.audit.schemas import ActorId, AuditPage, Cursor, Limit, ObjectId, ObjectType, Since
from voxnumbers.web.handlers import Conn
from voxnumbers.web.openapi import error_responses

Who = NamedDependency[Caller]


@get("/", summary="List the account's audit log", responses=error_responses(400))
async def account_audit_log(
    conn: Conn,
    caller: Who,
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
