"""The shape check every API request passes after its guard and before its parameters are
parsed: ``415`` for a body that is not JSON, ``400`` for a query parameter the route does not
know or that is repeated, for JSON the decoder would misread and for a malformed
``If-Match``. It reads the route's own signature and knows no feature.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple, get_args

from litestar import Request
from litestar.enums import ParamType
from litestar.handlers import BaseRouteHandler
from litestar.params import ParameterKwarg

from voxnumbers.errors import FieldProblem, UnsupportedMediaType, ValidationFailed
from voxnumbers.kit.etags import IF_MATCH, parse_if_match
from voxnumbers.kit.text import has_control_characters
from voxnumbers.web.json import check_json_body
from voxnumbers.web.unitofwork import SAFE_METHODS

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


async def check_request_shape(request: Request[Any, Any, Any]) -> None:
    """JSON bodies only, and JSON the decoder reads as it was sent (``web.json``); no query
    parameter the route does not know or that is repeated where one value is expected (never
    silently ignored); a well-formed ``If-Match``."""
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
                # A path parameter may be declared under another name than its own.
                if kwarg.header or kwarg.cookie or kwarg.param_type is ParamType.PATH:
                    continue
                name = kwarg.query or name
            integer = int in (field.annotation, *get_args(field.annotation))
            names[name] = _QueryParameter(field.is_non_string_sequence, integer)
    return names
