"""HTTP glue of idempotency keys: read the header before the handler, claim the key in the
request's transaction, store the successful response before that transaction commits."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.idempotency import service
from voxnumbers.idempotency.service import HEADER, Replay
from voxnumbers.web.requestid import request_id_of

_KEYED_METHODS = frozenset({"POST", "DELETE"})
_STATE = "idempotent_request"


@dataclass(slots=True)
class IdempotentRequest:
    """A request carrying an Idempotency-Key, and the transaction it runs in once claimed."""

    account_id: str
    key: str
    fingerprint: str
    default_status: int
    conn: AsyncConnection | None = None


# Set in the request's own task (before_request) and read there again (after_request); the
# transaction dependency may run in a child task, so it reaches the same object via scope.
_current: ContextVar[IdempotentRequest | None] = ContextVar("idempotent_request", default=None)


async def read_idempotency_key(request: Request[Any, Any, Any], account_id: str) -> None:
    """Note the request's Idempotency-Key, if any (``400`` when malformed)."""
    raw = request.headers.get(HEADER)
    if raw is None or request.method not in _KEYED_METHODS:
        _current.set(None)
        return
    key = service.validated_key(raw)
    body = await request.body()
    pending = IdempotentRequest(
        account_id=account_id,
        key=key,
        fingerprint=service.fingerprint(
            request.method, request.url.path, request.url.query or "", body
        ),
        default_status=request.route_handler.status_code or 200,
    )
    request.scope["state"][_STATE] = pending
    _current.set(pending)


async def claim_idempotency_key(request: Request[Any, Any, Any], conn: AsyncConnection) -> None:
    """In the request's transaction, before the handler: replay, refuse, or let it run."""
    pending: IdempotentRequest | None = request.scope["state"].get(_STATE)
    if pending is None:
        return
    await service.claim(conn, pending.account_id, pending.key, pending.fingerprint)
    pending.conn = conn


async def store_idempotent_response(response: Response[Any]) -> Response[Any]:
    """After a successful handler, still inside its transaction: store what is answered."""
    pending = _current.get()
    # A handler returning its own Response may leave the status to the route's default.
    status = response.status_code or (pending.default_status if pending else 200)
    if pending is None or pending.conn is None or not 200 <= status < 300:
        return response
    body = response.render(response.content, response.media_type or "application/json")
    response.content = body
    await service.remember(
        pending.conn,
        pending.account_id,
        pending.key,
        pending.fingerprint,
        status,
        body,
    )
    pending.conn = None
    return response


def handle_replay(request: Request[Any, Any, Any], replay: Replay) -> Response[bytes]:
    """The stored response, marked as replayed."""
    return Response(
        content=replay.stored.response_body,
        status_code=replay.stored.response_status,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true", "X-Request-ID": request_id_of(request.scope)},
    )
