"""Reference (d) (``bench/reference_direct.py``) answers the service's very bytes from the
statements reference (b) captures, on a small database of each engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
import pytest
from bench.common import Target
from bench.reference_direct import App, make_app
from bench.run import Scenario, ScenarioResult, direct_plan

from bench import dbref
from tests.api.support import own
from tests.factories import GB_NUMBERS, US_NUMBERS, make_tenant
from voxnumbers.app import create_app
from voxnumbers.db.engine import Database
from voxnumbers.settings import Settings

# (kind, query or the number's suffix): the shapes reference (d) answers
REQUESTS = [
    ("list", {"per_page": "100"}),
    ("list", {"per_page": "3"}),
    ("list", {"country": "US", "status": "active", "per_page": "2", "page": "2"}),
    ("list", {"per_page": "5", "page": "9"}),  # past the end: the total is counted alone
    ("list", {"status": "released", "per_page": "10"}),
    ("cursor", {"per_page": "3", "cursor": ""}),
    ("get", {}),
]


def _plain(url: str) -> str:
    return url.replace("sqlite+aiosqlite://", "sqlite://").replace(
        "postgresql+asyncpg://", "postgresql://"
    )


async def _service_answer(url: str, target: str, headers: dict[str, str]) -> httpx.Response:
    settings = Settings(database_url=url, run_worker=False, log_level="warning")
    database = Database(settings.resolved_database_url)
    try:
        transport = httpx.ASGITransport(app=create_app(settings, database))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            return await client.get(target, headers=headers)
    finally:
        await database.dispose()


async def _shut_down(app: App) -> None:
    """The lifespan's shutdown (closes reference (d)'s connections)."""
    messages = iter([{"type": "lifespan.shutdown"}])

    async def receive() -> dict[str, str]:
        return next(messages)

    async def send(_: dict[str, str]) -> None:
        return None

    await app({"type": "lifespan"}, receive, send)


@pytest.mark.parametrize(("kind", "query"), REQUESTS)
async def test_reference_d_answers_the_services_bytes(
    database: Database, database_url: str, backend: str, kind: str, query: dict[str, str]
) -> None:
    tenant = await make_tenant(database)
    start = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    for n, e164 in enumerate(US_NUMBERS[:4] + GB_NUMBERS[:3]):
        status = ("active", "suspended", "active", "pending")[n % 4]
        await own(database, tenant, e164, status=status, created_at=start + timedelta(hours=n))
    await own(database, tenant, US_NUMBERS[10], status="released", created_at=start)
    path = tenant.path("/numbers") + (f"/{US_NUMBERS[2]}" if kind == "get" else "")
    target = f"{path}?{urlencode(query)}" if query else path
    url = _plain(database_url)
    db_target = Target(backend, url)

    service = await _service_answer(url, target, tenant.bearer)
    status, statements = await dbref.capture(db_target, "GET", target, tenant.bearer)
    assert service.status_code == status == 200, service.text
    scenario = Scenario(key="s", title="s", role="big", kind=kind, query=query, target=target)
    headers = [(k.lower(), v) for k, v in service.headers.raw]
    plan = direct_plan(
        db_target,
        [ScenarioResult(scenario)],
        {"s": statements},
        {target: (200, headers, service.content)},
    )
    app = make_app(plan)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench"
        ) as client:
            answer = await client.get(target)
    finally:
        await _shut_down(app)

    assert answer.status_code == 200
    assert answer.content == service.content
    assert len(statements) >= 2  # the key's lookup, then the numbers
    if kind != "get":
        assert answer.json()["data"] or answer.json()["pagination"]["total"]


async def test_reference_d_answers_404_for_a_target_it_was_not_given(
    database_url: str, backend: str
) -> None:
    plan = direct_plan(Target(backend, _plain(database_url)), [], {}, {})
    app = make_app(plan)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench"
        ) as client:
            answer = await client.get("/v1/account/acc_x/numbers")
    finally:
        await _shut_down(app)
    assert answer.status_code == 404
