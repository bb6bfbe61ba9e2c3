"""Reference (d): the least code that answers the service's reads from the database.

A plain ASGI application (no framework) on the same Granian as the service, with the same
pinning, that answers each request target the harness gives it (``BENCH_DIRECT``: a pickle
of a ``Plan``) by running exactly the statements reference (b) captured for that request,
with their parameters, and encoding the rows with msgspec into the bytes the service
answers. The statements run with the driver the service uses: asyncpg through a pool of as
many connections as the service's (``db_pool_size``), or sqlite3 inline on the event loop
(as the service's SQLite connection runs a quick ``SELECT``); in a transaction where the
service's unit of work opens one for that route (SQLite: always, deferred; PostgreSQL: a
read-only repeatable-read snapshot for the get, none for the list, which declares
``snapshot: False``). The mapping from rows to JSON is written out for the shapes of the
benchmark's scenarios (a page, a page by cursor, one number).

What the service costs above this reference is its layers: the framework (routing,
parameters, dependency injection), the guards and middleware, SQLAlchemy, our code.

    BENCH_DIRECT=bench/out/direct-sqlite.pickle \\
        granian --interface asgi --factory bench.reference_direct:app_from_environment
"""

from __future__ import annotations

import asyncio
import os
import pickle
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import asyncpg
import msgspec

from bench.reference_asgi import Receive, Scope, Send
from voxnumbers.kit.cursor import encode_cursor

App = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class Route:
    """What answers one request target."""

    shape: str  # "page", "cursor" or "number"
    statements: list[tuple[str, Any]]  # as captured for reference (b)
    snapshot: bool  # PostgreSQL: read in a read-only snapshot (else no transaction)
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)  # the service's
    fingerprint: str = ""  # a cursor page's: what its next cursor is valid for
    cursor_page: int = 1  # a cursor page's number


@dataclass
class Plan:
    kind: str  # "sqlite" or "postgresql"
    url: str  # the plain URL, as ``VOX_DATABASE_URL`` takes it
    pool_size: int
    routes: dict[str, Route]  # by "/path?query"


# -- the JSON --------------------------------------------------------------------------


class NumberOut(msgspec.Struct):
    """The API's number object: its keys in its order."""

    e164: str
    country: str
    type: str
    region: str
    status: str
    capabilities: list[str]
    monthly_fee: Decimal
    setup_fee: Decimal
    currency: str
    trunk_id: str | None
    application_id: str | None
    created_at: datetime
    updated_at: datetime


class ReleasedOut(NumberOut):
    released_at: datetime
    available_after: datetime


class PaginationOut(msgspec.Struct):
    total: int
    count: int
    per_page: int
    current_page: int
    total_pages: int
    next_cursor: str | msgspec.UnsetType | None = msgspec.UNSET


class PageOut(msgspec.Struct):
    data: list[NumberOut]
    pagination: PaginationOut


ENCODER = msgspec.json.Encoder(decimal_format="number")
CAPABILITIES = [
    [name for bit, name in ((1, "voice"), (2, "sms"), (4, "mms")) if mask & bit]
    for mask in range(8)
]
_FEES: dict[int, Decimal] = {}


def _fee(cents: int) -> Decimal:
    fee = _FEES.get(cents)
    if fee is None:
        fee = _FEES[cents] = Decimal(cents).scaleb(-2)
    return fee


