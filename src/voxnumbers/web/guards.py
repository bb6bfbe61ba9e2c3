"""Checks every ``/v1`` request passes before its parameters are parsed.

Order matters and is the order of the contract: who you are (401), whether this account is
yours (403), then the shape of the request (415, 400), then the handler.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple, get_args

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers import BaseRouteHandler
from litestar.params import ParameterKwarg

from voxnumbers.accounts import service as accounts
from voxnumbers.accounts.schemas import Caller
from voxnumbers.admin import service as admin
from voxnumbers.errors import FieldProblem, UnsupportedMediaType, ValidationFailed
from voxnumbers.kit.actors import Actor, act_as
from voxnumbers.kit.etags import IF_MATCH, parse_if_match
from voxnumbers.kit.text import has_control_characters
from voxnumbers.settings import Settings
from voxnumbers.web.idempotency import read_idempotency_key
from voxnumbers.web.json import check_json_body
from voxnumbers.web.requestid import request_id_of
from voxnumbers.web.unitofwork import SAFE_METHODS, is_retry, unit_of_work

_CALLER = "caller"
_RESERVED = frozenset(
    {
        "request",
        "state",
        "data",
        "headers",
        "cookies",
        "query",
        "scope",
        "socket",
        "body",
        "receive",
        "send",
    }
)
_PATH_PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")


async def authorize_request(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """The guard of every ``/v1`` route, in the contract's order: who you are (``401``), how
    fast you may go (``429``, counted per key), whether this account is yours (``403``, after
    the rate limit, so a key probing other accounts is counted like any other request).
    One guard rather than three: Litestar copies the route handler for every guard it runs."""
    await require_api_key(connection)
    act_as(Actor("key", caller_of(connection).key_id).from_request(*request_origin(connection)))
    if not is_retry(connection.scope):  # a retried request was counted on its first run
        await connection.app.state.rate_limits.check(caller_of(connection), connection.scope)
    require_own_account(connection)


async def authorize_operator(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """The guard of every ``/admin/v1`` route: an operator token (``401`` for anything else,
    customer keys included), then its rate limit, counted per token like a key's."""
    authorization = connection.headers.get("authorization")
    caller = await unit_of_work(connection).first_statement(
        lambda conn: admin.authenticate_operator(conn, authorization)
    )
    connection.scope["state"][_CALLER] = caller
    connection.app.state.key_usage.seen(caller.key_id)
    act_as(Actor("operator", caller.key_id).from_request(*request_origin(connection)))
    if not is_retry(connection.scope):
        await connection.app.state.rate_limits.check(caller, connection.scope)


async def require_api_key(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Authenticate the key (``401`` for a missing, unknown or revoked one), in the request's
    unit of work."""
    authorization, usage = connection.headers.get("authorization"), connection.app.state.key_usage
    caller = await unit_of_work(connection).first_statement(
        lambda conn: accounts.authenticate(conn, authorization, usage)
    )
    connection.scope["state"][_CALLER] = caller


def require_own_account(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Where the path names an account, it must be the key's."""
    account_id = connection.path_params.get("account_id")
    if account_id is not None:
        accounts.authorize_account(caller_of(connection), account_id)


def request_origin(connection: ASGIConnection[Any, Any, Any, Any]) -> tuple[str, str | None]:
    """The request id and client address the audit log records with a change."""
    client = connection.scope.get("client")
    return request_id_of(connection.scope), client[0] if client else None


def caller_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Caller:
    """The caller ``require_api_key`` authenticated for this request."""
    caller: Caller = connection.scope["state"][_CALLER]
    return caller


async def check_request_shape(request: Request[Any, Any, Any]) -> None:
    """JSON bodies only, and no query parameter the route does not know or that is repeated
    where one value is expected (never silently ignored); then note any Idempotency-Key."""
    if request.method not in SAFE_METHODS and _has_body(request):
        media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type != "application/json" and not media_type.endswith("+json"):
            raise UnsupportedMediaType()
    known = _QUERY_PARAMETERS.get(request.route_handler.fn)
    if known is None:
        known = _QUERY_PARAMETERS[request.route_handler.fn] = _query_parameters(
            request.route_handler
        )
    problems = []
    for name, values in request.query_params.dict().items():
        if name not in known:
            problems.append(FieldProblem(name, "is not a parameter of this endpoint"))
        elif len(values) > 1 and not known[name].repeatable:
            problems.append(FieldProblem(name, "must be given at most once"))
        elif any(has_control_characters(value) for value in values):
            problems.append(FieldProblem(name, "must not contain control characters"))
        elif known[name].integer and not all(_INTEGER.fullmatch(value) for value in values):
            # The framework's lenient decoding reads "1e3" and "1.0" as integers.
            problems.append(FieldProblem(name, "must be an integer"))
    if problems:
        raise ValidationFailed("Invalid query parameters.", problems)
    if request.method not in SAFE_METHODS and _has_body(request):
        data = request.route_handler.parsed_fn_signature.parameters.get("data")
        check_json_body(await request.body(), data.annotation if data else None)
    if_match = request.headers.get(IF_MATCH)
    if if_match is not None and "if_match" in request.route_handler.parsed_fn_signature.parameters:
        # Refused here, before the transaction opens: the ``if_match`` dependency resolves
        # alongside the transaction's, and raising there cancels that one mid-BEGIN, which
        # costs the pool its connection (invalidated) on every malformed header.
        parse_if_match(if_match)
    if not request.route_handler.opt.get("read_only"):  # nothing to replay: it writes nothing
        unit_of_work(request).idempotent = await read_idempotency_key(
            request, caller_of(request).account_id
        )


def provide_settings(state: State) -> Settings:
    """The settings the application was created with."""
    settings: Settings = state.settings
    return settings


def provide_caller(state: State, request: Request[Any, Any, Any]) -> Caller:
    """The authenticated caller (set by ``require_api_key``)."""
    return caller_of(request)


def _path_parameter_names(handler: BaseRouteHandler) -> set[str]:
    names: set[str] = set()
    for path in handler.paths:
        names.update(_PATH_PARAMETER.findall(path))
    for layer in handler.ownership_layers:
        names.update(_PATH_PARAMETER.findall(getattr(layer, "path", "") or ""))
    return names


def _has_body(request: Request[Any, Any, Any]) -> bool:
    length = request.headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in request.headers


class _QueryParameter(NamedTuple):
    repeatable: bool
    integer: bool


_QUERY_PARAMETERS: dict[object, dict[str, _QueryParameter]] = {}
_INTEGER = re.compile(r"-?[0-9]+")


def _query_parameters(handler: BaseRouteHandler) -> dict[str, _QueryParameter]:
    """Query parameter names of a handler and of the dependencies it uses, each with whether
    it may repeat and whether it is an integer."""
    dependencies = handler.resolve_dependencies()
    skip = _RESERVED | _path_parameter_names(handler)
    names: dict[str, _QueryParameter] = {}
    signatures, seen = [handler.parsed_fn_signature], set()
    while signatures:
        for name, field in signatures.pop().parameters.items():
            if name in dependencies:
                if name not in seen:
                    seen.add(name)
                    signatures.append(dependencies[name].parsed_fn_signature)
                continue
            if name in skip:
                continue
            kwarg = field.kwarg_definition
            if isinstance(kwarg, ParameterKwarg):
                if kwarg.header or kwarg.cookie:
                    continue
                name = kwarg.query or name
            integer = int in (field.annotation, *get_args(field.annotation))
            names[name] = _QueryParameter(field.is_non_string_sequence, integer)
    return names
