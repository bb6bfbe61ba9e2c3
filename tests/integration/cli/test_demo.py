"""The demo data of ``vox serve``: made once on an empty database, never duplicated, and the
key it prints works."""

from __future__ import annotations

import json
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.api.support import running
from tests.factories import counts_by_bucket, entry, make_tenant, stock
from voxnumbers.accounts import service as accounts
from voxnumbers.app import create_app
from voxnumbers.cli.demo import DEMO_ACCOUNT_NAME, DemoInfo, ensure_demo, print_demo_banner
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import accounts as accounts_table
from voxnumbers.db.tables import api_keys, inventory_numbers, number_counts, number_totals, numbers
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.worlds import world_of
from voxnumbers.settings import Settings


async def snapshot(database: Database) -> dict[str, object]:
    """How many of everything the demo makes there is."""
    async with database.transaction(write=False) as conn:

        async def count(table) -> int:
            return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())

        return {
            "accounts": await count(accounts_table),
            "keys": await count(api_keys),
            "for_sale": await count(inventory_numbers),
            "owned": await count(numbers),
            "counts": await counts_by_bucket(conn, number_counts),
            "totals": await counts_by_bucket(conn, number_totals),
        }


async def test_an_empty_database_gets_a_catalogue_and_a_demo_account_that_works(
    database: Database, tmp_path: Path
):
    state_file = tmp_path / "var" / "demo.json"
    info = await ensure_demo(database, state_file)
    assert info is not None and info.created

    async with database.transaction(write=False) as conn:
        offers = (await conn.execute(select(inventory_numbers))).all()
        owned = (await conn.execute(select(numbers))).all()
        caller = await accounts.authenticate(conn, f"Bearer {info.key}")
        demo = (
            await conn.execute(
                select(accounts_table).where(accounts_table.c.live_account_id.is_(None))
            )
        ).one()
    assert len(offers) >= 2000 and len(offers) == info.numbers_for_sale
    assert len({row.country for row in offers}) >= 15
    assert {row.type for row in offers} == {"local", "toll_free", "mobile"}
    assert any(row.needs_provisioning for row in offers)
    fees = {(row.country, row.type): row.monthly_fee_cents for row in offers}
    assert fees["US", "local"] == 115 and fees["US", "toll_free"] == 200
    assert fees["GB", "local"] == 150 and fees["DE", "mobile"] == 300
    assert fees["IN", "local"] == 250
    assert not {row.e164 for row in owned} & {row.e164 for row in offers}

    assert (demo.id, demo.name) == (info.account_id, DEMO_ACCOUNT_NAME)
    assert (caller.public_account_id, caller.mode) == (info.account_id, "test")
    assert {row.status for row in owned} == {"active", "pending", "suspended", "released"}
    # The demo's numbers are in its test world (``spec/API.md`` §10), not live.
    assert all(row.account_id == world_of(info.account_id, live=False) for row in owned)
    assert not any(row.live for row in owned)
    now = utc_now()
    for row in owned:
        if row.status == "released":
            assert row.released_at < now < row.available_after
            assert row.available_after - row.released_at == timedelta(days=30)

    state = json.loads(state_file.read_text())
    assert state == {"account_id": info.account_id, "key": info.key}
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600

    # The printed key works against the API, and the counts kept beside the numbers agree.
    async with running(create_app(Settings(log_level="warning"), database)) as http:
        listed = await http.get(
            f"/v1/account/{info.account_id}/numbers",
            headers={"Authorization": f"Bearer {info.key}"},
        )
        released = await http.get(
            f"/v1/account/{info.account_id}/numbers",
            params={"status": "released"},
            headers={"Authorization": f"Bearer {info.key}"},
        )
    assert listed.status_code == 200, listed.text
    assert listed.json()["pagination"]["total"] == sum(r.status != "released" for r in owned)
    assert {n["status"] for n in listed.json()["data"]} == {"active", "pending", "suspended"}
    assert released.json()["pagination"]["total"] == sum(r.status == "released" for r in owned)
    live_key = await _live_key(database, info.account_id)
    async with running(create_app(Settings(log_level="warning"), database)) as http:
        live = await http.get(
            f"/v1/account/{info.account_id}/numbers",
            headers={"Authorization": f"Bearer {live_key}"},
        )
    assert live.status_code == 200
    assert live.json()["data"] == [] and live.json()["pagination"]["total"] == 0


