"""Upgrading a database of the release before test mode keeps all its data live
(``spec/API.md`` §10): the migration gives every account an empty test world."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import bindparam, select
from sqlalchemy import text as sql_text

from tests.api.support import running
from voxnumbers.app import create_app
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import accounts, numbers
from voxnumbers.db.types import Timestamp
from voxnumbers.kit.apikeys import generate_key
from voxnumbers.kit.clock import utc_now
from voxnumbers.migrations import alembic_config, upgrade_to_head
from voxnumbers.settings import Settings

ACCOUNT = "acc_0ld0ld0ld0ld0ld0"
NUMBER = "+14155551200"


def text(statement: str) -> Any:
    """A statement whose ``:t`` is a time, stored as the schema stores times."""
    query = sql_text(statement)
    return query.bindparams(bindparam("t", type_=Timestamp())) if ":t" in statement else query


def _downgrade_to_0007(sync_conn: Any) -> None:
    config = alembic_config()
    config.attributes["connection"] = sync_conn
    command.downgrade(config, "0007")


async def _fill_as_release_0007(conn: Any, live_key: str, test_key: str) -> None:
    """Rows as the previous release wrote them (its columns only, in plain SQL)."""
    now = utc_now()
    await conn.execute(
        text(
            "INSERT INTO accounts (id, name, status, created_at) VALUES (:id, 'Old', 'active', :t)"
        ),
        {"id": ACCOUNT, "t": now},
    )
    for key_id, key, mode in (
        ("key_0ld0live", live_key, "live"),
        ("key_0ld0test", test_key, "test"),
    ):
        material = generate_key(test=mode == "test")
        await conn.execute(
            text(
                "INSERT INTO api_keys (id, account_id, digest, hint, mode, created_at) "
                "VALUES (:id, :acc, :digest, :hint, :mode, :t)"
            ),
            {
                "id": key_id,
                "acc": ACCOUNT,
                "digest": _digest(key),
                "hint": material.hint,
                "mode": mode,
                "t": now,
            },
        )
    await conn.execute(
        text(
            "INSERT INTO numbers (e164, account_id, country, type, region, capabilities, "
            "monthly_fee_cents, setup_fee_cents, needs_provisioning, status, created_at, "
            "updated_at) VALUES (:e164, :acc, 'US', 'local', 'CA', 3, 125, 0, :f, 'active', :t, :t)"
        ),
        {"e164": NUMBER, "acc": ACCOUNT, "t": now, "f": False},
    )
    await conn.execute(
        text(
            "INSERT INTO number_totals (account_id, country, status, slot, total) "
            "VALUES (:acc, 'US', 'active', 0, 1)"
        ),
        {"acc": ACCOUNT},
    )
    month = now.year * 100 + now.month
    await conn.execute(
        text(
            "INSERT INTO number_counts (account_id, country, status, month, slot, total) "
            "VALUES (:acc, 'US', 'active', :m, 0, 1)"
        ),
        {"acc": ACCOUNT, "m": month},
    )


def _digest(key: str) -> str:
    from voxnumbers.kit.apikeys import digest_key

    return digest_key(key)


async def test_upgrade_keeps_existing_data_live_and_adds_an_empty_test_world(
    database: Database,
) -> None:
    async with database.transaction() as conn:
        await conn.run_sync(_downgrade_to_0007)
    live_key, test_key = generate_key().secret, generate_key(test=True).secret
    async with database.transaction() as conn:
        await _fill_as_release_0007(conn, live_key, test_key)
    await upgrade_to_head(database)

    async with database.transaction(write=False) as conn:
        rows = (
            await conn.execute(
                select(accounts.c.id, accounts.c.live_account_id).order_by(accounts.c.id)
            )
        ).all()
        assert [tuple(row) for row in rows] == [(ACCOUNT, None), (f"{ACCOUNT}_test", ACCOUNT)]
        owned = (await conn.execute(select(numbers.c.account_id, numbers.c.live))).all()
        assert [tuple(row) for row in owned] == [(ACCOUNT, True)]

    path = f"/v1/account/{ACCOUNT}/numbers"
    async with running(
        create_app(Settings(log_level="warning", run_worker=False), database)
    ) as http:
        live = await http.get(path, headers={"Authorization": f"Bearer {live_key}"})
        test = await http.get(path, headers={"Authorization": f"Bearer {test_key}"})
        one_test = await http.get(
            f"{path}/{NUMBER}", headers={"Authorization": f"Bearer {test_key}"}
        )
    assert live.status_code == 200
    assert [n["e164"] for n in live.json()["data"]] == [NUMBER]
    assert live.json()["pagination"]["total"] == 1
    assert test.status_code == 200
    assert test.json()["data"] == [] and test.json()["pagination"]["total"] == 0
    assert one_test.status_code == 404
