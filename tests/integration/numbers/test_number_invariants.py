"""Random sequences of everything that changes a number, checked after every step.

A hypothesis state machine buys, routes, unroutes, releases (with a cooling-off of zero or
thirty days), cancels releases, suspends, reinstates, activates, sweeps, and creates and
deletes trunks and applications, for two accounts sharing a small pool of numbers. After
every step, on SQLite and PostgreSQL:

- each number is in inventory or owned by exactly one account, never both, never neither;
- no number routes to a trunk and an application at once;
- no number routes to a trunk or application that does not exist or is another account's;
- the list's ``total`` equals the true count for every seed filter of every account;
- the kept totals (``number_totals``) and monthly counts (``number_counts``) equal a scan.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, select

from tests.factories import (
    GB_NUMBERS,
    US_NUMBERS,
    Tenant,
    counts_by_bucket,
    entry,
    make_tenant,
    stock,
)
from voxnumbers.applications import service as applications
from voxnumbers.applications.schemas import ApplicationCreate
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import applications as applications_table
from voxnumbers.db.tables import inventory_numbers, metadata, number_counts, number_totals
from voxnumbers.db.tables import numbers as numbers_table
from voxnumbers.db.tables import trunks as trunks_table
from voxnumbers.errors import ApiError
from voxnumbers.kit.clock import utc_now
from voxnumbers.numbers import count_upkeep
from voxnumbers.numbers import repository as numbers_repository
from voxnumbers.numbers import service as numbers
from voxnumbers.numbers.schemas import NumberFilter, PurchaseRequest
from voxnumbers.settings import Settings
from voxnumbers.trunks import service as trunks
from voxnumbers.trunks.schemas import TrunkRequest

POOL = [*US_NUMBERS[:4], *GB_NUMBERS[:3]]
SEED_FILTERS = [
    (country, status)
    for country in (None, "US", "GB")
    for status in (None, "active", "pending", "suspended", "released")
]
SIP_DOMAIN = "sip.test"
# Acting on another account's number, or routing to another account's trunk, is refused;
# tried now and then, so most steps change something.
MOSTLY_NOT = st.sampled_from([False, False, False, True])


class NumberLife(RuleBasedStateMachine):
    """The state is the database; the machine only remembers ids it created."""

    database_url: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.database = Database(self.database_url, pool_size=2)
        self.tenants: list[Tenant] = []
        self.trunk_ids: dict[str, int] = {}  # id -> index of the tenant that created it
        self.application_ids: dict[str, int] = {}

    def run(self, work: Callable[[], Awaitable[Any]]) -> Any:
        return self.loop.run_until_complete(work())

    def teardown(self) -> None:
        self.run(self.database.dispose)
        self.loop.close()

    async def attempt(self, change: Callable[[Any], Awaitable[Any]], *, write: bool = True) -> Any:
        """Run one change in its own transaction; refusals are fine, crashes are not."""
        try:
            async with self.database.transaction(write=write) as conn:
                return await change(conn)
        except ApiError as refused:
            assert refused.status < 500, refused
            return None

    def actor(self, e164: str, stranger: bool) -> int:
        """Index of the tenant acting on ``e164``: mostly its owner, sometimes the other."""

        async def _owner() -> str | None:
            async with self.database.transaction(write=False) as conn:
                return (
                    await conn.execute(
                        select(numbers_table.c.account_id).where(numbers_table.c.e164 == e164)
                    )
                ).scalar()

        owner = self.run(_owner)
        index = next((i for i, t in enumerate(self.tenants) if t.account_id == owner), 0)
        return 1 - index if stranger else index

    def target(self, ids: dict[str, int], who: int, pick: int, foreign: bool) -> str | None:
        """A trunk or application id: one of ``who``'s, or another's when ``foreign``."""
        mine = [i for i, owner in ids.items() if (owner == who) != foreign]
        return mine[pick % len(mine)] if mine else None

    @initialize()
    def start(self) -> None:
        """Two accounts, each with a trunk and an application, owning five of the seven
        numbers (some pending); two numbers stay for sale."""

        async def _start() -> None:
            async with self.database.transaction() as conn:
                for table in reversed(metadata.sorted_tables):
                    await conn.execute(delete(table))
            self.tenants = [await make_tenant(self.database, name) for name in ("A", "B")]
            await stock(
                self.database,
                *(entry(e164, needs_provisioning=i % 3 == 0) for i, e164 in enumerate(POOL)),
            )
            async with self.database.transaction() as conn:
                for who, tenant in enumerate(self.tenants):
                    trunk = await trunks.create_trunk(
                        conn,
                        tenant.account_id,
                        TrunkRequest(name="t", auth_type="ip"),
                        sip_domain=SIP_DOMAIN,
                    )
                    app = await applications.create_application(
                        conn, tenant.account_id, ApplicationCreate(name="a")
                    )
                    self.trunk_ids[trunk.id] = who
                    self.application_ids[app.id] = who
                for i, e164 in enumerate(POOL[:5]):
                    await numbers.purchase_number(
                        conn,
                        self.tenants[i % 2].account_id,
                        PurchaseRequest(e164=e164, country=_country(e164)),
                    )

        self.run(_start)

    # -- changes -------------------------------------------------------------------------

    @rule(who=st.integers(0, 1), e164=st.sampled_from(POOL))
    def buy(self, who: int, e164: str) -> None:
        tenant = self.tenants[who]
        country = _country(e164)
        self.run(
            lambda: self.attempt(
                lambda conn: numbers.purchase_number(
                    conn, tenant.account_id, PurchaseRequest(e164=e164, country=country)
                )
            )
        )

    @rule(who=st.integers(0, 1))
    def create_trunk(self, who: int) -> None:
        tenant = self.tenants[who]
        trunk = self.run(
            lambda: self.attempt(
                lambda conn: trunks.create_trunk(
                    conn,
                    tenant.account_id,
                    TrunkRequest(name="t", auth_type="ip"),
                    sip_domain=SIP_DOMAIN,
                )
            )
        )
        self.trunk_ids[trunk.id] = who

    @rule(who=st.integers(0, 1))
    def create_application(self, who: int) -> None:
        tenant = self.tenants[who]
        app = self.run(
            lambda: self.attempt(
                lambda conn: applications.create_application(
                    conn, tenant.account_id, ApplicationCreate(name="a")
                )
            )
        )
        self.application_ids[app.id] = who

    @rule(
        e164=st.sampled_from(POOL),
        pick=st.integers(0, 50),
        stranger=MOSTLY_NOT,
        foreign=MOSTLY_NOT,
        kind=st.sampled_from(["trunk", "application"]),
    )
    def assign(self, e164: str, pick: int, stranger: bool, foreign: bool, kind: str) -> None:
        who = self.actor(e164, stranger)
        account_id = self.tenants[who].account_id
        if kind == "trunk":
            trunk_id = self.target(self.trunk_ids, who, pick, foreign)
            if trunk_id is not None:
                self.run(
                    lambda: self.attempt(
                        lambda conn: numbers.assign_trunk(conn, account_id, e164, trunk_id)
                    )
                )
        else:
            app_id = self.target(self.application_ids, who, pick, foreign)
            if app_id is not None:
                self.run(
                    lambda: self.attempt(
                        lambda conn: numbers.assign_application(conn, account_id, e164, app_id)
                    )
                )

    @rule(e164=st.sampled_from(POOL), stranger=MOSTLY_NOT, trunk=st.booleans())
    def unassign(self, e164: str, stranger: bool, trunk: bool) -> None:
        account_id = self.tenants[self.actor(e164, stranger)].account_id
        undo = numbers.unassign_trunk if trunk else numbers.unassign_application
        self.run(lambda: self.attempt(lambda conn: undo(conn, account_id, e164)))

    @rule(e164=st.sampled_from(POOL), stranger=MOSTLY_NOT, days=st.sampled_from([0, 30]))
    def release(self, e164: str, stranger: bool, days: int) -> None:
        account_id = self.tenants[self.actor(e164, stranger)].account_id
        policy = Settings(cooling_off_days=days)
        self.run(
            lambda: self.attempt(
                lambda conn: numbers.release_number(conn, account_id, e164, policy)
            )
        )

    @rule(e164=st.sampled_from(POOL), stranger=MOSTLY_NOT)
    def cancel_release(self, e164: str, stranger: bool) -> None:
        account_id = self.tenants[self.actor(e164, stranger)].account_id
        self.run(lambda: self.attempt(lambda conn: numbers.cancel_release(conn, account_id, e164)))

    @rule(e164=st.sampled_from(POOL), action=st.sampled_from(["activate", "suspend", "reinstate"]))
    def operator(self, e164: str, action: str) -> None:
        def change(conn: Any) -> Awaitable[Any]:
            if action == "suspend":
                return numbers.suspend(conn, e164, "billing")
            return getattr(numbers, action)(conn, e164)

        self.run(lambda: self.attempt(change))

    @rule()
    def sweep(self) -> None:
        self.run(lambda: self.attempt(numbers.sweep_expired_releases))

    @rule(
        who=st.integers(0, 1),
        pick=st.integers(0, 50),
        force=st.booleans(),
        kind=st.sampled_from(["trunk", "application"]),
    )
    def delete_target(self, who: int, pick: int, force: bool, kind: str) -> None:
        ids = self.trunk_ids if kind == "trunk" else self.application_ids
        target = self.target(ids, who, pick, foreign=False)
        if target is None:
            return
        account_id = self.tenants[who].account_id
        if kind == "trunk":
            self.run(
                lambda: self.attempt(
                    lambda conn: trunks.delete_trunk(
                        conn, account_id, target, force=force, sip_domain=SIP_DOMAIN
                    )
                )
            )
        else:
            self.run(
                lambda: self.attempt(
                    lambda conn: applications.delete_application(
                        conn, account_id, target, force=force
                    )
                )
            )

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def numbers_are_in_exactly_one_place(self) -> None:
        async def _check() -> None:
            async with self.database.transaction(write=False) as conn:
                for_sale = list((await conn.execute(select(inventory_numbers.c.e164))).scalars())
                owned = list((await conn.execute(select(numbers_table.c.e164))).scalars())
            assert len(set(for_sale)) == len(for_sale) and len(set(owned)) == len(owned)
            assert not set(for_sale) & set(owned)
            assert sorted(for_sale + owned) == sorted(POOL)

        if self.tenants:
            self.run(_check)

    @invariant()
    def routing_points_at_one_existing_target_of_the_owner(self) -> None:
        async def _check() -> None:
            async with self.database.transaction(write=False) as conn:
                rows = (await conn.execute(select(numbers_table))).all()
                trunk_owner = dict(
                    (await conn.execute(select(trunks_table.c.id, trunks_table.c.account_id))).all()
                )
                app_owner = dict(
                    (
                        await conn.execute(
                            select(applications_table.c.id, applications_table.c.account_id)
                        )
                    ).all()
                )
            for row in rows:
                assert row.trunk_id is None or row.application_id is None
                if row.trunk_id is not None:
                    assert trunk_owner.get(row.trunk_id) == row.account_id
                if row.application_id is not None:
                    assert app_owner.get(row.application_id) == row.account_id
                if row.status == "released":
                    assert row.trunk_id is None and row.application_id is None

        if self.tenants:
            self.run(_check)

    @invariant()
    def totals_are_exact_for_every_seed_filter(self) -> None:
        async def _check() -> None:
            async with self.database.transaction(write=False) as conn:
                for tenant in self.tenants:
                    for country, status in SEED_FILTERS:
                        page = await numbers.list_numbers(
                            conn,
                            tenant.account_id,
                            numbers.ListFilters(country=country, status=status),
                            page=1,
                            per_page=100,
                        )
                        scanned = await numbers_repository.count_numbers_by_scanning(
                            conn,
                            tenant.account_id,
                            NumberFilter(country=country, status=status, now=utc_now()),
                        )
                        assert page.pagination.total == scanned == len(page.data), (
                            tenant.account_id,
                            country,
                            status,
                        )

        if self.tenants:
            self.run(_check)

    @invariant()
    def kept_totals_and_monthly_counts_equal_a_scan(self) -> None:
        async def _check() -> None:
            async with self.database.transaction(write=False) as conn:
                totals = await counts_by_bucket(conn, number_totals)
                by_month = await counts_by_bucket(conn, number_counts)
                rows = await conn.execute(
                    select(
                        numbers_table.c.account_id,
                        numbers_table.c.country,
                        numbers_table.c.status,
                        numbers_table.c.created_at,
                    )
                )
            scanned: dict[tuple[Any, ...], int] = {}
            scanned_by_month: dict[tuple[Any, ...], int] = {}
            for account_id, country, status, created_at in rows:
                key = (account_id, country, status)
                month_key = (*key, count_upkeep.month_of(created_at))
                scanned[key] = scanned.get(key, 0) + 1
                scanned_by_month[month_key] = scanned_by_month.get(month_key, 0) + 1
            assert totals == scanned
            assert by_month == scanned_by_month

        self.run(_check)


def _country(e164: str) -> str:
    return "US" if e164.startswith("+1") else "GB"


@pytest.mark.slow
def test_random_lives_of_numbers_keep_every_invariant(database_url: str) -> None:
    NumberLife.database_url = database_url
    run_state_machine_as_test(
        NumberLife,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
