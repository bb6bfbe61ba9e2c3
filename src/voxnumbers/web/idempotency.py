"""HTTP glue of idempotency keys: read the header before the handler; claim the key and
store the response in the request's transaction (``web.unitofwork`` calls both)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.idempotency import service
from voxnumbers.idempotency.service import HEADER, Replay
from voxnumbers.web.requestid import request_id_of

_KEYED_METHODS = frozenset({"POST", "DELETE"})


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    """A request carrying an Idempotency-Key: whose, which key, and what request it was."""

    account_id: str
    key: str
    fingerprint: str


async def read_idempotency_key(
    request: Request[Any, Any, Any], account_id: str
) -> IdempotentRequest | None:
    """The request's Idempotency-Key, if it has one (``400`` when malformed)."""
    raw = request.headers.get(HEADER)
    if raw is None or request.method not in _KEYED_METHODS:
        return None
    key = service.validated_key(raw)
    body = await request.body()
    return IdempotentRequest(
        account_id=account_id,
        key=key,
        fingerprint=service.fingerprint(
            request.method, request.url.path, request.url.query or "", body
        ),
    )


async def claim(conn: AsyncConnection, pending: IdempotentRequest) -> None:
    """Before the handler, in its transaction: replay, refuse, or let it run."""
    await service.claim(conn, pending.account_id, pending.key, pending.fingerprint)


async def remember(
    conn: AsyncConnection,
    pending: IdempotentRequest,
    status: int,
    body: bytes,
    location: str | None = None,
) -> None:
    """After a successful handler, in its transaction: store what is answered."""
    await service.remember(
        conn, pending.account_id, pending.key, pending.fingerprint, status, body, location
    )


def handle_replay(request: Request[Any, Any, Any], replay: Replay) -> Response[bytes]:
    """The stored response, marked as replayed (with its ``Location``, if it had one)."""
    headers = {"Idempotent-Replayed": "true", "X-Request-ID": request_id_of(request.scope)}
    if replay.stored.response_location is not None:
        headers["Location"] = replay.stored.response_location
    return Response(
        content=replay.stored.response_body,
        status_code=replay.stored.response_status,
        media_type="application/json",
        headers=headers,
    )
