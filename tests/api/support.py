"""What the HTTP tests share: running the app in process, asserting the error envelope,
buying a number, and reading what the database holds behind the API."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from litestar import Litestar
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy import func, select

from tests.factories import Tenant
from voxnumbers.app import create_app
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import api_keys, events, numbers
from voxnumbers.inventory import repository as inventory_repository
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.e164 import number_facts
from voxnumbers.numbers import repository as numbers_repository
from voxnumbers.numbers.schemas import NumberFilter
from voxnumbers.settings import Settings
from voxnumbers.vocabulary import to_mask

NUMBER_KEYS = [
    "e164",
    "country",
    "type",
    "region",
    "status",
    "capabilities",
    "monthly_fee",
    "setup_fee",
    "currency",
    "trunk_id",
    "application_id",
    "created_at",
    "updated_at",
]
AVAILABLE_KEYS = [
    "e164",
    "country",
    "type",
    "region",
    "capabilities",
    "monthly_fee",
    "setup_fee",
    "currency",
]
PAGINATION_KEYS = ["total", "count", "per_page", "current_page", "total_pages"]
ERROR_CODES = {
    400: "VALIDATION_FAILED",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    412: "PRECONDITION_FAILED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
# What must never appear in an error body: stack traces, SQL, exception and driver names.
LEAKS = re.compile(
    r"Traceback \(most recent call last\)|File \"|"
    r"\bSELECT\b.+\bFROM\b|\bINSERT INTO\b|\bDELETE FROM\b|\bUPDATE\b \S+ \bSET\b|"
    r"\b[A-Z]\w*(?:Error|Exception)\b|"
    r"(?i:sqlalchemy|asyncpg|aiosqlite|sqlite3|psycopg|litestar|msgspec)"
)


def state_per_request(app: ASGIApp) -> ASGIApp:
    """Give each request its own copy of the lifespan state, as ASGI servers do.

    asgi-lifespan hands every request the *same* ``scope["state"]`` dict; Litestar keeps
    per-request data there (parsed query, "response started", the caller), so without the
    copy one request's leftovers change the next one's answer."""

    async def copy_state(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan" and "state" in scope:
            scope = {**scope, "state": dict(scope["state"])}  # type: ignore[typeddict-item]
        await app(scope, receive, send)

    return copy_state


def app_on(database: Database, **settings: Any) -> Litestar:
    """The application on the test's database, with settings as the tests' ``app`` fixture
    has them unless overridden (quiet logs, no webhook worker)."""
    return create_app(
        Settings(**{"log_level": "warning", "run_worker": False, **settings}), database
    )


@contextlib.asynccontextmanager
async def running(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the app in process; the app's lifespan (startup, shutdown) wraps it.
    The app has served its OpenAPI description first, as a server in use has."""
    async with LifespanManager(state_per_request(app)) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            await serve_the_schema(http)
            yield http


async def serve_the_schema(http: httpx.AsyncClient) -> None:
    """Have the app build and serve ``/openapi.json``. Building it once changed the app's
    validation errors (a false ``account_id`` detail): every test of an answer runs after
    it, as it would on a server whose ``/docs`` someone has opened."""
    response = await http.get("/openapi.json")
    assert response.status_code == 200, response.text


