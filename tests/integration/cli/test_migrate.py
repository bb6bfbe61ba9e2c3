"""``vox migrate [--to REVISION]``: the schema up or down to a revision, with data in it,
saying what it did; a revision it cannot reach is a one-line error that changes nothing."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from tests.api.support import own
from tests.factories import US_NUMBERS, make_tenant
from tests.integration.cli.conftest import Vox
from voxnumbers.cli.demo import ensure_demo
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import numbers
from voxnumbers.migrations import current_revision, upgrade_to_head

REVISIONS = "0001, 0002, 0003, 0004, 0005, 0006, 0007, 0008, 0009, 0010"


@pytest.fixture
def at_head_afterwards(vox: Vox) -> Iterator[Vox]:
    """The database brought back to head whatever the test did (on PostgreSQL the next
    tests of the run share it)."""
    yield vox
    vox.on_database(upgrade_to_head)


def _owners(vox: Vox) -> list[tuple[str, str]]:
    async def _read(database: Database) -> list[tuple[str, str]]:
        async with database.transaction(write=False) as conn:
            query = select(numbers.c.account_id, numbers.c.e164).order_by(numbers.c.e164)
            return [(row.account_id, row.e164) for row in await conn.execute(query)]

    return vox.on_database(_read)


def test_migrate_to_goes_down_and_up_again_and_says_what_it_did(
    at_head_afterwards: Vox, tmp_path: Path
) -> None:
    vox = at_head_afterwards

    async def _fill(database: Database) -> str:
        await ensure_demo(database, tmp_path / "demo.json")  # numbers in its test world
        tenant = await make_tenant(database, "Live customer")
        await own(database, tenant, US_NUMBERS[0])
        return tenant.account_id

    live_account = vox.on_database(_fill)
    assert len(_owners(vox)) > 1

    down = vox("migrate", "--to", "0007")
    assert (down.exit_code, down.stderr) == (0, ""), down.output
    assert down.stdout == "reverted 3 migration(s): 0010, 0009, 0008; the schema is at 0007\n"
    assert _owners(vox) == [(live_account, US_NUMBERS[0])]  # the test worlds' are gone
    again = vox("migrate", "--to", "0007")
    assert (again.exit_code, again.stdout) == (0, "schema is already at 0007\n")

    up = vox("migrate")
    assert (up.exit_code, up.stderr) == (0, ""), up.output
    assert up.stdout == "applied 3 migration(s): 0008, 0009, 0010; the schema is at 0010\n"
    current = vox("migrate")
    assert (current.exit_code, current.stdout) == (0, "schema is up to date (0010)\n")
    assert _owners(vox) == [(live_account, US_NUMBERS[0])]

    assert vox("migrate", "--to", "0005").stdout == (
        "reverted 5 migration(s): 0010, 0009, 0008, 0007, 0006; the schema is at 0005\n"
    )
    assert vox("migrate", "--to", "0006").stdout == (
        "applied 1 migration(s): 0006; the schema is at 0006\n"
    )
    assert _owners(vox) == [(live_account, US_NUMBERS[0])]


def test_an_unknown_revision_is_a_one_line_error_with_exit_code_2(vox: Vox) -> None:
    result = vox("migrate", "--to", "nope")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: unknown revision 'nope': use head, base or one of {REVISIONS}\n"
    )
    assert isinstance(result.exception, SystemExit)
    assert vox.on_database(current_revision) == "0010"


def test_a_database_of_a_newer_version_is_left_alone(vox: Vox) -> None:
    _set_revision(vox, "0042")
    try:
        result = vox("migrate", "--to", "0007")
        assert (result.exit_code, result.stdout) == (1, "")
        assert result.stderr == (
            "error: the database is at revision '0042', which this version does not know "
            "(it was migrated by a newer version: migrate it with that version); "
            "nothing was changed\n"
        )
    finally:
        _set_revision(vox, "0010")


def test_serve_refuses_a_database_of_a_newer_version_in_one_line(vox: Vox) -> None:
    """On SQLite ``vox serve`` migrates by itself, on PostgreSQL it checks what is pending:
    either way a schema this version does not know stops it with one line, no traceback."""

    _set_revision(vox, "0042")
    try:
        result = vox("serve", "--no-demo", "--port", str(_free_port()))
        assert (result.exit_code, result.stdout) == (1, "")
        assert result.stderr == (
            "error: the database is at revision '0042', which this version does not know "
            "(it was migrated by a newer version: migrate it with that version); "
            "the server did not start\n"
        )
    finally:
        _set_revision(vox, "0010")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _set_revision(vox: Vox, revision: str) -> None:
    """Mark the database as being at ``revision`` (as a newer version would leave it)."""

    async def _set(database: Database) -> None:
        async with database.transaction() as conn:
            await conn.execute(text(f"UPDATE alembic_version SET version_num = '{revision}'"))

    vox.on_database(_set)