async def _live_key(database: Database, account_id: str) -> str:
    async with database.transaction() as conn:
        return (await accounts.issue_key(conn, account_id)).secret


async def test_the_same_numbers_every_time(database: Database, tmp_path: Path):
    first = await ensure_demo(database, tmp_path / "demo.json")
    assert first is not None
    async with database.transaction(write=False) as conn:
        numbers_first = sorted((await conn.execute(select(inventory_numbers.c.e164))).scalars())
    async with database.transaction() as conn:
        await conn.execute(inventory_numbers.delete())
        await conn.execute(number_counts.delete())
        await conn.execute(number_totals.delete())
        await conn.execute(numbers.delete())
        await conn.execute(api_keys.delete())
        await conn.execute(accounts_table.delete())
    again = await ensure_demo(database, tmp_path / "demo.json")
    assert again is not None and again.created and again.key != first.key
    async with database.transaction(write=False) as conn:
        numbers_again = sorted((await conn.execute(select(inventory_numbers.c.e164))).scalars())
    assert numbers_again == numbers_first


async def test_a_restart_duplicates_nothing_and_prints_the_same_key(
    database: Database, tmp_path: Path
):
    state_file = tmp_path / "demo.json"
    first = await ensure_demo(database, state_file)
    before = await snapshot(database)
    second = await ensure_demo(database, state_file)
    assert second == DemoInfo(account_id=first.account_id, key=first.key, created=False)
    assert await snapshot(database) == before


async def test_a_lost_or_revoked_key_is_replaced_and_the_old_demo_keys_revoked(
    database: Database, tmp_path: Path
):
    state_file = tmp_path / "demo.json"
    first = await ensure_demo(database, state_file)
    state_file.unlink()
    second = await ensure_demo(database, state_file)
    assert second.account_id == first.account_id and second.key != first.key
    assert json.loads(state_file.read_text())["key"] == second.key
    async with database.transaction() as conn:
        with pytest.raises(Exception, match="valid API key"):
            await accounts.authenticate(conn, f"Bearer {first.key}")
        caller = await accounts.authenticate(conn, f"Bearer {second.key}")
        await accounts.revoke_key(conn, caller.key_id)

    third = await ensure_demo(database, state_file)  # the saved key was revoked meanwhile
    assert third.key not in (first.key, second.key)
    async with database.transaction(write=False) as conn:
        assert (await accounts.authenticate(conn, f"Bearer {third.key}")).public_account_id == (
            first.account_id
        )
        keys = await accounts.list_keys(conn, first.account_id)
    [working] = [key for key in keys if key.revoked_at is None]
    assert len(keys) == 3 and working.hint.endswith(third.key[-4:])
    after = await snapshot(database)
    assert (after["accounts"], after["owned"]) == (2, 11)  # its live and test worlds


async def test_a_database_with_somebody_elses_data_is_left_alone(
    database: Database, tmp_path: Path
):
    await make_tenant(database)
    before = await snapshot(database)
    assert await ensure_demo(database, tmp_path / "demo.json") is None
    assert await snapshot(database) == before
    assert not (tmp_path / "demo.json").exists()


async def test_inventory_alone_makes_a_database_not_empty(database: Database, tmp_path: Path):
    await stock(database, entry("+14155551200"))
    assert await ensure_demo(database, tmp_path / "demo.json") is None
    assert (await snapshot(database))["accounts"] == 0


@pytest.mark.parametrize(
    ("settings", "base"),
    [
        (Settings(host="0.0.0.0", port=9000), "http://127.0.0.1:9000"),
        (Settings(host="::1", port=8000), "http://[::1]:8000"),
        (
            Settings(public_base_url="https://numbers.example.com/"),
            "https://numbers.example.com",
        ),
    ],
)
def test_the_banner_prints_a_curl_line_to_paste(settings, base, capsys):
    info = DemoInfo(
        account_id="acc_0123456789abcdef",
        key="tvx_sk_test_" + "k" * 40,
        created=True,
        numbers_for_sale=2000,
        countries=20,
        numbers_owned=11,
    )
    print_demo_banner(info, settings)
    printed = capsys.readouterr().out.splitlines()
    assert any(info.account_id in line for line in printed if not line.startswith("curl"))
    assert any(info.key in line for line in printed if not line.startswith("curl"))
    assert (
        f'curl -s -H "Authorization: Bearer {info.key}" {base}/v1/account/{info.account_id}/numbers'
    ) in printed