def assert_error(
    response: httpx.Response, status: int, field: str | list[str] | None = None
) -> dict[str, Any]:
    """The response is exactly the error envelope of ``status``; when ``field`` is given,
    ``details`` name exactly that field (or those fields, in order), nothing else. Returns
    the ``error`` object."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"], body
    error = body["error"]
    assert set(error) <= {"code", "message", "details", "request_id"}, error
    assert {"code", "message", "request_id"} <= set(error), error
    assert error["code"] == ERROR_CODES[status]
    assert isinstance(error["message"], str) and error["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    assert error["request_id"] != "req_unknown"
    assert not LEAKS.search(response.text), response.text
    if "details" in error:
        assert error["details"], "details, when present, is not empty"
        for detail in error["details"]:
            assert list(detail) == ["field", "reason"], detail
            assert detail["field"] and detail["reason"]
    if field is not None:
        assert fields_of(error) == ([field] if isinstance(field, str) else field), error
    return error  # type: ignore[no-any-return]


def fields_of(error: dict[str, Any]) -> list[str]:
    return [detail["field"] for detail in error.get("details", [])]


def assert_page_shape(body: dict[str, Any], item_keys: list[str]) -> None:
    """``{data, pagination}`` with exactly the expected keys, in order."""
    assert list(body) == ["data", "pagination"]
    assert list(body["pagination"]) == PAGINATION_KEYS
    for item in body["data"]:
        assert list(item) == item_keys, item
    assert body["pagination"]["count"] == len(body["data"])


async def buy(
    client: httpx.AsyncClient, tenant: Tenant, e164: str, country: str | None = None
) -> httpx.Response:
    """``POST …/numbers/purchase-from-inventory`` as the tenant."""
    body = {"e164": e164, "country": country or number_facts(e164).country}
    return await client.post(
        tenant.path("/numbers/purchase-from-inventory"), json=body, headers=tenant.bearer
    )


async def bought(client: httpx.AsyncClient, tenant: Tenant, *e164s: str) -> list[dict[str, Any]]:
    """Buy each number, insisting every purchase succeeds; the numbers as answered."""
    answers = []
    for e164 in e164s:
        response = await buy(client, tenant, e164)
        assert response.status_code == 201, response.text
        answers.append(response.json())
    return answers


async def list_all(
    client: httpx.AsyncClient, tenant: Tenant, path: str = "/numbers", **params: Any
) -> list[dict[str, Any]]:
    """Every item of a paginated list, page after page (per_page 100)."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        response = await client.get(
            tenant.path(path),
            params={**params, "page": page, "per_page": 100},
            headers=tenant.bearer,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["data"])
        if page >= body["pagination"]["total_pages"]:
            return items
        page += 1


# --- what the database holds ---------------------------------------------------------------


async def own(
    database: Database,
    tenant: Tenant,
    e164: str,
    *,
    status: str = "active",
    created_at: datetime | None = None,
    available_after: datetime | None = None,
    **columns: Any,
) -> None:
    """Give the tenant a number directly (as if bought at ``created_at``), in any status:
    a ``released`` one cools off until ``available_after`` (default: in 30 days)."""
    facts = number_facts(e164)
    at = created_at or utc_now()
    row: dict[str, Any] = {column.name: None for column in numbers.columns if column.nullable}
    row.update(
        e164=e164,
        account_id=tenant.account_id,
        country=facts.country,
        type=facts.type or "local",
        region=facts.region,
        capabilities=to_mask(["voice", "sms"]),
        monthly_fee_cents=125,
        setup_fee_cents=0,
        needs_provisioning=False,
        status=status,
        created_at=at,
        updated_at=at,
    )
    if status == "released":
        row.update(
            released_at=at, available_after=available_after or utc_now() + timedelta(days=30)
        )
    row.update(columns)
    async with database.transaction() as conn:
        await numbers_repository.insert_numbers(conn, [row])


async def owners_of(database: Database, e164: str) -> list[str]:
    """Accounts holding a ``numbers`` row for this number (at most one, ever)."""
    async with database.transaction(write=False) as conn:
        rows = await conn.execute(select(numbers.c.account_id).where(numbers.c.e164 == e164))
        return [row.account_id for row in rows]


async def for_sale(database: Database, e164: str) -> bool:
    async with database.transaction(write=False) as conn:
        return await inventory_repository.is_for_sale(conn, e164)


async def counted_and_scanned(database: Database, account_id: str) -> tuple[int, int]:
    """The account's listed total as maintained in ``number_counts`` and as counted by
    scanning ``numbers``: the two must always agree."""
    where = NumberFilter()
    async with database.transaction(write=False) as conn:
        counted = await numbers_repository.count_numbers(conn, account_id, where)
        scanned = await numbers_repository.count_numbers_by_scanning(conn, account_id, where)
    return counted, scanned


async def event_count(database: Database, e164: str | None = None) -> int:
    async with database.transaction(write=False) as conn:
        query = select(func.count()).select_from(events)
        if e164 is not None:
            query = query.where(events.c.e164 == e164)
        return int((await conn.execute(query)).scalar_one())


async def key_last_used(database: Database, key_id: str) -> datetime | None:
    async with database.transaction(write=False) as conn:
        query = select(api_keys.c.last_used_at).where(api_keys.c.id == key_id)
        return (await conn.execute(query)).scalar_one()  # type: ignore[no-any-return]
