"""Building blocks for tests: accounts with keys, inventory entries, owned numbers.

They go through the services (never raw SQL), so what they create is what the API would.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, select

from voxnumbers.accounts import service as accounts
from voxnumbers.db.engine import Database
from voxnumbers.inventory import service as inventory
from voxnumbers.inventory.schemas import InventoryEntry
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.e164 import number_facts
from voxnumbers.vocabulary import to_mask


@dataclass(frozen=True)
class Tenant:
    """An account and a working key for it."""

    account_id: str
    key: str
    key_id: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    @property
    def basic(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.account_id}:{self.key}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def path(self, suffix: str = "") -> str:
        return f"/v1/account/{self.account_id}{suffix}"


async def make_tenant(database: Database, name: str = "Acme", *, test: bool = False) -> Tenant:
    async with database.transaction() as conn:
        account = await accounts.create_account(conn, name)
        issued = await accounts.issue_key(conn, account.id, test=test)
    return Tenant(account_id=account.id, key=issued.secret, key_id=issued.key.id)


async def add_test_key(database: Database, tenant: Tenant) -> Tenant:
    """A test key of the tenant's account (``spec/API.md`` §10): same account id, test world."""
    async with database.transaction() as conn:
        issued = await accounts.issue_key(conn, tenant.account_id, test=True)
    return Tenant(account_id=tenant.account_id, key=issued.secret, key_id=issued.key.id)


def entry(
    e164: str,
    *,
    monthly: int = 125,
    setup: int = 0,
    capabilities: tuple[str, ...] = ("voice", "sms"),
    needs_provisioning: bool = False,
    number_type: str | None = None,
    added_at: datetime | None = None,
) -> InventoryEntry:
    """An inventory entry whose country, type and region come from the numbering plan."""
    facts = number_facts(e164)
    return InventoryEntry(
        e164=e164,
        country=facts.country,
        type=number_type or facts.type or "local",
        region=facts.region,
        capabilities=to_mask(capabilities),
        monthly_fee_cents=monthly,
        setup_fee_cents=setup,
        needs_provisioning=needs_provisioning,
        added_at=added_at or utc_now(),
    )


async def stock(database: Database, *entries: InventoryEntry) -> None:
    """Put entries up for sale."""
    async with database.transaction() as conn:
        await inventory.add_to_inventory(conn, list(entries))


# Valid numbers of several countries, for tests that need a handful.
US_NUMBERS = [f"+1415555{n:04d}" for n in range(1200, 1260)]
GB_NUMBERS = [f"+44207946{n:04d}" for n in range(100, 130)]
IN_NUMBERS = [f"+9198765{n:05d}" for n in range(43210, 43240)]
US_TOLL_FREE = "+18005550100"


async def counts_by_bucket(conn: Any, table: Table) -> dict[tuple[Any, ...], int]:
    """A striped count table (``number_totals``, ``number_counts``) as its non-zero totals by
    bucket: its key without the slot, summed over slots."""
    key = [column for column in table.primary_key.columns if column.name != "slot"]
    query = select(*key, func.sum(table.c.total)).group_by(*key)
    return {tuple(row[:-1]): row[-1] for row in await conn.execute(query) if row[-1] != 0}
