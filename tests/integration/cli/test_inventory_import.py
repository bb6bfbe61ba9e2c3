"""``vox admin inventory import``: all or nothing, re-runnable, honest about every row."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.api.support import own
from tests.factories import entry, make_tenant, stock
from tests.integration.cli.conftest import Vox
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import inventory_numbers, numbers
from voxnumbers.inventory import service as inventory_service
from voxnumbers.inventory.repository import COPY_FROM_ENTRIES
from voxnumbers.inventory.schemas import InventoryEntry
from voxnumbers.kit.clock import utc_now
from voxnumbers.vocabulary import to_list

HEADER = "e164,country,type,region,capabilities,monthly_fee,setup_fee,needs_provisioning\n"
GOOD_ROWS = (
    "+14155551200,US,local,,voice|sms,1.15,0,false\n"
    "+442079460100,,,,,1.50,,\n"
    "+18005550100,,toll_free,,voice,2.00,1.00,true\n"
)


def csv_file(tmp_path: Path, text: str, name: str = "numbers.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def for_sale(vox: Vox) -> dict[str, dict[str, Any]]:
    async def _read(database: Database) -> dict[str, dict[str, Any]]:
        async with database.transaction(write=False) as conn:
            rows = await conn.execute(select(inventory_numbers))
            return {row.e164: dict(row._mapping) for row in rows}

    return vox.on_database(_read)


def owners(vox: Vox) -> dict[str, str]:
    async def _read(database: Database) -> dict[str, str]:
        async with database.transaction(write=False) as conn:
            rows = await conn.execute(select(numbers.c.e164, numbers.c.account_id))
            return {row.e164: row.account_id for row in rows}

    return vox.on_database(_read)


def test_a_good_file_is_put_up_for_sale(vox: Vox, tmp_path: Path):
    result = vox("admin", "inventory", "import", str(csv_file(tmp_path, HEADER + GOOD_ROWS)))
    assert result.exit_code == 0, result.output
    assert "3 added, 0 already present" in result.stdout
    stock = for_sale(vox)
    assert sorted(stock) == ["+14155551200", "+18005550100", "+442079460100"]
    us, gb, toll_free = stock["+14155551200"], stock["+442079460100"], stock["+18005550100"]
    assert (us["country"], us["type"], us["region"]) == ("US", "local", "CA")
    assert to_list(us["capabilities"]) == ["voice", "sms"]
    assert (gb["country"], gb["type"], gb["region"], gb["monthly_fee_cents"]) == (
        "GB",
        "local",
        "London",
        150,
    )
    assert to_list(gb["capabilities"]) == ["voice"]
    assert (toll_free["setup_fee_cents"], toll_free["needs_provisioning"]) == (100, True)


def test_one_bad_row_means_nothing_is_imported_and_every_bad_line_is_named(
    vox: Vox, tmp_path: Path
):
    text = (
        HEADER
        + GOOD_ROWS
        + "+1415555120,,,,,1.00,,\n"  # line 5: not a valid number
        + "+14155551201,GB,,,,1.00,,\n"  # line 6: wrong country
        + "+14155551202,,,,,1.001,,\n"  # line 7: three decimals
        + "+14155551200,,,,,1.00,,\n"  # line 8: repeats line 2
    )
    result = vox("admin", "inventory", "import", str(csv_file(tmp_path, text)))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert any(line.startswith("line 5: e164 '+1415555120'") for line in lines), lines
    assert "line 6: country 'GB' does not match the number, which is in US" in lines
    assert any(line.startswith("line 7: monthly_fee") for line in lines), lines
    assert "line 8: duplicate: +14155551200 already appears on line 2" in lines
    assert not [line for line in lines if line.startswith(("line 2", "line 3", "line 4"))]
    assert "4 invalid row(s) of 7: nothing imported" in result.stderr
    assert for_sale(vox) == {}


def test_skip_invalid_imports_the_valid_rows_and_reports_the_others(vox: Vox, tmp_path: Path):
    text = HEADER + GOOD_ROWS + "+14155551201,,mobile,,,1.00,,\n+14155551202,,,,,,,\n"
    path = csv_file(tmp_path, text)
    result = vox("admin", "inventory", "import", str(path), "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "line 5: type 'mobile' contradicts the numbering plan" in result.stderr
    assert "line 6: monthly_fee is required" in result.stderr
    assert "3 added, 0 already present (for sale or owned), 2 skipped as invalid" in result.stdout
    assert sorted(for_sale(vox)) == ["+14155551200", "+18005550100", "+442079460100"]


def test_importing_the_same_file_again_changes_nothing(vox: Vox, tmp_path: Path):
    path = csv_file(tmp_path, HEADER + GOOD_ROWS)
    assert vox("admin", "inventory", "import", str(path)).exit_code == 0
    before = for_sale(vox)
    again = vox("admin", "inventory", "import", str(path), "--batch-size", "2")
    assert again.exit_code == 0, again.output
    assert "0 added, 3 already present" in again.stdout
    assert for_sale(vox) == before


def test_numbers_already_owned_are_skipped_and_stay_with_their_owner(vox: Vox, tmp_path: Path):
    async def _seed(database: Database) -> str:
        tenant = await make_tenant(database)
        await own(database, tenant, "+14155551200")
        await own(database, tenant, "+442079460100", status="released")
        return tenant.account_id

    account_id = vox.on_database(_seed)
    result = vox("admin", "inventory", "import", str(csv_file(tmp_path, HEADER + GOOD_ROWS)))
    assert result.exit_code == 0, result.output
    assert "1 added, 2 already present (for sale or owned)" in result.stdout
    assert sorted(for_sale(vox)) == ["+18005550100"]
    assert owners(vox) == {"+14155551200": account_id, "+442079460100": account_id}


# --- files of many batches: COPY on PostgreSQL, one transaction for all ------------------

# Two batches of COPY_FROM_ENTRIES (copied on PostgreSQL) and a smaller last one (not).
MANY = [f"+1415{2_000_000 + n:07d}" for n in range(2 * COPY_FROM_ENTRIES + 100)]
BATCH = str(COPY_FROM_ENTRIES)


def many_rows(numbers: list[str]) -> str:
    """The numbers in no particular order (the file's order is not the table's)."""
    shuffled = sorted(numbers, key=lambda e164: e164[::-1])
    return HEADER + "".join(f"{e164},,,,voice|sms,1.15,0.50,true\n" for e164 in shuffled)


def test_a_file_of_many_batches_skips_what_is_for_sale_or_owned_and_adds_the_rest_once(
    vox: Vox, tmp_path: Path
):
    started = utc_now()
    owned_active, owned_released, listed = MANY[10], MANY[COPY_FROM_ENTRIES + 3], MANY[-1]

    async def _seed(database: Database) -> str:
        tenant = await make_tenant(database)
        await own(database, tenant, owned_active)
        await own(database, tenant, owned_released, status="released")
        await stock(database, entry(listed, monthly=999))
        return tenant.account_id

    account_id = vox.on_database(_seed)
    path = csv_file(tmp_path, many_rows(MANY))
    result = vox("admin", "inventory", "import", str(path), "--batch-size", BATCH)
    assert result.exit_code == 0, result.output
    added = len(MANY) - 3
    assert f"{added:,} added, 3 already present (for sale or owned)" in result.stdout
    stock_after = for_sale(vox)
    assert sorted(stock_after) == sorted(set(MANY) - {owned_active, owned_released})
    assert stock_after[listed]["monthly_fee_cents"] == 999  # left as it was
    assert owners(vox) == {owned_active: account_id, owned_released: account_id}
    row = stock_after[MANY[COPY_FROM_ENTRIES // 2]]  # from a copied batch
    assert (row["country"], row["type"], row["region"]) == ("US", "local", "CA")
    assert to_list(row["capabilities"]) == ["voice", "sms"]
    assert (row["monthly_fee_cents"], row["setup_fee_cents"]) == (115, 50)
    assert row["needs_provisioning"] is True
    assert started <= row["added_at"] <= utc_now()
    imported = [row for e164, row in stock_after.items() if e164 != listed]
    assert len({row["added_at"] for row in imported}) == 1  # one time for the whole file

    again = vox("admin", "inventory", "import", str(path), "--batch-size", BATCH)
    assert again.exit_code == 0, again.output
    assert f"0 added, {len(MANY):,} already present" in again.stdout
    assert for_sale(vox) == stock_after


def test_a_failure_in_a_late_batch_leaves_the_inventory_as_it_was(
    vox: Vox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    vox.on_database(lambda database: stock(database, entry(MANY[0])))
    before = for_sale(vox)
    written: list[int] = []
    add_to_inventory = inventory_service.add_to_inventory

    async def failing_last(conn: AsyncConnection, entries: Sequence[InventoryEntry]) -> int:
        if len(written) == 2:
            raise RuntimeError("the disk is full")
        written.append(await add_to_inventory(conn, entries))
        return written[-1]

    monkeypatch.setattr(inventory_service, "add_to_inventory", failing_last)
    path = csv_file(tmp_path, many_rows(MANY))
    result = vox("admin", "inventory", "import", str(path), "--batch-size", BATCH)
    assert result.exit_code != 0
    assert isinstance(result.exception, RuntimeError)
    assert written == [COPY_FROM_ENTRIES - 1, COPY_FROM_ENTRIES]  # two batches were in
    assert for_sale(vox) == before


def test_two_imports_of_the_same_numbers_at_once_both_succeed_and_add_each_once(
    vox: Vox, tmp_path: Path
):
    path = csv_file(tmp_path, many_rows(MANY))
    command = [str(Path(sys.executable).parent / "vox"), "admin", "inventory", "import"]
    command += [str(path), "--batch-size", BATCH]
    env = {**os.environ, "VOX_DATABASE_URL": vox.database_url, "NO_COLOR": "1"}
    imports = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in imports]
    assert [process.returncode for process in imports] == [0, 0], outputs
    added = [int(stdout.split(" added")[0].replace(",", "")) for stdout, _ in outputs]
    assert sum(added) == len(MANY), outputs
    assert sorted(for_sale(vox)) == sorted(MANY)


def test_a_long_list_of_problems_is_cut_short_with_a_count(vox: Vox, tmp_path: Path):
    text = HEADER + "".join(f"+1415555{n:04d},,,,,free,,\n" for n in range(1200, 1275))
    result = vox("admin", "inventory", "import", str(csv_file(tmp_path, text)), "--skip-invalid")
    assert result.exit_code == 0
    shown = [line for line in result.stderr.splitlines() if line.startswith("line ")]
    assert len(shown) == 50
    assert shown[0].startswith("line 2: monthly_fee")
    assert "… and 25 more invalid row(s)" in result.stderr
    assert "0 added, 0 already present (for sale or owned), 75 skipped as invalid" in result.stdout


def test_a_wrong_header_imports_nothing_even_when_skipping_invalid_rows(vox: Vox, tmp_path: Path):
    text = "e164,monthly_fee,price\n+14155551200,1.00,2\n"
    path = csv_file(tmp_path, text)
    result = vox("admin", "inventory", "import", str(path), "--skip-invalid")
    assert result.exit_code == 1
    assert "line 1: unknown column(s) 'price'" in result.stderr
    assert "nothing imported" in result.stderr
    assert for_sale(vox) == {}


def test_a_missing_file_is_refused_before_anything_happens(vox: Vox, tmp_path: Path):
    result = vox("admin", "inventory", "import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    # The message sits in a panel 80 columns wide, wrapped wherever the path's length puts it.
    assert "does not exist" in " ".join(result.output.replace("│", " ").split())
