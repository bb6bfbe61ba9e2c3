"""``vox admin numbers``: the operator's transitions, refused with a reason when the status
machine does not allow them, and the sweep of cooled-off releases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.api.support import own
from tests.factories import US_NUMBERS, make_tenant
from tests.integration.cli.conftest import Vox
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import events, inventory_numbers, numbers
from voxnumbers.kit.clock import utc_now

NUMBER = US_NUMBERS[0]


def _status(vox: Vox, e164: str = NUMBER) -> str | None:
    async def _read(database: Database) -> str | None:
        async with database.transaction(write=False) as conn:
            return (
                await conn.execute(select(numbers.c.status).where(numbers.c.e164 == e164))
            ).scalar()

    return vox.on_database(_read)


def _event_types(vox: Vox) -> list[str]:
    async def _read(database: Database) -> list[str]:
        async with database.transaction(write=False) as conn:
            return list(
                (await conn.execute(select(events.c.type).order_by(events.c.seq))).scalars()
            )

    return vox.on_database(_read)


def _give(vox: Vox, status: str, **columns: object) -> None:
    async def _own(database: Database) -> None:
        tenant = await make_tenant(database)
        await own(database, tenant, NUMBER, status=status, **columns)

    vox.on_database(_own)


def test_activate_suspend_reinstate(vox: Vox) -> None:
    _give(vox, "pending")
    result = vox("admin", "numbers", "activate", NUMBER)
    assert result.exit_code == 0, result.output
    assert f"{NUMBER} is now active" in result.output
    assert vox("admin", "numbers", "suspend", NUMBER, "--reason", "billing").exit_code == 0
    assert _status(vox) == "suspended"
    assert vox("admin", "numbers", "reinstate", NUMBER).exit_code == 0
    assert _status(vox) == "active"
    assert _event_types(vox) == ["number.activated", "number.suspended", "number.reinstated"]


def test_a_refused_transition_says_why_and_changes_nothing(vox: Vox) -> None:
    _give(vox, "active")
    result = vox("admin", "numbers", "reinstate", NUMBER)
    assert result.exit_code == 1
    assert "only a suspended number can be reinstated" in result.output
    assert _status(vox) == "active"
    assert _event_types(vox) == []


def test_an_unknown_or_invalid_number_is_a_clear_error(vox: Vox) -> None:
    result = vox("admin", "numbers", "activate", NUMBER)
    assert result.exit_code == 1 and "No account owns this number" in result.output
    result = vox("admin", "numbers", "activate", "12")
    assert result.exit_code == 1 and "e164" in result.output


def test_sweep_returns_cooled_off_numbers_to_inventory(vox: Vox) -> None:
    _give(vox, "released", available_after=utc_now() - timedelta(seconds=1))
    result = vox("admin", "numbers", "sweep")
    assert result.exit_code == 0 and "returned 1 number(s)" in result.output
    assert _status(vox) is None

    async def _for_sale(database: Database) -> list[str]:
        async with database.transaction(write=False) as conn:
            return list((await conn.execute(select(inventory_numbers.c.e164))).scalars())

    assert vox.on_database(_for_sale) == [NUMBER]
    assert vox("admin", "numbers", "sweep").output.strip() == "returned 0 number(s) to inventory"
