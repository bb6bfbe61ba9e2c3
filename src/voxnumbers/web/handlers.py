"""What the API's route handlers have in common, whatever their feature: the parameters
every one of them is given and the answers a write documents."""

from __future__ import annotations

from typing import TypedDict

from litestar.di import NamedDependency
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
