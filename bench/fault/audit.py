"""After the faults: is every acknowledged write there, is nothing half-done, do totals hold?

Read straight from PostgreSQL (what the service wrote) and through the API (what it says):

- every acknowledged purchase is owned by the account that bought it, with exactly one
  ``number.purchased`` event (acknowledged but not there is a *lost* write);
- every number put up for sale is either still for sale or owned with its event: never both,
  never neither, never owned without anyone having asked for it;
- ``number_totals`` (the totals the list answers from) and ``number_counts`` (the same by
  month) equal a scan of ``numbers``;
- the list's ``pagination.total`` equals a ``COUNT`` for each account, unfiltered and for
  each seed filter (``country``, ``status``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import asyncpg
import httpx

from bench.fault.load import LoadResult
from bench.fault.server import Tenant

STATUSES = ("active", "pending", "suspended", "released")
_MONTH = (
    "(extract(year from created_at at time zone 'UTC') * 100"
    " + extract(month from created_at at time zone 'UTC'))::int"
)


@dataclass
class Audit:
    """What the database and the API hold after a load, and everything wrong with it."""

    problems: list[str] = field(default_factory=list)
    lost: int = 0  # acknowledged purchases the database does not have
    owned: int = 0
    for_sale: int = 0
    done_unacknowledged: int = 0  # bought, but the buyer gave up before hearing so
    totals_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


async def audit(
    dsn: str,
    result: LoadResult,
    stocked: Iterable[str],
    *,
    base_url: str,
    tenants: Sequence[Tenant],
) -> Audit:
    """Check the database at ``dsn`` and the API at ``base_url`` after ``result``."""
    report = Audit()
    stocked = list(stocked)
    connection = await asyncpg.connect(dsn)
    try:
        await _check_numbers(connection, result, stocked, report)
        await _check_counts(connection, report)
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            for tenant in tenants:
                await _check_totals(connection, client, tenant, report)
    finally:
        await connection.close()
    return report


async def _check_numbers(
    connection: asyncpg.Connection, result: LoadResult, stocked: list[str], report: Audit
) -> None:
    owners = {
        row["e164"]: row["account_id"]
        for row in await connection.fetch(
            "SELECT e164, account_id FROM numbers WHERE e164 = ANY($1::text[])", stocked
        )
    }
    for_sale = {
        row["e164"]
        for row in await connection.fetch(
            "SELECT e164 FROM inventory_numbers WHERE e164 = ANY($1::text[])", stocked
        )
    }
    events: dict[str, dict[str, int]] = {}
    for row in await connection.fetch(
        "SELECT e164, account_id, count(*) AS n FROM events"
        " WHERE type = 'number.purchased' AND e164 = ANY($1::text[]) GROUP BY 1, 2",
        stocked,
    ):
        events.setdefault(row["e164"], {})[row["account_id"]] = row["n"]
    report.owned, report.for_sale = len(owners), len(for_sale)

    asked = {purchase.e164: purchase for purchase in result.purchases}
    for e164 in stocked:
        owner, bought = owners.get(e164), events.get(e164, {})
        if owner and e164 in for_sale:
            report.problems.append(f"{e164} is both for sale and owned")
        elif not owner and e164 not in for_sale:
            report.problems.append(f"{e164} is neither for sale nor owned")
        if owner and bought != {owner: 1}:
            report.problems.append(f"{e164} owned by {owner} with purchase events {bought}")
        if not owner and bought:
            report.problems.append(f"{e164} is not owned but has purchase events {bought}")
        purchase = asked.get(e164)
        if owner and purchase is None:
            report.problems.append(f"{e164} was bought though nobody asked for it")
        elif owner and purchase is not None and not purchase.acknowledged:
            report.done_unacknowledged += 1
    for purchase in result.acknowledged:
        if owners.get(purchase.e164) != purchase.tenant.account_id:
            report.lost += 1
            report.problems.append(
                f"LOST: {purchase.e164} was acknowledged to {purchase.tenant.account_id} "
                f"but is owned by {owners.get(purchase.e164)}"
            )


async def _check_counts(connection: asyncpg.Connection, report: Audit) -> None:
    kept = {
        tuple(row[:4]): row[4]
        for row in await connection.fetch(
            "SELECT account_id, country, status, month, sum(total) FROM number_counts"
            " GROUP BY 1, 2, 3, 4 HAVING sum(total) <> 0"
        )
    }
    scanned = {
        tuple(row[:4]): row[4]
        for row in await connection.fetch(
            f"SELECT account_id, country, status, {_MONTH}, count(*) FROM numbers"
            " GROUP BY 1, 2, 3, 4"
        )
    }
    if kept != scanned:
        differ = sorted(set(kept.items()) ^ set(scanned.items()))
        report.problems.append(f"number_counts differ from a scan of numbers: {differ[:10]}")
    totals = {
        tuple(row[:3]): row[3]
        for row in await connection.fetch(
            "SELECT account_id, country, status, sum(total) FROM number_totals"
            " GROUP BY 1, 2, 3 HAVING sum(total) <> 0"
        )
    }
    summed: dict[tuple[str, ...], int] = {}
    for (account_id, country, status, _), total in scanned.items():
        key = (account_id, country, status)
        summed[key] = summed.get(key, 0) + total
    if totals != summed:
        differ = sorted(set(totals.items()) ^ set(summed.items()))
        report.problems.append(f"number_totals differ from a scan of numbers: {differ[:10]}")


async def _check_totals(
    connection: asyncpg.Connection, client: httpx.AsyncClient, tenant: Tenant, report: Audit
) -> None:
    countries = [
        row["country"]
        for row in await connection.fetch("SELECT DISTINCT country FROM inventory_numbers")
    ]
    countries = sorted({*countries, "US", "GB"})
    queries: list[tuple[dict[str, str], str, list[object]]] = [
        ({}, "status <> 'released'", []),
        *(({"country": c}, "status <> 'released' AND country = $2", [c]) for c in countries),
        *(({"status": s}, "status = $2", [s]) for s in STATUSES),
    ]
    for params, where, args in queries:
        counted = await connection.fetchval(
            f"SELECT count(*) FROM numbers WHERE account_id = $1 AND {where}",
            tenant.account_id,
            *args,
        )
        response = await client.get(
            tenant.path("/numbers"), params={**params, "per_page": "1"}, headers=tenant.headers
        )
        report.totals_checked += 1
        if response.status_code != 200:
            report.problems.append(f"list {params} answered {response.status_code}")
            continue
        total = response.json()["pagination"]["total"]
        if total != counted:
            report.problems.append(
                f"{tenant.account_id} list {params or 'unfiltered'}: total {total}, COUNT {counted}"
            )
