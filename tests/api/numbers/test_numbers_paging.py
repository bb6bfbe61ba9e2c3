"""Sorting, cursor paging and the extended filters of the list (API.md §3.1 [ext])."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from tests.factories import Tenant, make_tenant
from tests.integration.numbers.test_deep_pages import owned_rows
from voxnumbers.db.engine import Database
from voxnumbers.numbers import repository


async def _stock_owned(database: Database, tenant: Tenant, count: int) -> list[dict]:
    rows = owned_rows(tenant.account_id, count)
    async with database.transaction() as conn:
        await repository.insert_numbers(conn, rows)
    return rows


async def _walk(client: httpx.AsyncClient, tenant: Tenant, query: str) -> tuple[list[str], list]:
    """Every page by cursor; returns the numbers and the pagination blocks."""
    seen, blocks, cursor = [], [], ""
    while cursor is not None:
        r = await client.get(
            tenant.path(f"/numbers?{query}&cursor={cursor}"), headers=tenant.bearer
        )
        assert r.status_code == 200, r.text
        body = r.json()
        seen += [n["e164"] for n in body["data"]]
        blocks.append(body["pagination"])
        cursor = body["pagination"]["next_cursor"]
    return seen, blocks


def _listed(rows: list[dict], key: str = "created_at", reverse: bool = False) -> list[str]:
    shown = [r for r in rows if r["status"] != "released"]
    shown.sort(key=lambda r: (r[key], r["e164"]), reverse=reverse)
    return [r["e164"] for r in shown]


@pytest.mark.parametrize("sort", ["created_at", "-created_at", "e164", "-e164", "updated_at"])
async def test_every_sort_is_a_total_order_by_page_number(client, database, sort):
    tenant = await make_tenant(database)
    rows = await _stock_owned(database, tenant, 230)
    got = []
    for page in range(1, 5):
        r = await client.get(
            tenant.path(f"/numbers?sort={sort}&per_page=60&page={page}"), headers=tenant.bearer
        )
        got += [n["e164"] for n in r.json()["data"]]
    assert got == _listed(rows, sort.lstrip("-"), reverse=sort.startswith("-"))


@pytest.mark.parametrize("sort", ["created_at", "-created_at", "e164", "-updated_at"])
async def test_a_cursor_walk_returns_every_row_once_in_order(client, database, sort):
    tenant = await make_tenant(database)
    rows = await _stock_owned(database, tenant, 230)
    seen, blocks = await _walk(client, tenant, f"sort={sort}&per_page=50")
    assert seen == _listed(rows, sort.lstrip("-"), reverse=sort.startswith("-"))
    pages = -(-len(seen) // 50)
    assert [b["current_page"] for b in blocks] == list(range(1, pages + 1))
    assert {b["total"] for b in blocks} == {len(seen)}
    assert {b["total_pages"] for b in blocks} == {pages}
    assert blocks[-1]["next_cursor"] is None
    assert all(b["next_cursor"] for b in blocks[:-1])


async def test_seed_requests_never_show_next_cursor(client, database):
    tenant = await make_tenant(database)
    await _stock_owned(database, tenant, 30)
    body = (await client.get(tenant.path("/numbers"), headers=tenant.bearer)).json()
    assert "next_cursor" not in body["pagination"]


async def test_cursor_paging_is_stable_while_numbers_are_bought_and_released(client, database):
    """Rows present for the whole walk appear exactly once, whatever changes meanwhile."""
    tenant = await make_tenant(database)
    rows = await _stock_owned(database, tenant, 300)
    listed = _listed(rows)
    stable = set(listed[::2])  # never touched below
    churn = [e for e in listed if e not in stable]

    async def writes() -> None:
        for e164 in churn[:40]:  # releases of rows before and after the walk's position
            await client.delete(tenant.path(f"/numbers/{e164}"), headers=tenant.bearer)
            await asyncio.sleep(0)

    walk, _ = await asyncio.gather(_walk(client, tenant, "per_page=20"), writes())
    seen = walk[0]
    assert len(seen) == len(set(seen)), "a row was repeated"
    assert stable <= set(seen), "a row present all along was skipped"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=e30", "cursor"),
        ("page=2&cursor=", "page"),
        ("sort=country", "sort"),
        ("created_after=yesterday", "created_after"),
        ("contains=12a", "contains"),
        ("capability=fax", "capability"),
    ],
)
async def test_bad_paging_and_filters_are_refused(client, database, query, field):
    tenant = await make_tenant(database)
    r = await client.get(tenant.path(f"/numbers?{query}"), headers=tenant.bearer)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["details"][0]["field"] == field


async def test_a_cursor_is_refused_with_other_filters(client, database):
    tenant = await make_tenant(database)
    await _stock_owned(database, tenant, 60)
    first = (
        await client.get(tenant.path("/numbers?cursor=&per_page=10"), headers=tenant.bearer)
    ).json()
    cursor = first["pagination"]["next_cursor"]
    r = await client.get(
        tenant.path(f"/numbers?cursor={cursor}&per_page=10&country=US"), headers=tenant.bearer
    )
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "cursor"


async def test_extended_filters(client, database):
    tenant = await make_tenant(database)
    rows = await _stock_owned(database, tenant, 90)
    shown = [r for r in rows if r["status"] != "released"]

    async def listed(query: str) -> list[str]:
        r = await client.get(
            tenant.path(f"/numbers?per_page=100&sort=e164&{query}"), headers=tenant.bearer
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["pagination"]["total"] == len(body["data"])
        return [n["e164"] for n in body["data"]]

    middle = sorted(r["created_at"] for r in shown)[len(shown) // 2]
    stamp = middle.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert await listed(f"created_after={stamp}") == sorted(
        r["e164"] for r in shown if r["created_at"] > middle
    )
    assert await listed(f"created_before={stamp}") == sorted(
        r["e164"] for r in shown if r["created_at"] < middle
    )
    since = (middle + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")  # no offset: UTC
    assert await listed(f"updated_since={since}") == sorted(
        r["e164"] for r in shown if r["updated_at"] >= middle + timedelta(days=1)
    )
    assert await listed("contains=4415") == sorted(r["e164"] for r in shown if "4415" in r["e164"])
    assert await listed("type=local&capability=voice") == sorted(r["e164"] for r in shown)
    assert await listed("capability=sms") == []