def _unix(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _same(value: Any) -> Any:
    return value


def number_of(row: Sequence[Any], moment: Callable[[Any], Any]) -> NumberOut:
    """A number object from a row of the numbers' 14 columns (and the total, on a page)."""
    status = row[4]
    fields = (
        row[0],
        row[1],
        row[2],
        row[3],
        status,
        CAPABILITIES[row[5]],
        _fee(row[6]),
        _fee(row[7]),
        "USD",
        row[8],
        row[9],
        moment(row[10]),
        moment(row[11]),
    )
    if status == "released" and row[12] is not None and row[13] is not None:
        return ReleasedOut(*fields, moment(row[12]), moment(row[13]))
    return NumberOut(*fields)


def body_of(
    route: Route, query: str, rows: Sequence[Sequence[Any]], moment: Callable[[Any], Any]
) -> bytes:
    """The response body from the rows of the route's last statement."""
    if route.shape == "number":
        return ENCODER.encode(number_of(rows[0], moment))
    params = dict(parse_qsl(query))
    per_page = int(params.get("per_page", 20))
    if rows and len(rows[0]) == 1:  # past the end: the last statement counted the filter
        total, rows = int(rows[0][0]), []
    else:
        total = int(rows[0][-1]) if rows else 0
    next_cursor: str | msgspec.UnsetType | None = msgspec.UNSET
    if route.shape == "cursor":
        page = route.cursor_page
        more, rows = len(rows) > per_page, rows[:per_page]
        next_cursor = None
        if more:
            last = number_of(rows[-1], moment)
            next_cursor = encode_cursor(
                {
                    "f": route.fingerprint,
                    "p": page + 1,
                    "v": last.created_at.isoformat(),
                    "e": last.e164,
                }
            )
    else:
        page = int(params.get("page", 1))
    items = [number_of(row, moment) for row in rows]
    pagination = PaginationOut(
        total=total,
        count=len(items),
        per_page=per_page,
        current_page=page,
        total_pages=-(-total // per_page),
        next_cursor=next_cursor,
    )
    return ENCODER.encode(PageOut(items, pagination))


# -- the database ----------------------------------------------------------------------


class SqliteRunner:
    """The statements on one sqlite3 connection, inline: nothing awaits between ``BEGIN``
    and ``COMMIT``, so no other request can come between them."""

    moment = staticmethod(_unix)

    def __init__(self, url: str) -> None:
        self.conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
            self.conn.execute(f"PRAGMA {pragma}")

    async def rows(self, route: Route) -> list[Any]:
        conn = self.conn
        conn.execute("BEGIN")
        try:
            for statement, parameters in route.statements:
                rows = conn.execute(statement, parameters or ()).fetchall()
        finally:
            conn.execute("COMMIT")
        return rows

    async def close(self) -> None:
        self.conn.close()


class PostgresRunner:
    """The statements on a connection of a pool of at most ``size`` asyncpg connections,
    opened on demand (as SQLAlchemy's pool opens them) with the service's settings:
    generic plans, its statement timeout."""

    moment = staticmethod(_same)  # asyncpg reads timestamptz as aware UTC datetimes
    settings = {
        "application_name": "bench-direct",
        "statement_timeout": "10000",
        "DateStyle": "ISO",
        "plan_cache_mode": "force_generic_plan",
    }

    def __init__(self, url: str, size: int) -> None:
        self.url, self.size, self.opened = url, size, 0
        self.idle: asyncio.LifoQueue[asyncpg.Connection] = asyncio.LifoQueue()

    async def _connection(self) -> asyncpg.Connection:
        if self.idle.empty() and self.opened < self.size:
            self.opened += 1
            return await asyncpg.connect(self.url, server_settings=self.settings)
        return await self.idle.get()

    async def rows(self, route: Route) -> list[Any]:
        conn = await self._connection()
        try:
            if route.snapshot:
                async with conn.transaction(isolation="repeatable_read", readonly=True):
                    return await self._run(conn, route)
            return await self._run(conn, route)
        finally:
            self.idle.put_nowait(conn)

    @staticmethod
    async def _run(conn: asyncpg.Connection, route: Route) -> list[Any]:
        rows: list[Any] = []
        for statement, parameters in route.statements:
            rows = await conn.fetch(statement, *(parameters or ()))
        return rows

    async def close(self) -> None:
        while not self.idle.empty():
            await self.idle.get_nowait().close()


def make_app(plan: Plan) -> App:
    """The ASGI application answering the plan's routes (404 for any other target)."""
    runner: SqliteRunner | PostgresRunner = (
        SqliteRunner(plan.url)
        if plan.kind == "sqlite"
        else PostgresRunner(plan.url, plan.pool_size)
    )
    routes = plan.routes

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.shutdown":
                    await runner.close()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        if scope["type"] != "http":
            return
        more = True
        while more:  # read the body, as the service does
            more = (await receive()).get("more_body", False)
        query = scope["query_string"].decode("latin-1")
        route = routes.get(scope["path"] + ("?" + query if query else ""))
        if route is None:
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        body = body_of(route, query, await runner.rows(route), runner.moment)
        headers = [*route.headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def app_from_environment() -> App:
    """Factory for Granian: the plan comes from the pickle named by ``BENCH_DIRECT``."""
    plan: Plan = pickle.loads(Path(os.environ["BENCH_DIRECT"]).read_bytes())
    return make_app(plan)
