"""``vox admin operator-tokens``: a token printed once and stored hashed, listed by hint,
revoked; and what operator commands change is in the audit log as the system's (``cli``)."""

from __future__ import annotations

import json

from sqlalchemy import select

from tests.factories import make_tenant
from tests.integration.cli.conftest import Vox
from voxnumbers.admin import service as admin
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import audit_log, operator_tokens
from voxnumbers.kit.apikeys import digest_key


def _rows(vox: Vox, table):
    async def _read(database: Database):
        async with database.transaction(write=False) as conn:
            return [dict(r._mapping) for r in await conn.execute(select(table))]

    return vox.on_database(_read)


def test_create_prints_the_token_once_and_stores_its_digest(vox: Vox) -> None:
    result = vox("admin", "operator-tokens", "create", "--name", "ops")
    assert result.exit_code == 0, result.output
    token = result.stdout.splitlines()[0]
    assert token.startswith("tvx_op_")
    [row] = _rows(vox, operator_tokens)
    assert row["digest"] == digest_key(token)
    assert row["name"] == "ops"

    listed = vox("admin", "operator-tokens", "list", "--output", "json")
    assert listed.exit_code == 0, listed.output
    [item] = json.loads(listed.stdout)
    assert item["id"] == row["id"] and item["hint"] == f"tvx_op_…{token[-4:]}"
    assert token not in listed.stdout


def test_revoke_refuses_the_token_from_then_on(vox: Vox) -> None:
    created = json.loads(
        vox("admin", "operator-tokens", "create", "--name", "ci", "--output", "json").stdout
    )
    result = vox("admin", "operator-tokens", "revoke", created["id"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"revoked {created['id']} ({created['hint']})"

    async def _authenticate(database: Database) -> str:
        async with database.transaction(write=False) as conn:
            try:
                await admin.authenticate_operator(conn, f"Bearer {created['token']}")
            except Exception as exc:
                return type(exc).__name__
        return "accepted"

    assert vox.on_database(_authenticate) == "Unauthorized"
    unknown = vox("admin", "operator-tokens", "revoke", "opt_nope")
    assert unknown.exit_code == 1
    assert "No operator token 'opt_nope'" in unknown.stderr


def test_an_empty_name_is_refused(vox: Vox) -> None:
    result = vox("admin", "operator-tokens", "create", "--name", " ")
    assert result.exit_code == 1
    assert "name" in result.stderr


def test_operator_commands_are_audited_as_the_system_and_never_with_a_secret(vox: Vox) -> None:
    tenant = vox.on_database(make_tenant)
    created = vox("admin", "keys", "create", "--account", tenant.account_id)
    assert created.exit_code == 0, created.output
    secret = created.stdout.splitlines()[0]
    token = vox("admin", "operator-tokens", "create", "--name", "ops").stdout.splitlines()[0]

    entries = [e for e in _rows(vox, audit_log) if e["actor_id"] == "cli"]
    assert [(e["actor_type"], e["action"]) for e in entries] == [
        ("system", "key.created"),
        ("system", "operator_token.created"),
    ]
    assert entries[0]["changes"]["secret"] == [None, "[redacted]"]
    assert entries[1]["changes"]["token"] == [None, "[redacted]"]
    everything = json.dumps(_rows(vox, audit_log), default=str)
    assert secret not in everything and token not in everything
