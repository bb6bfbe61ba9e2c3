"""OpenAPI helpers: every route documents the errors it can answer with."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIResponse as ResponseDoc
from litestar.openapi.spec import Operation

from voxnumbers.errors import ERRORS_BY_STATUS
from voxnumbers.web.envelope import ErrorEnvelope

# Every authenticated route can answer these: 400 among them, since unknown or repeated query
# parameters are refused on every route (and without it, the framework documents its own
# 400 body, which never leaves the server).
_ALWAYS = (400, 401, 403, 405, 429, 500, 503)


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """Response specs of the error envelope for the given statuses plus those every
    authenticated route can answer with."""
    specs = {}
    for status in sorted(set(statuses) | set(_ALWAYS)):
        error = ERRORS_BY_STATUS[status]
        specs[status] = ResponseSpec(
            data_container=ErrorEnvelope,
            description=f"`{error.code}`: {error.default_message}",
            generate_examples=False,
        )
    return specs


def also_answered_as(status: int, *media_types: str) -> type[Operation]:
    """An OpenAPI operation class that documents the ``status`` answer under ``media_types``
    too, with the schema of the media type its ``ResponseSpec`` names (a ``ResponseSpec``
    names one; an endpoint answering CSV or NDJSON, as asked, answers both). Pass it as the
    route's ``operation_class``."""

    @dataclass
    class AnsweredAs(Operation):
        def __post_init__(self) -> None:
            response = (self.responses or {}).get(str(status))
            if isinstance(response, ResponseDoc) and response.content:
                documented = next(iter(response.content.values()))
                for media_type in media_types:
                    response.content.setdefault(media_type, documented)

    return AnsweredAs
