"""A ``/v1`` request's transaction, owned by one component from its start to its end.

``UnitOfWork`` is the transaction; ``TransactionMiddleware`` runs the request around it:

1. The first use opens it: the authentication guard looks the key up in it
   (``first_statement``, which starts again once on a new connection when the pooled one
   turns out to be dead). Safe methods read in a read-only snapshot (or, for handlers that
   declare ``opt={"snapshot": False}``, without a transaction on PostgreSQL); the others
   write (on SQLite, ``BEGIN IMMEDIATE``).
2. ``provide_transaction`` hands the connection to the handler, after claiming the
   request's Idempotency-Key in it (a stored response is replayed instead). If the handler
   raises, the transaction is rolled back at once.
3. When the response starts, the middleware ends the transaction: a successful response
   (status below 400, handler done) commits, after storing the response of a request with
   an Idempotency-Key in the same transaction; anything else rolls back. Only then does the
   response leave: a client never sees success for a change that was not committed (a
   commit that fails is answered ``503``). A streamed response (the export) reads in the
   transaction, which ends once the stream does: its source (``UnitOfWork.streaming``) is
   closed first, whether the last byte was sent or the client left halfway.
4. When the database gave up on the transaction for a deadlock, a serialization failure or
   a busy SQLite lock (``db.errors.is_retryable``), nothing of it was committed and nothing was
   sent: the middleware runs the whole request again, on a fresh scope, the request body
   replayed, after a short random pause (``db.engine.RetryPolicy``). A request that still
   cannot finish is answered ``503`` with ``Retry-After`` (``web.envelope``).

Nothing else begins, commits or rolls back a request's transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any, Protocol, TypeVar, cast

import anyio
import structlog
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import CONNECTION_STATE_KEY, ScopeState
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.db.engine import DEFAULT_RETRY, Database, RetryPolicy
from voxnumbers.db.errors import DatabaseUnavailable, is_connection_lost, is_retryable
from voxnumbers.errors import ServiceUnavailable
from voxnumbers.kit.actors import SYSTEM, acting_as
from voxnumbers.web.asgi import HttpMiddleware
from voxnumbers.web.envelope import error_messages
from voxnumbers.web.requestid import request_id_of

T = TypeVar("T")
_STATE = "unit_of_work"
_ATTEMPT = "unit_of_work_attempt"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

log = structlog.get_logger("voxnumbers.unitofwork")


class KeptAnswer(Protocol):
    """A request whose answer is kept under a key (an ``Idempotency-Key``): the key is
    claimed in the transaction before the handler runs (raising to answer or refuse
    instead), and a success is stored in it before the commit."""

    async def claim(self, conn: AsyncConnection) -> None: ...

    async def remember(
        self, conn: AsyncConnection, status: int, body: bytes, location: str | None = None
    ) -> None: ...


class UnitOfWork:
    """A request's transaction, opened on first use and closed exactly once."""

    def __init__(self, database: Database, *, write: bool, snapshot: bool = True) -> None:
        self._database = database
        self._write = write
        self._snapshot = snapshot
        self._stack: AsyncExitStack | None = None
        self._conn: AsyncConnection | None = None
        self.idempotent: KeptAnswer | None = None
        self.failure: BaseException | None = None
        self._streams: list[AsyncGenerator[Any, None]] = []

    @property
    def retryable(self) -> bool:
        """Whether the work failed in a way that running it again can cure."""
        return self.failure is not None and is_retryable(self.failure)

    async def connection(self) -> AsyncConnection:
        """The transaction's connection (``DatabaseUnavailable`` if it cannot start)."""
        if self._conn is None:
            stack = AsyncExitStack()
            try:
                self._conn = await stack.enter_async_context(
                    self._database.transaction(write=self._write, snapshot=self._snapshot)
                )
            except BaseException as exc:
                self.failure = exc
                raise
            self._stack = stack
        return self._conn

    def streaming(self, source: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
        """``source``, which reads in this transaction while a response streams it, closed
        by the unit before the transaction ends, however the response ended (the framework
        leaves a stream whose client left suspended, for the garbage collector to close
        later, in a task of its own, after the transaction)."""
        self._streams.append(source)
        return source

    async def _close_streams(self) -> None:
        """Close what ``streaming`` was given (nothing runs in the transaction afterwards);
        not cancellable halfway."""
        streams, self._streams = self._streams, []
        with anyio.CancelScope(shield=True):
            for stream in streams:
                await stream.aclose()

    async def first_statement(self, run: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """``run`` as the unit's first statement. If the pooled connection turns out to be
        dead (the server restarted since it was last used), start again once on a new one:
        this is what spares every checkout a round trip to test the connection."""
        try:
            return await run(await self.connection())
        except (DBAPIError, DatabaseUnavailable) as exc:
            if not is_connection_lost(exc):
                await self.rollback(exc)
                raise
            await self.rollback(exc)
        self.failure = None
        try:
            return await run(await self.connection())
        except BaseException as exc:
            await self.rollback(exc)
            raise

    async def handler_connection(self) -> AsyncConnection:
        """The connection for the handler, once the request's Idempotency-Key (if any) is
        claimed in it: ``Replay`` when a stored response answers instead, ``409`` when the
        key is in use or was used for another request."""
        conn = await self.connection()
        if self.idempotent is not None:
            await self.idempotent.claim(conn)
        return conn

    async def finish(
        self, status: int, body: bytes | None = None, location: str | None = None
    ) -> None:
        """End the transaction as the response with this status (and, for a request with an
        Idempotency-Key, this body and ``Location``) says: commit a success, roll back
        anything else.
        ``DatabaseUnavailable`` (or the driver's error) when the commit fails."""
        if self._stack is None:
            return
        if self.failure is not None or status >= 400:
            await self.rollback()
            return
        await self._close_streams()
        if body is not None and self.idempotent is not None and self._conn is not None:
            try:
                await self.idempotent.remember(self._conn, status, body, location)
            except BaseException as exc:
                await self.rollback(exc)
                raise
        stack, self._stack, self._conn = self._stack, None, None
        try:
            await stack.aclose()
        except BaseException as exc:
            self.failure = exc
            raise

    async def rollback(self, error: BaseException | None = None) -> None:
        """Roll back, because of ``error`` when there is one (never raises it again)."""
        if error is not None and self.failure is None:
            self.failure = error
        if self._stack is None:
            return
        try:
            await self._close_streams()
        except Exception as raised:
            log.warning("closing a stream failed", error=_error_name(raised))
            error = error or raised
        stack, self._stack, self._conn = self._stack, None, None
        if stack is None:
            return
        error = error or _Abandoned()
        try:
            await stack.__aexit__(type(error), error, error.__traceback__)
        except BaseException as raised:
            if raised is not error:
                raise


class _Abandoned(Exception):
    """The request ended before its transaction could commit."""


def unit_of_work(connection: ASGIConnection[Any, Any, Any, Any]) -> UnitOfWork:
    """The request's unit of work (created by ``TransactionMiddleware``)."""
    unit: UnitOfWork = connection.scope["state"][_STATE]
    return unit


def is_retry(scope: Scope) -> bool:
    """Whether this run of the request is a retry (its first run was already counted)."""
    attempt: int = scope["state"].get(_ATTEMPT, 1)
    return attempt > 1


async def provide_transaction(request: Request[Any, Any, Any]) -> AsyncIterator[AsyncConnection]:
    """The handler's ``conn``: the request's transaction, rolled back at once if the handler
    raises (the middleware commits a success when the response starts)."""
    unit = unit_of_work(request)
    try:
        yield await unit.handler_connection()
    except BaseException as exc:
        await unit.rollback(exc)
        raise


class TransactionMiddleware(HttpMiddleware):
    """Runs each ``/v1`` request in its ``UnitOfWork``, ends that transaction before the
    response leaves, and runs the request again when the database gave up on it."""

    def __init__(self, app: ASGIApp, retry: RetryPolicy = DEFAULT_RETRY) -> None:
        super().__init__(app)
        self.retry = retry

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method", "GET")
        handler = scope.get("route_handler")
        # ``opt={"read_only": True}``: a POST that changes nothing here (a webhook test,
        # whose outbound call must not hold the write lock).
        write = method not in SAFE_METHODS and not (handler and handler.opt.get("read_only"))
        snapshot = handler is None or handler.opt.get("snapshot", True)
        # A read whose answer streams from its transaction: ended once the stream is.
        streams = handler is not None and handler.opt.get("stream_in_transaction", False)
        body = _ReplayableBody(receive) if write else None
        with acting_as(SYSTEM):  # the guard says who acts; nothing of it outlives the request
            await self._run(scope, receive, send, body, write, snapshot, streams)

    async def _run(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        body: _ReplayableBody | None,
        write: bool,
        snapshot: bool,
        streams: bool,
    ) -> None:
        database: Database = scope["litestar_app"].state.database
        initial_state = dict(scope["state"])
        exception_handlers = ScopeState.from_scope(scope).exception_handlers
        for attempt in range(1, self.retry.attempts + 1):
            if attempt > 1:
                await asyncio.sleep(self.retry.pause(attempt - 1))
                scope = _fresh_scope(scope, initial_state, exception_handlers, attempt)
            unit = scope["state"][_STATE] = UnitOfWork(database, write=write, snapshot=snapshot)
            last = attempt == self.retry.attempts
            response = _Response(
                unit, send, scope, retry_allowed=not last, streams=streams and not write
            )
            try:
                await self.app(scope, body.receive() if body else receive, response.send)
            finally:
                await _abandon(unit, scope)
            if not response.retrying:
                return
            log.info(
                "transaction retried",
                request_id=request_id_of(scope),
                attempt=attempt,
                error=_error_name(unit.failure),
            )


class _Response:
    """What one run of a request sends: held until its transaction has ended as it must."""

    def __init__(
        self, unit: UnitOfWork, send: Send, scope: Scope, *, retry_allowed: bool, streams: bool
    ) -> None:
        self.unit = unit
        self._send = send
        self._scope = scope
        self._retry_allowed = retry_allowed
        self.retrying = False
        self._discarding = False  # what the handler sends after a failed commit
        self._start: Any = None  # the held http.response.start message
        self._chunks: list[bytes] = []
        self._passing = False
        self._streams = streams

    async def send(self, message: Message) -> None:
        if self.retrying or self._discarding:
            return
        if self._passing:
            await self._send(message)
            return
        if message["type"] == "http.response.start":
            if self._retry_allowed and self.unit.retryable:
                self.retrying = True
                return
            if self._streams and message["status"] < 400:
                self._passing = True  # the middleware ends the transaction after the stream
                await self._send(message)
                return
            self._start = message
            if self.unit.idempotent is None or not 200 <= message["status"] < 300:
                await self._end(None)
            return
        if message["type"] == "http.response.body" and self._start is not None:
            self._chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await self._end(b"".join(self._chunks))

    async def _end(self, body: bytes | None) -> None:
        """End the transaction, then send what is held (or the failure of the commit)."""
        assert self._start is not None
        try:
            await self.unit.finish(self._start["status"], body, _location(self._start))
        except Exception as exc:
            if self._retry_allowed and is_retryable(exc):
                self.retrying = True
                return
            log.warning(
                "commit failed", request_id=request_id_of(self._scope), error=_error_name(exc)
            )
            for message in error_messages(
                ServiceUnavailable(headers={"Retry-After": "1"}), request_id_of(self._scope)
            ):
                await self._send(message)
            self._discarding = True
            return
        self._passing = True
        await self._send(self._start)
        if body is not None:
            await self._send({"type": "http.response.body", "body": body, "more_body": False})
        self._chunks = []


class _ReplayableBody:
    """The request body as read from the client, kept so that a retry reads it again."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._messages: list[Any] = []
        self._complete = False

    def receive(self) -> Receive:
        """A ``receive`` for one run: what earlier runs read, then the client's."""
        position = 0

        async def receive() -> Any:
            nonlocal position
            if position < len(self._messages):
                position += 1
                return self._messages[position - 1]
            message = await self._receive()
            if message["type"] == "http.request" and not self._complete:
                self._messages.append(message)
                position += 1
                self._complete = not message.get("more_body", False)
            return message

        return receive


async def _abandon(unit: UnitOfWork, scope: Scope) -> None:
    """Roll back what the request left open (it ended without a response, or the client went
    away); a failure to do so only loses the connection, and is logged."""
    try:
        await unit.rollback()
    except Exception:
        log.warning("rollback failed", request_id=request_id_of(scope), exc_info=True)


def _fresh_scope(
    scope: Scope, initial_state: dict[str, Any], exception_handlers: Any, attempt: int
) -> Scope:
    """The scope of a retry: the request as it arrived, nothing of the runs before it."""
    state = {key: value for key, value in initial_state.items() if key != CONNECTION_STATE_KEY}
    state[_ATTEMPT] = attempt
    fresh = cast("Scope", {**scope, "state": state})
    ScopeState.from_scope(fresh).exception_handlers = exception_handlers
    return fresh


def _location(start: Message) -> str | None:
    """The ``Location`` header of a response's start message, if it has one."""
    headers: Any = start.get("headers", ())
    for name, value in headers:
        if name.lower() == b"location":
            return bytes(value).decode("latin-1")
    return None


def _error_name(error: BaseException | None) -> str | None:
    if error is None:
        return None
    cause = error.__cause__ if isinstance(error, DatabaseUnavailable) else None
    orig = getattr(cause or error, "orig", None)
    return type(orig or cause or error).__name__
