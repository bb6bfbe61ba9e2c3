"""Deep pages start at their month (from number_counts) and still return exactly the rows
a plain OFFSET would, on both databases."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from tests.factories import make_tenant
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import number_counts, numbers
from voxnumbers.numbers import repository, service

PREFIXES = {"US": "+1415", "GB": "+44207", "DE": "+4930"}


def owned_rows(account_id: str, count: int, seed: int = 7, first: int = 0) -> list[dict]:
    """``count`` numbers bought over about seven months, in several statuses and countries,
    many sharing a purchase time (so e164 decides their order)."""
    rng = random.Random(seed)
    start = datetime(2025, 11, 20, tzinfo=UTC)
    rows = []
    for i in range(first, first + count):
        country = rng.choice(list(PREFIXES))
        created = start + timedelta(seconds=rng.randrange(0, 200 * 86400) // 600 * 600)
        rows.append(
            {
                "e164": f"{PREFIXES[country]}{i:07d}",
                "account_id": account_id,
                "country": country,
                "type": "local",
                "region": "",
                "capabilities": 1,
                "monthly_fee_cents": 100,
                "setup_fee_cents": 0,
                "needs_provisioning": False,
                "status": rng.choice(["active"] * 6 + ["pending", "suspended", "released"]),
                "trunk_id": None,
                "application_id": None,
                "created_at": created,
                "updated_at": created,
                "released_at": None,
                "available_after": created + timedelta(days=3650),
                "previous_trunk_id": None,
                "previous_application_id": None,
            }
        )
    return rows


async def test_every_page_matches_a_plain_scan(database: Database) -> None:
    tenant = await make_tenant(database)
    rows = owned_rows(tenant.account_id, 3000)
    async with database.transaction() as conn:
        await repository.insert_numbers(conn, rows)
    for country, status in [(None, None), ("US", None), (None, "active"), ("GB", "suspended")]:
        expected = sorted(
            (
                r
                for r in rows
                if (country is None or r["country"] == country)
                and (r["status"] == status if status else r["status"] != "released")
            ),
            key=lambda r: (r["created_at"], r["e164"]),
        )
        per_page = 100
        async with database.transaction(write=False) as conn:
            for page in range(1, len(expected) // per_page + 2):
                got = await service.list_numbers(
                    conn,
                    tenant.account_id,
                    service.ListFilters(country=country, status=status),
                    page=page,
                    per_page=per_page,
                )
                want = expected[(page - 1) * per_page : page * per_page]
                assert [n.e164 for n in got.data] == [r["e164"] for r in want], (country, page)
                assert got.pagination.total == len(expected)


async def test_counts_are_kept_by_month_of_purchase(database: Database) -> None:
    tenant = await make_tenant(database)
    rows = owned_rows(tenant.account_id, 500)
    async with database.transaction() as conn:
        await repository.insert_numbers(conn, rows)
    async with database.transaction(write=False) as conn:
        buckets = (
            await conn.execute(
                select(func.count())
                .select_from(number_counts)
                .where(number_counts.c.account_id == tenant.account_id)
            )
        ).scalar_one()
        total = (await conn.execute(select(func.sum(number_counts.c.total)))).scalar_one()
        scanned = (await conn.execute(select(func.count()).select_from(numbers))).scalar_one()
    assert total == scanned == 500
    assert buckets > 12  # months x countries x statuses
