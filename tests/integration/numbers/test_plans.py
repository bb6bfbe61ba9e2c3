"""PostgreSQL runs the list's prepared statements on their generic plan: no request pays to
plan its statement again, whatever the account's size (a big account's rows made the
planner prefer a fresh plan every time, costing as much as running the statement)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.api.support import app_on, own, running
from tests.conftest import POSTGRES_ADMIN_URL
from tests.factories import US_NUMBERS, make_tenant
from voxnumbers.db.engine import Database

pytestmark = pytest.mark.skipif(
    not POSTGRES_ADMIN_URL, reason="plan caching is PostgreSQL's (CI=true runs it)"
)


@pytest.fixture
def backend() -> str:
    return "postgresql"


async def test_a_listed_page_is_never_planned_again(database_url: str) -> None:
    database = Database(database_url, pool_size=1)  # every request on the same session
    try:
        tenant = await make_tenant(database)
        for e164 in US_NUMBERS[:30]:
            await own(database, tenant, e164)
        async with running(app_on(database, rate_limit_per_minute=0)) as client:
            for query in ("", "?country=US", "?country=US&status=active&per_page=5"):
                for _ in range(8):
                    listed = await client.get(
                        tenant.path(f"/numbers{query}"), headers=tenant.bearer
                    )
                    assert listed.status_code == 200, listed.text
        async with database.transaction(write=False) as conn:
            plans = (
                await conn.execute(
                    text(
                        "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                        " WHERE statement LIKE 'SELECT numbers.e164%'"
                    )
                )
            ).all()
    finally:
        await database.dispose()
    assert len(plans) == 3, plans  # one statement per filter shape
    assert [(generic >= 8, custom) for generic, custom in plans] == [(True, 0)] * 3, plans
