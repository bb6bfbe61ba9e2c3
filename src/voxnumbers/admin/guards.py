"""Authentication of ``/admin/v1`` requests: operator tokens, owned by this package.

Beside the tokens it checks rather than in ``accounts``: accounts would otherwise import
the admin package, which already imports accounts (its services act on accounts and keys).
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from voxnumbers.accounts.guards import remember_caller
from voxnumbers.admin import service
from voxnumbers.kit.actors import Actor, act_as
from voxnumbers.web.requestid import request_origin
from voxnumbers.web.unitofwork import is_retry, unit_of_work


async def authorize_operator(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """The guard of every ``/admin/v1`` route: an operator token (``401`` for anything else,
    customer keys included), then its rate limit, counted per token like a key's."""
    authorization = connection.headers.get("authorization")
    caller = await unit_of_work(connection).first_statement(
        lambda conn: service.authenticate_operator(conn, authorization)
    )
    remember_caller(connection, caller)
    connection.app.state.key_usage.seen(caller.key_id)
    act_as(Actor("operator", caller.key_id).from_request(*request_origin(connection.scope)))
    if not is_retry(connection.scope):
        await connection.app.state.rate_limits.check(caller, connection.scope)
