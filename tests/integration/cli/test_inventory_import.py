"""``vox admin inventory import``: all or nothing, re-runnable, honest about every row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.api.support import own
from tests.factories import make_tenant
from tests.integration.cli.conftest import Vox
from voxnumbers.kit.db import Database
from voxnumbers.numbers.capabilities import to_list
from voxnumbers.schema import inventory_numbers, numbers

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
    assert "does not exist" in result.output
