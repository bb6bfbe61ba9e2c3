"""The audit log under ``kill -9``: the API server is killed with SIGKILL while clients
write, then started again; every acknowledged write has its audit entry (written in the
write's own transaction), and no write that was not committed has one."""

from __future__ import annotations

import asyncpg
import pytest
from bench.fault.scenario import Deployment, run_scenario
from bench.fault.server import ServerProcess

from tests.faults.support import assert_nothing_acknowledged_was_lost

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.postgres]


async def test_every_acknowledged_write_has_its_audit_entry_after_kill_9(
    deployment: Deployment, server: ServerProcess
) -> None:
    result = await run_scenario(deployment, [server], ["kill-9"])
    assert_nothing_acknowledged_was_lost(result)

    acknowledged = {(p.e164, p.tenant.account_id) for p in result.load.acknowledged}
    stocked = [p.e164 for p in result.load.purchases]
    connection = await asyncpg.connect(deployment.cluster.dsn)
    try:
        rows = await connection.fetch(
            "SELECT object_id, account_id, actor_type, actor_id, request_id, changes"
            " FROM audit_log WHERE action = 'number.purchased' AND object_id = ANY($1::text[])",
            stocked,
        )
        keys = {
            row["id"]: row["account_id"]
            for row in await connection.fetch("SELECT id, account_id FROM api_keys")
        }
    finally:
        await connection.close()

    audited = [(row["object_id"], row["account_id"]) for row in rows]
    assert len(acknowledged) > 0
    # Each acknowledged purchase has exactly one entry; nothing else bought has any.
    assert sorted(audited) == sorted(acknowledged)
    for row in rows:
        assert row["actor_type"] == "key"
        assert keys[row["actor_id"]] == row["account_id"]  # the buyer's own key
        assert row["request_id"]
