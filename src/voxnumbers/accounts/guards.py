"""Authentication and authorization of ``/v1`` requests: the API key, then the account.

The guard runs in the contract's order: who you are (``401``), how fast you may go
(``429``), whether this account is yours (``403``). It uses the web plumbing (the request's
unit of work, its id, the rate limits); the plumbing knows nothing of it.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers import BaseRouteHandler

from voxnumbers.accounts import service
from voxnumbers.accounts.schemas import Caller
from voxnumbers.kit.actors import Actor, act_as
from voxnumbers.web.requestid import request_origin
from voxnumbers.web.unitofwork import is_retry, unit_of_work

_CALLER = "caller"


async def authorize_request(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """The guard of every ``/v1`` route, in the contract's order: who you are (``401``), how
    fast you may go (``429``, counted per key), whether this account is yours (``403``, after
    the rate limit, so a key probing other accounts is counted like any other request).
    One guard rather than three: Litestar copies the route handler for every guard it runs."""
    await require_api_key(connection)
    act_as(
        Actor("key", caller_of(connection).key_id).from_request(*request_origin(connection.scope))
    )
    if not is_retry(connection.scope):  # a retried request was counted on its first run
        await connection.app.state.rate_limits.check(caller_of(connection), connection.scope)
    require_own_account(connection)


async def require_api_key(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Authenticate the key (``401`` for a missing, unknown or revoked one), in the request's
    unit of work."""
    authorization, usage = connection.headers.get("authorization"), connection.app.state.key_usage
    caller = await unit_of_work(connection).first_statement(
        lambda conn: service.authenticate(conn, authorization, usage)
    )
    remember_caller(connection, caller)


def require_own_account(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Where the path names an account, it must be the key's."""
    account_id = connection.path_params.get("account_id")
    if account_id is not None:
        service.authorize_account(caller_of(connection), account_id)


def remember_caller(connection: ASGIConnection[Any, Any, Any, Any], caller: Caller) -> None:
    """Keep the authenticated caller for the rest of the request (``caller_of``)."""
    connection.scope["state"][_CALLER] = caller


def caller_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Caller:
    """The caller the request's guard authenticated."""
    caller: Caller = connection.scope["state"][_CALLER]
    return caller


def provide_caller(state: State, request: Request[Any, Any, Any]) -> Caller:
    """The handler's ``caller``: the authenticated caller (set by ``require_api_key``)."""
    return caller_of(request)
