"""One API call described as data: method, path, query, body and how to read the answer.

Resources build :class:`APIRequest` objects (pure, shared by the sync and async clients);
the clients send them. Paths are built here so every segment is percent-encoded the same
way (``+14155551234`` becomes ``%2B14155551234``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from voxnumbers_client._json import format_datetime

T = TypeVar("T")
QueryParams = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class APIRequest(Generic[T]):
    """A call to make, and the function that turns its decoded JSON body into ``T``."""

    method: str
    path: str
    parse: Callable[[Any], T]
    params: QueryParams = ()
    body: Mapping[str, Any] | None = None
    idempotency_key: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    #: Send ``If-Match``: the write applies only to the object at this version (its ETag).
    if_match: str | None = None

    def param(self, name: str) -> str | None:
        """The first value of query parameter ``name``, if set."""
        return next((value for key, value in self.params if key == name), None)

    def with_params(self, **changes: str | None) -> APIRequest[T]:
        """A copy with the given query parameters set (``None`` removes one)."""
        kept = tuple((key, value) for key, value in self.params if key not in changes)
        added = tuple((key, value) for key, value in changes.items() if value is not None)
        return dataclasses.replace(self, params=kept + added)


def account_path(account_id: str, *segments: str) -> str:
    """``/v1/account/{account_id}/…`` with every segment percent-encoded."""
    return "/".join(["/v1/account", *(quote(s, safe="") for s in (account_id, *segments))])


def encode_query(allowed: type, params: Mapping[str, Any]) -> QueryParams:
    """Query pairs for ``params``, refusing keywords that the ``TypedDict`` ``allowed`` lacks.

    ``None`` values are dropped, booleans become ``true``/``false``, datetimes ISO 8601 UTC,
    and sequences repeat the parameter (``capability=voice&capability=sms``).
    """
    check_keywords(allowed, params)
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        values = value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
        pairs.extend((key, _query_value(v)) for v in values if v is not None)
    return tuple(pairs)


def check_keywords(allowed: type, given: Mapping[str, Any]) -> None:
    """Refuse keywords the ``TypedDict`` ``allowed`` does not declare (typos fail loudly)."""
    unknown = sorted(set(given) - set(allowed.__annotations__))
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(unknown)}")


def compact(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A request body without the fields left at ``None`` (the server applies its defaults)."""
    return {key: _body_value(value) for key, value in fields.items() if value is not None}


def _body_value(value: Any) -> Any:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return value


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_datetime(value)
    return str(value)
