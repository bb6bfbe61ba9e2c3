"""HTTP glue of entity tags (``spec/API.md`` §7): ``ETag`` on single-object answers,
``If-Match`` on writes to that object.

What a tag is and how ``If-Match`` compares is ``kit.etags``; the comparison itself runs in
the services, on the row they lock for the write. Here: the ``if_match`` dependency (the
parsed header, documented as a header parameter of every route that asks for it), the
response carrying an ``ETag``, and what OpenAPI says about both.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from litestar import Response
from litestar.datastructures import ResponseHeader
from litestar.di import Provide
from litestar.params import HeaderParameter

from voxnumbers.kit.etags import IF_MATCH, IfMatch, parse_if_match, strong_etag
from voxnumbers.web.json import JsonResponse

T = TypeVar("T")

IfMatchHeader = Annotated[
    str | None,
    HeaderParameter(
        name=IF_MATCH,
        required=False,
        description=(
            "Apply the change only if the object's current `ETag` is one of these "
            '(`"…"`, comma-separated), or `*` for any; otherwise `412 PRECONDITION_FAILED` '
            'and nothing changes. Strong comparison: a weak tag (`W/"…"`) never matches.'
        ),
    ),
]


def provide_if_match(if_match_header: IfMatchHeader = None) -> IfMatch | None:
    """The request's ``If-Match``, parsed (``400`` when malformed); ``None`` when absent:
    no precondition, as TryVox clients send none."""
    return None if if_match_header is None else parse_if_match(if_match_header)


# Routers add this; only the handlers with an ``if_match`` parameter use (and document) it.
IF_MATCH_DEPENDENCY = {"if_match": Provide(provide_if_match, sync_to_thread=False)}

# OpenAPI: the header of answers that carry a tag (the value is set by ``tagged``).
# (``value`` only gives OpenAPI the header's type, string; ``tagged`` sets the real one.)
_EXAMPLE = '"9f86d081884c7d659a2feaa0c55ad015"'
ETAG_HEADER = [
    ResponseHeader(
        name="ETag",
        description=(
            "Strong entity tag of the object as `GET` answers it; send it back in `If-Match` "
            "to change the object only if nobody changed it since."
        ),
        documentation_only=True,
        value=_EXAMPLE,
    )
]
ROUTING_ETAG_HEADER = [
    ResponseHeader(
        name="ETag",
        description=(
            "Entity tag of the number after the change (as `GET …/numbers/{e164}` answers "
            "it), not of this answer; absent when the number can no longer be read."
        ),
        documentation_only=True,
        value=_EXAMPLE,
    )
]


def tagged(answer: T) -> Response[T]:
    """The answer, with its own entity tag (for answers that are the object's ``GET``
    representation)."""
    return tagged_as(answer, answer)


def tagged_as(answer: T, representation: Any | None) -> Response[T]:
    """The answer, with the entity tag of ``representation`` (the object it changed, when
    the answer is not that object); no tag when there is no such object to read any more."""
    headers = {} if representation is None else {"ETag": strong_etag(representation)}
    return JsonResponse(answer, headers=headers)
