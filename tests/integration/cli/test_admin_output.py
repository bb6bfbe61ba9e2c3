"""``vox admin …`` prints what it did as a table, JSON or CSV (``--output``), like the user
commands; a list piped defaults to JSON, and a table piped is never cut to 80 columns."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from tests.api.support import own
from tests.factories import US_NUMBERS, make_tenant
from tests.integration.cli.conftest import Vox
from voxnumbers.db.engine import Database
from voxnumbers.kit.clock import utc_now

NUMBER = US_NUMBERS[0]


def ok(vox: Vox, *args: str) -> str:
    result = vox(*args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def test_accounts_and_keys_in_every_format(vox: Vox) -> None:
    account_id = ok(vox, "admin", "accounts", "create", "--name", "Acme").strip()
    assert account_id.startswith("acc_")  # plain, for scripts: ACC=$(vox admin accounts create …)
    other = json.loads(ok(vox, "admin", "accounts", "create", "--name", "B", "--output", "json"))
    assert (other["name"], other["status"]) == ("B", "active")
    assert other["created_at"].endswith("Z")

    listed = json.loads(ok(vox, "admin", "accounts", "list"))  # piped: JSON
    # Created in the same second: their order between them is the id's, not creation's.
    assert sorted((a["id"], a["name"]) for a in listed) == sorted(
        [(account_id, "Acme"), (other["id"], "B")]
    )
    printed = ok(vox, "admin", "accounts", "list", "--output", "csv")
    rows = list(csv.DictReader(io.StringIO(printed)))
    assert [r["id"] for r in rows] == [a["id"] for a in listed]
    assert list(rows[0]) == ["id", "name", "status", "created_at"]

    issued = json.loads(
        ok(vox, "admin", "keys", "create", "--account", account_id, "--test", "--output", "json")
    )
    assert issued["secret"].startswith("tvx_sk_test_") and issued["mode"] == "test"
    assert issued["account_id"] == account_id and issued["revoked_at"] is None
    plain = ok(vox, "admin", "keys", "create", "--account", account_id).splitlines()[0]
    assert plain.startswith("tvx_sk_live_")

    keys = json.loads(ok(vox, "admin", "keys", "list", "--account", account_id))
    assert issued["id"] in {k["id"] for k in keys} and len(keys) == 2
    assert all("secret" not in k for k in keys)

    revoked = json.loads(ok(vox, "admin", "keys", "revoke", issued["id"], "--output", "json"))
    assert revoked["id"] == issued["id"] and revoked["revoked_at"] is not None


def test_a_piped_table_is_not_cut_to_80_columns(vox: Vox) -> None:
    account_id = ok(vox, "admin", "accounts", "create", "--name", "Wide").strip()
    for _ in range(3):
        ok(vox, "admin", "keys", "create", "--account", account_id)
    keys = json.loads(ok(vox, "admin", "keys", "list", "--account", account_id))
    table = ok(vox, "admin", "keys", "list", "--account", account_id, "--output", "table")
    lines = table.splitlines()
    assert len(lines) == 1 + len(keys)  # a header and one line per key: nothing wrapped
    assert max(len(line) for line in lines) > 80
    for key, line in zip(keys, lines[1:], strict=True):
        cells = line.split()
        assert cells[:4] == [key["id"], account_id, key["hint"], key["mode"]]
        assert key["created_at"] in cells


def test_number_transitions_and_the_sweep_as_json(vox: Vox) -> None:
    async def _own(database: Database) -> None:
        tenant = await make_tenant(database)
        await own(database, tenant, NUMBER, status="pending")
        await own(
            database,
            tenant,
            US_NUMBERS[1],
            status="released",
            available_after=utc_now() - timedelta(seconds=1),
        )

    vox.on_database(_own)
    number = json.loads(ok(vox, "admin", "numbers", "activate", NUMBER, "--output", "json"))
    assert (number["e164"], number["status"]) == (NUMBER, "active")
    assert list(number)[:2] == ["e164", "country"] and number["monthly_fee"] == 1.25
    swept = ok(vox, "admin", "numbers", "sweep", "--output", "csv")
    assert swept == "returned\n1\n"
