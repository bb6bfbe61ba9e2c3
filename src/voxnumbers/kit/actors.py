"""Who is acting: the actor every change is attributed to in the audit log.

The request guards (API key, operator token, console session), the operator commands, the
maintenance loop and background workers say who acts with ``acting_as`` (or, inside a
request whose scope already isolates it, ``act_as``); ``audit.record`` reads it back with
``current_actor``. Only ids are kept here, never a secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Literal

ActorType = Literal["key", "operator", "system"]


@dataclass(frozen=True, slots=True)
class Actor:
    """An actor, and where its request came from (``None`` outside a request)."""

    type: ActorType
    id: str | None
    request_id: str | None = None
    ip: str | None = None

    def from_request(self, request_id: str | None, ip: str | None) -> Actor:
        return replace(self, request_id=request_id, ip=ip)


SYSTEM = Actor("system", None)

_current: ContextVar[Actor] = ContextVar("voxnumbers_actor", default=SYSTEM)


def current_actor() -> Actor:
    """The actor of the running code (``SYSTEM`` when nobody said otherwise)."""
    return _current.get()


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Attribute every change made inside the block to ``actor``."""
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def act_as(actor: Actor) -> None:
    """Set the actor for the rest of the current context: for request guards, whose request
    runs inside an ``acting_as(SYSTEM)`` block that restores the previous actor at its end."""
    _current.set(actor)
