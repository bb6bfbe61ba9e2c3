"""Rules of idempotency keys (API.md §7).

The first successful response to a POST or DELETE with an ``Idempotency-Key`` is stored in
the same transaction as its side effect and replayed for 24 hours. The same key with another
request, or while the first is still running, is ``409`` on field ``Idempotency-Key``.
Failed requests store nothing (their transaction rolled back), so retrying them is safe.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.errors import Conflict, FieldProblem, ValidationFailed
from voxnumbers.idempotency import repository
from voxnumbers.idempotency.schemas import StoredResponse
from voxnumbers.kit.clock import utc_now

HEADER = "Idempotency-Key"
REPLAY_WINDOW = timedelta(hours=24)
_MAX_KEY_LENGTH = 255


class Replay(Exception):
    """A stored response answers this request instead of the handler."""

    def __init__(self, stored: StoredResponse) -> None:
        self.stored = stored
        super().__init__("replay of a stored response")


def validated_key(raw: str) -> str:
    """The key as given, or ``400`` on field ``Idempotency-Key``."""
    key = raw.strip()
    if not 1 <= len(key) <= _MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ValidationFailed.on(
            HEADER, f"must be 1 to {_MAX_KEY_LENGTH} printable ASCII characters"
        )
    return key


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """What makes two requests "the same request" for a key."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


async def claim(conn: AsyncConnection, account_id: str, key: str, request_fingerprint: str) -> None:
    """Before the handler runs: raise ``Replay`` with the stored response, ``409`` for a key
    in use or used differently, or return to let the request run under this key."""
    if not await repository.try_lock(conn, account_id, key):
        raise _conflict("is being used by a request that is still running")
    stored = await repository.find(conn, account_id, key)
    if stored is None:
        return
    if stored.expires_at <= utc_now():
        await repository.forget(conn, account_id, key)
        return
    if stored.fingerprint != request_fingerprint:
        raise _conflict("was already used with a different request")
    raise Replay(stored)


async def remember(
    conn: AsyncConnection,
    account_id: str,
    key: str,
    request_fingerprint: str,
    status: int,
    body: bytes,
    location: str | None = None,
) -> None:
    """After the handler succeeded, in its transaction: store the response (and its
    ``Location``, replayed with it)."""
    now = utc_now()
    await repository.insert(
        conn,
        StoredResponse(
            account_id=account_id,
            key=key,
            fingerprint=request_fingerprint,
            response_status=status,
            response_body=body,
            created_at=now,
            expires_at=now + REPLAY_WINDOW,
            response_location=location,
        ),
    )


async def forget_expired(conn: AsyncConnection) -> int:
    """Drop responses past the replay window (run periodically)."""
    return await repository.forget_expired(conn, utc_now())


def _conflict(reason: str) -> Conflict:
    return Conflict(f"This {HEADER} {reason}.", [FieldProblem(HEADER, reason)])
