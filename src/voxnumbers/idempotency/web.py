"""HTTP glue of idempotency keys: note the header before the handler, claim the key and
store the response in the request's transaction (the unit of work calls ``claim`` and
``remember`` on what was noted), and answer a replay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.idempotency import service
from voxnumbers.idempotency.service import HEADER, Replay
from voxnumbers.web.requestid import request_id_of
from voxnumbers.web.unitofwork import unit_of_work

_KEYED_METHODS = frozenset({"POST", "DELETE"})


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    """A request carrying an Idempotency-Key: whose, which key, and what request it was."""

    account_id: str
    key: str
    fingerprint: str

    async def claim(self, conn: AsyncConnection) -> None:
        """Before the handler, in its transaction: replay, refuse, or let it run."""
        await service.claim(conn, self.account_id, self.key, self.fingerprint)

    async def remember(
        self, conn: AsyncConnection, status: int, body: bytes, location: str | None = None
    ) -> None:
        """After a successful handler, in its transaction: store what is answered."""
        await service.remember(
            conn, self.account_id, self.key, self.fingerprint, status, body, location
        )


async def note_idempotency_key(request: Request[Any, Any, Any], account_id: str) -> None:
    """Note the request's Idempotency-Key (``400`` when malformed), scoped to ``account_id``,
    on its unit of work, which claims it before the handler runs. A route that writes
    nothing (``opt={"read_only": True}``) has nothing to replay and takes none."""
    if not request.route_handler.opt.get("read_only"):
        unit_of_work(request).idempotent = await read_idempotency_key(request, account_id)


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
