"""Smoke test of the benchmark's data generator, at 2,000 numbers on SQLite.

The full benchmark (``bench/run.sh``) is not part of the test suite; this only keeps its
generator loading what it says it loads into a database migrated by the project.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import phonenumbers
from bench.common import Target
from bench.generate import build_dataset, load_sqlite


def test_generator_loads_the_numbers_it_promises_into_a_migrated_sqlite(tmp_path: Path) -> None:
    dataset = build_dataset(2_000, seed=7)
    target = Target("sqlite", f"sqlite:///{tmp_path / 'bench.sqlite3'}")

    load_sqlite(dataset, target, keep_indexes=False, keep_foreign_keys=False)

    conn = sqlite3.connect(target.sqlite_path)
    owned = conn.execute("SELECT count(*), count(DISTINCT e164) FROM numbers").fetchone()
    assert owned == (2_000, 2_000)
    assert conn.execute("SELECT count(*) FROM inventory_numbers").fetchone()[0] == 500
    in_both = conn.execute(
        "SELECT count(*) FROM numbers JOIN inventory_numbers USING (e164)"
    ).fetchone()[0]
    assert in_both == 0
    by_account = dict(conn.execute("SELECT account_id, count(*) FROM numbers GROUP BY 1"))
    assert by_account[dataset.big.id] == 1_000
    assert dataset.buyer.id not in by_account
    assert conn.execute("SELECT sum(total) FROM number_counts").fetchone()[0] == 2_000
    statuses = dict(conn.execute("SELECT status, count(*) FROM numbers GROUP BY 1"))
    assert set(statuses) <= {"active", "pending", "suspended", "released"}
    assert statuses["active"] > 1_700
    routed = conn.execute(
        "SELECT count(*) FROM numbers n WHERE n.trunk_id IN (SELECT id FROM trunks "
        "WHERE account_id = n.account_id) OR n.application_id IN (SELECT id FROM applications "
        "WHERE account_id = n.account_id)"
    ).fetchone()[0]
    assert 800 < routed < 1_200
    assert conn.execute(
        "SELECT count(*) FROM numbers WHERE updated_at < created_at"
    ).fetchone() == (0,)
    for (e164,) in conn.execute("SELECT e164 FROM numbers ORDER BY random() LIMIT 200"):
        assert phonenumbers.is_valid_number(phonenumbers.parse(e164))
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()
