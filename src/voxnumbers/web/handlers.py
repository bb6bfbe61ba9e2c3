"""What the API's route handlers have in common, whatever their feature: the parameters
every one of them is given, the answers a write documents, and what a handler written once
for several routes knows of each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, NamedTuple, TypedDict, TypeVar

from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.kit.etags import IfMatch
from voxnumbers.web.openapi import error_responses

# The request's transaction (``web.unitofwork.provide_transaction``).
Conn = NamedDependency[AsyncConnection]
# The request's parsed ``If-Match`` (``web.etags.IF_MATCH_DEPENDENCY``), ``None`` when absent.
Precondition = NamedDependency[IfMatch | None]


class Answers(TypedDict):
    """The keywords of a route decorator that say what the route answers."""

    status_code: int
    responses: dict[int, ResponseSpec]


def answers(status_code: int, *error_statuses: int) -> Answers:
    """``status_code`` on success (a write's own: ``200`` for a ``POST`` or ``DELETE`` that
    answers the object), the error envelope for ``error_statuses`` and every route's."""
    return Answers(status_code=status_code, responses=error_responses(*error_statuses))


ServiceCall = TypeVar("ServiceCall", bound=Callable[..., Awaitable[Any]])


class Route(NamedTuple, Generic[ServiceCall]):
    """One route of a handler written once for several: the handler's name (its OpenAPI
    operation id is made of it), the route's summary and the service function it calls."""

    name: str
    summary: str
    call: ServiceCall


def route_handler(
    method: type[HTTPRouteHandler],
    path: str,
    route: Route[Any],
    handler: Callable[..., Awaitable[Any]],
    **options: Any,
) -> HTTPRouteHandler:
    """``handler``, written once for several routes, as ``route``'s handler: under its name
    and summary, at ``path`` with ``method`` (``get``, ``post``…) and its ``options``."""
    handler.__name__ = handler.__qualname__ = route.name
    return method(path, summary=route.summary, **options)(handler)
