"""The benchmark's reading of a py-spy profile (``bench/profile.py``), on a synthetic one.

No py-spy here: the raw format is what ``py-spy record --format raw --threads`` writes, one
stack a line, root first, then the number of samples.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest
from bench.profile import (
    AUTHENTICATION,
    CATEGORIES,
    DRIVER,
    JSON,
    LITESTAR,
    LOOP,
    OTHER,
    RATE,
    ROWS,
    SERVICE,
    SQLALCHEMY,
    ServerProfile,
    aggregate,
)
from bench.run import (
    DatabaseRun,
    Measure,
    Scenario,
    ScenarioResult,
    _profile_section,
    _run_from_dict,
)

MAIN = "thread (101): MainThread"
START = ";".join(
    [
        "<module> (vox:6)",
        "serve (voxnumbers/cli/serve.py:55)",
        "BaseEventLoop.run_forever (asyncio/base_events.py:607)",
        "BaseEventLoop._run_once (asyncio/base_events.py:1922)",
    ]
)
REQUEST = ";".join(
    [
        START,
        "Handle._run (asyncio/events.py:80)",
        "RequestIdMiddleware.__call__ (voxnumbers/web/requestid.py:86)",
        "ASGIRouter.__call__ (litestar/_asgi/asgi_router.py:96)",
    ]
)
LIST = f"{REQUEST};list_numbers (voxnumbers/numbers/repository.py:226)"
GREENLET = "Connection.execute (sqlalchemy/engine/base.py:1494)"

RAW = [
    # authentication, inclusive: its SQLAlchemy and driver frames count for it
    f"{MAIN};{REQUEST};authorize_request (voxnumbers/accounts/guards.py:33);"
    "require_api_key (voxnumbers/accounts/guards.py:46);"
    "AsyncConnection.execute (sqlalchemy/ext/asyncio/engine.py:667) 10",
    # a greenlet of SQLAlchemy: no caller frames, the driver at the leaf
    f"{MAIN};{GREENLET};InlineCursor.fetchall (voxnumbers/db/inline.py:136) 20",
    f"{MAIN};{GREENLET};LRUCache.get (sqlalchemy/util/_collections.py:504) 15",
    # no Python frame on the loop's thread: a greenlet switch
    f"{MAIN} 5",
    # row conversion: a repository's comprehension and what it calls
    f"{MAIN};{LIST};list_numbers.<locals>.<listcomp> (voxnumbers/numbers/repository.py:226);"
    "Timestamp.process_result_value (voxnumbers/db/engine.py:95) 12",
    f"{MAIN};{LIST};list_numbers.<locals>.<listcomp> (voxnumbers/numbers/repository.py:226) 3",
    # JSON encoding
    f"{MAIN};{REQUEST};JsonResponse.render (voxnumbers/web/json.py:30);"
    "encode_json (voxnumbers/kit/jsonc.py:17) 5",
    # Litestar, with a stdlib module working for it
    f"{MAIN};{REQUEST};Litestar._wrap_send (litestar/app.py:924);copy (copy.py:92) 7",
    # asyncio's timer set by asyncpg counts for the driver, its socket transport too
    f"{MAIN};{START};Handle._run (asyncio/events.py:80);"
    "PreparedStatement.__do_execute (asyncpg/prepared_stmt.py:257);"
    "BaseEventLoop.call_later (asyncio/base_events.py:727);"
    "BaseEventLoop.call_at (asyncio/base_events.py:747) 4",
    f"{MAIN};{START};Handle._run (asyncio/events.py:80);"
    "_SelectorSocketTransport._read_ready__data_received (asyncio/selector_events.py:1009) 6",
    # the loop's own dispatching
    f"{MAIN};{START};EpollSelector.select (selectors.py:468) 4",
    # the service's own code
    f"{MAIN};{LIST};utc_now (voxnumbers/kit/clock.py:10) 9",
    # other threads: Granian's, idle or not, never count
    "thread (102) 500",
    "thread (103): Thread-1;AbstractWorker._watcher (granian/server/common.py:59) 40",
    "",
]


def test_samples_of_the_loop_thread_fall_into_the_categories_of_their_layer() -> None:
    result = aggregate(RAW)

    assert result.thread == 101
    assert result.samples == 100
    assert result.categories == {
        DRIVER: 20 + 4 + 6,
        SQLALCHEMY: 15 + 5,
        AUTHENTICATION: 10,
        ROWS: 12 + 3,
        JSON: 5,
        SERVICE: 9,
        LITESTAR: 7,
        LOOP: 4,
        OTHER: 0,
    }
    assert result.share(DRIVER) == pytest.approx(0.30)
    assert result.detached == 20 + 15 + 5


def test_the_projects_functions_rank_by_inclusive_samples_without_the_workers_start() -> None:
    result = aggregate(RAW, top=4)

    assert result.functions == [
        ("RequestIdMiddleware.__call__ (voxnumbers/web/requestid.py)", 10 + 15 + 5 + 7 + 9, 0),
        ("list_numbers (voxnumbers/numbers/repository.py)", 15 + 9, 0),
        ("InlineCursor.fetchall (voxnumbers/db/inline.py)", 20, 20),
        ("list_numbers.<locals>.<listcomp> (voxnumbers/numbers/repository.py)", 15, 3),
    ]
    assert not any("cli/serve.py" in name for name, _, _ in aggregate(RAW, top=100).functions)


def test_the_reads_on_the_driver_count_for_the_driver_and_their_rows_for_row_conversion():
    fetch = f"{MAIN};{LIST};fetch_all (voxnumbers/db/direct.py:150)"
    result = aggregate(
        [
            f"{fetch};_Statement.arguments (voxnumbers/db/direct.py:60) 2",
            f"{fetch};InlineConnection.fetch_all (voxnumbers/db/inline.py:70) 5",
            f"{fetch};_Statement.rows (voxnumbers/db/direct.py:75);"
            "_datetime_of_unix_seconds (voxnumbers/db/engine.py:70) 4",
        ]
    )

    assert (result.categories[DRIVER], result.categories[ROWS]) == (2 + 5, 4)


def test_reference_d_samples_fall_into_the_same_categories() -> None:
    app = (
        f"{MAIN};{START};Handle._run (asyncio/events.py:80);"
        "make_app.<locals>.app (bench/reference_direct.py:290)"
    )
    body = f"{app};body_of (bench/reference_direct.py:150)"
    result = aggregate(
        [
            f"{app};PostgresRunner.rows (bench/reference_direct.py:230);"
            "Connection.fetch (asyncpg/connection.py:690) 6",
            f"{app};SqliteRunner.rows (bench/reference_direct.py:200) 3",
            f"{body};number_of (bench/reference_direct.py:120);"
            "_unix (bench/reference_direct.py:110) 4",
            f"{body} 2",
            f"{app} 1",
        ]
    )

    assert result.categories[DRIVER] == 6 + 3
    assert (result.categories[ROWS], result.categories[JSON]) == (4, 2)
    assert (result.categories[LOOP], result.categories[SERVICE]) == (1, 0)


def test_without_thread_labels_only_the_stacks_of_the_loop_count() -> None:
    unlabelled = [line.removeprefix(f"{MAIN};") for line in RAW if line.startswith(MAIN + ";")]

    result = aggregate([*unlabelled, "500", f"{GREENLET} 7"])

    assert result.thread is None
    assert result.samples == 100 - 20 - 15 - 5
    assert result.detached == 0


def test_a_profile_without_the_loop_has_no_sample() -> None:
    result = aggregate(["thread (102) 500", "thread (103): Thread-1;x (y.py:1) 3"])

    assert result.samples == 0
    assert result.functions == []


def test_the_report_section_survives_the_results_json_and_adds_up_to_cpu_per_request() -> None:
    scenario = Scenario("big-p1-no filter-20", "big: page 1, no filter, per_page=20", "big", "list")
    measured = Measure(requests=400, seconds=4.0, rps=100.0, p50_ms=9.0, p99_ms=20.0, errors=0)
    measured.cpu_ms = 10.0
    aggregated = aggregate(RAW)
    found = ServerProfile(
        scenario.key,
        seconds=8,
        rate=RATE,
        raw="bench/out/profiles/sqlite-big_p1_no_filter_20.txt",
        samples=aggregated.samples,
        categories=aggregated.categories,
        functions=[list(f) for f in aggregated.functions],
        detached=aggregated.detached,
        loop_cpu_share=0.9,
    )
    run = DatabaseRun(
        "sqlite", {}, [ScenarioResult(scenario, service=measured)], 100.0, {}, "1.0", 60.0
    )
    run.profiles = [found]

    again = _run_from_dict(json.loads(json.dumps(asdict(run))))
    lines = _profile_section(again, again.profiles[0])

    assert lines[0] == (
        "### Where the server's CPU goes (py-spy, big: page 1, no filter, per_page=20, 100 samples)"
    )
    rows = {line.split(" | ")[0].removeprefix("| "): line for line in lines if line[:2] == "| "}
    assert rows[DRIVER] == f"| {DRIVER} | 30.0% | 2.70 |"  # 30% of 90% of 10
    assert rows[OTHER] == f"| {OTHER} | 0.0% | 0.00 |"
    granian = next(line for line in lines if line.startswith("| Granian's other threads"))
    assert granian.endswith("| 1.00 |")
    assert all(category in rows for category in CATEGORIES)
    assert "| `utc_now` (kit/clock.py) | 9.0% | 9.0% |" in lines


def test_an_old_results_json_without_profiles_still_renders() -> None:
    scenario = Scenario("big-get", "big: get one number", "big", "get")
    run = DatabaseRun("sqlite", {}, [ScenarioResult(scenario)], 100.0, {}, "1.0", 60.0)
    raw = asdict(run)
    del raw["profiles"]

    assert _run_from_dict(raw).profiles == []
