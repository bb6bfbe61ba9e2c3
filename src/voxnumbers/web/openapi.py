"""OpenAPI helpers: every route documents the errors it can answer with."""

from __future__ import annotations

from litestar.openapi import ResponseSpec

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
