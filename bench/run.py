"""The benchmark in one command: data, servers, wrk, references, ``bench/RESULTS.md``.

    bench/run.sh                                   # both databases, 2,000,000 numbers
    bench/run.sh --numbers 20000 --duration 3      # a quick look at small scale

For each database: generate the data if it is not there (``bench.generate``), start the
server pinned to one core (``taskset -c 1 vox serve --no-demo``, one worker) and run each
scenario with wrk pinned to the other core: a warm-up, a measurement with ``--connections``
connections (requests/s, p50/p99, server CPU per request from /proc, RSS), and a short
one-connection run for the unloaded latency. Then the references, in the same invocation:
(a) a bare ASGI app answering the same bytes from memory on the same Granian, (b) the
database alone running the SQL the service ran for the request, (c) a naive ORM
implementation (``bench/naive_app.py``), (d) a plain ASGI app on the same Granian running the
statements of (b) with the service's driver and answering the service's bytes
(``bench/reference_direct.py``). Last, the import of a CSV of N/2 numbers with
``vox admin inventory import`` into a fresh copy of the database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pickle
import platform
import random
import re
import resource
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import asyncpg
import httpx

from bench import dbref, profile
from bench.common import (
    BENCH,
    LOAD_CORE,
    OUT,
    POSTGRES_ADMIN_URL,
    ROOT,
    SERVER_CORE,
    VENV_BIN,
    Target,
    state_of,
    target,
)
from bench.profile import ServerProfile
from bench.reference_direct import Plan, Route
from voxnumbers.kit.cursor import decode_cursor

LUA = BENCH / "wrk" / "bench.lua"
RESULTS = BENCH / "RESULTS.md"
CLK_TCK = os.sysconf("SC_CLK_TCK")
DASH = "\u2013"  # an empty cell
X = "\u00d7"  # times
SERVICE_PORT, ASGI_PORT, NAIVE_PORT, DIRECT_PORT = 8731, 8732, 8733, 8734
SEED_FILTERS: list[dict[str, str]] = [{}, {"country": "US"}, {"country": "US", "status": "active"}]
PURCHASES_PER_SECOND_BUDGET = 1500  # inventory numbers set aside per second of purchase run
# Scenarios profiled with py-spy after a database's measurements (``--profile-seconds``)
PROFILED = ("big-p1-country=US&status=active-100", "big-p1-no filter-20", "big-p1-no filter-100")

# Targets of the issue (value, description)
BIG_VS_SMALL = 0.8
BIG_VS_NAIVE = 20.0
PAGE_P50_MS = 25.0
CURSOR_VS_PAGE1 = 1.5
RSS_MB = 250.0
IMPORT_SECONDS = 90.0
CONSOLE_VS_API = 2.0  # the console's numbers page: server time at most 2x the API's page 1
VS_DIRECT = 0.7  # the big account's page 1 (100, no filter): req/s at least 0.7x reference (d)
VS_DIRECT_PAGE = "big-p1-no filter-100"  # profiled on reference (d) too
# Scenarios whose statements (b) replays and (d) answers from: reads of the numbers API
REPLAYED_KINDS = ("list", "deep", "cursor", "get")
CONSOLE_PAGE, CONSOLE_API_PAGE = "big-console-p1-20", "big-p1-no filter-20"


# -- scenarios --------------------------------------------------------------------------


@dataclass
class Scenario:
    key: str
    title: str
    role: str  # big, small or buyer
    kind: str  # list, deep, cursor, get, purchase or console
    query: dict[str, str] = field(default_factory=dict)
    method: str = "GET"
    target: str = ""  # "/path?query" once resolved
    supported: bool = True
    note: str = ""
    cookie: str = ""  # the console's session cookie, once signed in


def _filter_label(query: dict[str, str]) -> str:
    parts = [f"{k}={v}" for k, v in query.items() if k in ("country", "status")]
    return "&".join(parts) or "no filter"


def scenarios() -> list[Scenario]:
    found: list[Scenario] = []
    for role in ("big", "small"):
        for filters in SEED_FILTERS:
            for per_page in (20, 100):
                query = {**filters, "per_page": str(per_page)}
                found.append(
                    Scenario(
                        key=f"{role}-p1-{_filter_label(filters)}-{per_page}",
                        title=f"{role}: page 1, {_filter_label(filters)}, per_page={per_page}",
                        role=role,
                        kind="list",
                        query=query,
                    )
                )
    for filters in SEED_FILTERS:
        found.append(
            Scenario(
                key=f"big-last-{_filter_label(filters)}-100",
                title=f"big: last page by number, {_filter_label(filters)}, per_page=100",
                role="big",
                kind="deep",
                query={**filters, "per_page": "100"},
            )
        )
    found.append(
        Scenario(
            key="big-cursor-last-100",
            title="big: last page by cursor, no filter, per_page=100",
            role="big",
            kind="cursor",
            query={"per_page": "100"},
        )
    )
    found.append(Scenario(key="big-get", title="big: get one number", role="big", kind="get"))
    found.append(
        Scenario(
            key=CONSOLE_PAGE,
            title="big: console numbers page 1, no filter, 20 rows (HTML)",
            role="big",
            kind="console",
            query={"per_page": "20"},
        )
    )
    found.append(
        Scenario(
            key="buyer-purchase",
            title="purchase from inventory (buyer account)",
            role="buyer",
            kind="purchase",
            method="POST",
        )
    )
    return found


# -- processes and /proc ----------------------------------------------------------------


def _tree(pid: int) -> list[int]:
    """The process and its descendants."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                queue.extend(int(c) for c in children)
    return found


def _cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each process still there."""
    found = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            found[pid] = (int(stat[11]) + int(stat[12])) / CLK_TCK  # utime, stime
    return found


def _cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two readings (processes that appeared in between count from 0)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def _status_kb(pid: int, field_name: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLK_TCK, sum(values) / CLK_TCK


def _own_cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


class Server:
    """A server process pinned to the server core, with its CPU time and memory."""

    def __init__(
        self, name: str, port: int, argv: list[str], env: dict[str, str], app_name: str = ""
    ):
        self.name = name
        self.port = port
        self.argv = ["taskset", "-c", str(SERVER_CORE), *argv]
        self.env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
        self.app_name = app_name  # PostgreSQL application_name of its connections
        self.database = ""  # and the database they are on (PostgreSQL only)
        self.process: subprocess.Popen[bytes] | None = None
        self.log = OUT / "logs" / f"{name}.log"

    def start(self, ready_path: str) -> None:
        self._refuse_taken_port()
        self.log.parent.mkdir(parents=True, exist_ok=True)
        handle = self.log.open("wb")
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited at start:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"http://127.0.0.1:{self.port}{ready_path}", timeout=2)
                return
            time.sleep(0.3)
        self.stop()
        raise SystemExit(f"{self.name} did not answer within 90 s")

    def _refuse_taken_port(self) -> None:
        """Stop the run if something already answers on this server's port: a server left
        by an interrupted run would be measured in place of this one."""
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", self.port)) != 0:
                return
        holder = ""
        with contextlib.suppress(OSError):
            listing = ["ss", "-Hltnp", f"sport = :{self.port}"]
            holder = subprocess.run(listing, capture_output=True, text=True).stdout.strip()
        raise SystemExit(
            f"port {self.port} of the {self.name} server is taken"
            + (f" ({holder})" if holder else "")
            + "; stop what holds it (a server of an earlier run?) and run again"
        )

    def pids(self) -> list[int]:
        assert self.process is not None
        return _tree(self.process.pid)

    def rss_mb(self) -> float:
        """Resident memory of the largest process of the server (its worker), now."""
        return max(_status_kb(pid, "VmRSS") for pid in self.pids()) / 1024

    def peak_rss_mb(self) -> float:
        return max(_status_kb(pid, "VmHWM") for pid in self.pids()) / 1024

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # The group is the one this harness created for the server (start_new_session).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


# -- PostgreSQL backends ----------------------------------------------------------------


def _pg(query: str, *args: Any, url: str = POSTGRES_ADMIN_URL) -> list[Any]:
    async def _run() -> list[Any]:
        conn = await asyncpg.connect(url)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    return asyncio.run(_run())


def _backends(app_name: str, database: str) -> list[int]:
    """PostgreSQL backends serving the server, pinned to the server's core: the service and
    its database share one core, the load generator has the other."""
    if not app_name or not database:
        return []
    rows = _pg(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = $2",
        app_name,
        database,
    )
    pids = [row["pid"] for row in rows]
    niceness = os.getpriority(os.PRIO_PROCESS, 0)
    for pid in pids:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(pid, {SERVER_CORE})
            # Run under ``nice -n -10`` on a shared machine, the backends serving the
            # measured server take the same priority as the rest of the benchmark.
            os.setpriority(os.PRIO_PROCESS, pid, niceness)
    return pids


# -- wrk --------------------------------------------------------------------------------


@dataclass
class Measure:
    requests: int
    seconds: float
    rps: float
    p50_ms: float | None  # None when no request completed
    p99_ms: float | None
    errors: int  # non-2xx/3xx answers, socket errors and timeouts
    cpu_ms: float | None = None  # server process CPU per request
    db_cpu_ms: float | None = None  # PostgreSQL backends' CPU per request
    rss_mb: float | None = None  # largest resident size sampled during the run
    others_cpu: float | None = None  # share of the machine used by other processes


def wrk(url: str, seconds: float, connections: int, env: dict[str, str]) -> Measure:
    command = [
        "taskset",
        "-c",
        str(LOAD_CORE),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(LUA),
        url,
    ]
    result = subprocess.run(
        command,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=seconds + 90,
        check=False,
    )
    for line in result.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line.removeprefix("BENCH_JSON "))
            elapsed = data["duration_us"] / 1e6
            errors = sum(
                data[k]
                for k in ("connect_errors", "read_errors", "write_errors", "non_2xx", "timeouts")
            )
            return Measure(
                requests=data["requests"],
                seconds=elapsed,
                rps=data["requests"] / elapsed if elapsed else 0.0,
                p50_ms=data["p50_us"] / 1000 if data["requests"] else None,
                p99_ms=data["p99_us"] / 1000 if data["requests"] else None,
                errors=errors,
            )
    raise SystemExit(f"wrk failed: {shlex.join(command)}\n{result.stdout}\n{result.stderr}")


class Runner:
    """Runs scenarios against one server and measures the server while wrk runs."""

    def __init__(self, args: argparse.Namespace, server: Server):
        self.args = args
        self.server = server

    def settle(self, timeout: float = 120.0) -> None:
        """Wait until the server (and its database backends) stop working on requests a
        previous run left in flight: a slow request wrk gave up on still runs to its end,
        and must not be counted in the next measurement."""
        backends = _backends(self.server.app_name, self.server.database)

        def busy() -> float:
            pids = self.server.pids() + backends
            return sum(_cpu_by_pid(pids).values())

        deadline = time.monotonic() + timeout
        last = busy()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now = busy()
            if now - last < 0.025:  # under 10% of a core
                return
            last = now

    def run(self, scenario: Scenario, env: dict[str, str], numbers: list[Path]) -> Measure:
        """Warm-up, then the measurement with CPU and memory accounting."""
        url = f"http://127.0.0.1:{self.server.port}{scenario.target}"
        args = self.args
        self.settle()
        if numbers:
            env = {**env, "BENCH_NUMBERS": str(numbers.pop(0))}
        wrk(url, args.warmup, args.connections, env)
        self.settle()
        if numbers:
            env = {**env, "BENCH_NUMBERS": str(numbers.pop(0))}
        backends = _backends(self.server.app_name, self.server.database)
        cpu_before = _cpu_by_pid(self.server.pids())
        db_before = _cpu_by_pid(backends)
        busy_before, _ = _machine_busy()
        own_before = _own_cpu()
        started = time.monotonic()
        sampler = _RssSampler(self.server)
        sampler.start()
        try:
            measure = wrk(url, args.duration, args.connections, env)
        finally:
            sampler.stop()
        elapsed = time.monotonic() - started
        server_cpu = _cpu_used(cpu_before, _cpu_by_pid(self.server.pids()))
        backends_after = _backends(self.server.app_name, self.server.database)
        db_cpu = _cpu_used(db_before, _cpu_by_pid(backends_after))
        busy_after, _ = _machine_busy()
        ours = server_cpu + db_cpu + (_own_cpu() - own_before)
        ncpu = os.cpu_count() or 1
        others = (busy_after - busy_before - ours) / (elapsed * ncpu)
        measure.others_cpu = min(1.0, max(0.0, others))
        if measure.requests:
            measure.cpu_ms = server_cpu * 1000 / measure.requests
            measure.db_cpu_ms = db_cpu * 1000 / measure.requests if backends_after else None
        measure.rss_mb = sampler.peak
        return measure

    def burst(self, scenario: Scenario, env: dict[str, str]) -> float:
        """Requests/s of one short measurement (``--pair-seconds``), warm already."""
        url = f"http://127.0.0.1:{self.server.port}{scenario.target}"
        self.settle()
        return wrk(url, self.args.pair_seconds, self.args.connections, env).rps

    def unloaded(self, scenario: Scenario, env: dict[str, str], numbers: list[Path]) -> Measure:
        """One connection: the latency of a request when nothing waits in line."""
        if numbers:
            env = {**env, "BENCH_NUMBERS": str(numbers.pop(0))}
        url = f"http://127.0.0.1:{self.server.port}{scenario.target}"
        self.settle()
        return wrk(url, self.args.latency_duration, 1, env)


class _RssSampler(threading.Thread):
    def __init__(self, server: Server):
        super().__init__(daemon=True)
        self.server = server
        self.peak = 0.0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            with contextlib.suppress(Exception):
                self.peak = max(self.peak, self.server.rss_mb())
            self.stopping.wait(0.25)

    def stop(self) -> None:
        self.stopping.set()
        self.join()
        with contextlib.suppress(Exception):
            self.peak = max(self.peak, self.server.rss_mb())


# -- one database -----------------------------------------------------------------------


@dataclass
class ScenarioResult:
    scenario: Scenario
    service: Measure | None = None
    unloaded: Measure | None = None
    asgi: Measure | None = None
    naive: Measure | None = None
    naive_unloaded: Measure | None = None
    direct: Measure | None = None
    db: dict[str, Any] | None = None
    sql: list[str] = field(default_factory=list)
    # Big list scenarios: req/s over the small account's twin in each alternating pair
    # (``--pairs``), the two measured back to back.
    paired_vs_small: list[float] = field(default_factory=list)

    def vs_small(self, small: ScenarioResult | None) -> float | None:
        """The big scenario's req/s over its small twin's: the median of the alternating
        pairs when measured, else the ratio of the two scenarios' own measurements."""
        if self.paired_vs_small:
            return statistics.median(self.paired_vs_small)
        if small and small.service and small.service.rps and self.service:
            return self.service.rps / small.service.rps
        return None


@dataclass
class DatabaseRun:
    kind: str
    state: dict[str, Any]
    results: list[ScenarioResult]
    server_peak_rss_mb: float
    import_result: dict[str, Any]
    version: str
    seconds: float
    profiles: list[ServerProfile] = field(default_factory=list)
    # The list's ratios in each of the invocation's consecutive runs (``--runs``), the last
    # one being this run: [{"big title": {"vs_small": x, "vs_naive": y}}, ...].
    list_ratios: list[dict[str, dict[str, float | None]]] = field(default_factory=list)


def list_ratios(results: list[ScenarioResult]) -> dict[str, dict[str, float | None]]:
    """Each big-account list scenario's req/s over the small account's and over naive (c)."""
    ratios: dict[str, dict[str, float | None]] = {}
    by_key = {r.scenario.key: r for r in results}
    for r in results:
        if r.scenario.role != "big" or r.scenario.kind != "list" or not r.service:
            continue
        small = by_key.get(r.scenario.key.replace("big-", "small-", 1))
        ratios[r.scenario.title] = {
            "vs_small": r.vs_small(small),
            "vs_naive": r.service.rps / r.naive.rps if r.naive and r.naive.rps else None,
        }
    return ratios


def run_database_repeatedly(kind: str, args: argparse.Namespace) -> DatabaseRun:
    """``--runs N``: the list scenarios alone N - 1 times, then the whole run; the report
    shows every scenario of the last run and the list's ratios in each of the N runs."""
    earlier = []
    for number in range(1, args.runs):
        print(f"[{kind}] run {number} of {args.runs}: the list scenarios", flush=True)
        lists_only = argparse.Namespace(
            **{**vars(args), "lists_only": True, "skip_import": True, "profile_seconds": 0}
        )
        earlier.append(list_ratios(run_database(kind, lists_only).results))
    if args.runs > 1:
        print(f"[{kind}] run {args.runs} of {args.runs}: every scenario", flush=True)
    run = run_database(kind, args)
    run.list_ratios = [*earlier, list_ratios(run.results)]
    return run


def ensure_data(kind: str, numbers: int, regenerate: bool) -> dict[str, Any]:
    """The state of the generated database, generating it when absent or stale."""
    from bench import generate

    state = state_of(kind, numbers)
    reason = ""
    if regenerate:
        reason = "--regenerate"
    elif state is None:
        reason = "no data yet"
    elif state.get("schema_head") != generate.schema_head():
        reason = f"schema moved from {state.get('schema_head')} to {generate.schema_head()}"
    elif not _database_exists(target(kind, numbers)):
        reason = "database missing"
    if reason:
        print(f"[{kind}] generating {numbers:,} numbers ({reason}) ...", flush=True)
        generate.generate([kind], numbers)
        state = state_of(kind, numbers)
    assert state is not None
    return state


def _database_exists(db_target: Target) -> bool:
    if db_target.kind == "sqlite":
        return db_target.sqlite_path.exists()
    rows = _pg("SELECT 1 FROM pg_database WHERE datname = $1", db_target.database_name)
    return bool(rows)


def _purchase_lists(db_target: Target, args: argparse.Namespace, tag: str) -> list[Path]:
    """Files of inventory numbers for the purchase runs, each with its own numbers: one
    number for fetching the response, then [warm-up, measurement, one connection] for the
    service and the same for the naive app. A small inventory is shared out in proportion
    (a run that exhausts its list wraps around and shows errors: 409 for numbers sold)."""
    seconds = (args.warmup, args.duration, args.latency_duration) * 2
    wanted = [int(PURCHASES_PER_SECOND_BUDGET * s) + 10 for s in seconds]
    query = "SELECT e164, country FROM inventory_numbers ORDER BY random() LIMIT "
    limit = str(1 + sum(wanted))
    if db_target.kind == "sqlite":
        with contextlib.closing(sqlite3.connect(db_target.sqlite_path)) as conn:
            rows = conn.execute(query + limit).fetchall()
    else:
        rows = [tuple(r) for r in _pg(query + limit, url=db_target.url)]
    share = min(1.0, (len(rows) - 1) / sum(wanted))
    sizes = [1] + [max(1, int(w * share)) for w in wanted]
    folder = OUT / "purchase"
    folder.mkdir(parents=True, exist_ok=True)
    files, start = [], 0
    for n, size in enumerate(sizes):
        path = folder / f"{tag}-{n}.txt"
        path.write_text("".join(f"{e},{c}\n" for e, c in rows[start : start + size]))
        files.append(path)
        start += size
    return files


def _resolve(
    scenarios_: list[Scenario],
    accounts: dict[str, Any],
    args: argparse.Namespace,
    purchase_file: Path,
) -> dict[str, tuple[int, list[tuple[bytes, bytes]], bytes]]:
    """Concrete request targets, and the real server's answer to each (for reference a)."""
    responses: dict[str, tuple[int, list[tuple[bytes, bytes]], bytes]] = {}
    client = httpx.Client(base_url=f"http://127.0.0.1:{SERVICE_PORT}", timeout=120)
    deep_e164 = ""
    for scenario in scenarios_:
        account = accounts[scenario.role]
        headers = {"Authorization": f"Bearer {account['key']}"}
        base = f"/v1/account/{account['account_id']}/numbers"
        if scenario.kind == "list":
            scenario.target = f"{base}?{urlencode(scenario.query)}"
        elif scenario.kind == "deep":
            first = client.get(base, params=scenario.query, headers=headers).json()
            last = max(1, first["pagination"]["total_pages"])
            scenario.target = f"{base}?{urlencode({**scenario.query, 'page': str(last)})}"
            scenario.note = f"page {last:,}"
        elif scenario.kind == "cursor":
            _resolve_cursor(client, scenario, base, headers, args.cursor_walk_seconds)
        elif scenario.kind == "get":
            scenario.target = f"{base}/{deep_e164}"
        elif scenario.kind == "console":
            scenario.cookie = _console_session(client, account["key"])
            scenario.target = f"/console/numbers?{urlencode(scenario.query)}"
            headers = {"Cookie": scenario.cookie}
        else:
            scenario.target = f"{base}/purchase-from-inventory"
        if not scenario.supported:
            continue
        if scenario.kind == "purchase":
            e164, country = purchase_file.read_text().split()[0].split(",")
            response = client.post(
                scenario.target, json={"e164": e164, "country": country}, headers=headers
            )
        else:
            response = client.get(scenario.target, headers=headers)
        if response.status_code >= 300:
            raise SystemExit(f"{scenario.title}: {response.status_code} {response.text[:500]}")
        if scenario.kind == "deep" and not deep_e164:
            data = response.json()["data"]
            deep_e164 = data[len(data) // 2]["e164"]
        skipped = {b"date", b"server", b"content-length", b"transfer-encoding", b"connection"}
        headers_out = [(k.lower(), v) for k, v in response.headers.raw if k.lower() not in skipped]
        headers_out.append((b"content-length", str(len(response.content)).encode()))
        responses[scenario.target] = (response.status_code, headers_out, response.content)
    client.close()
    return responses


def _resolve_cursor(
    client: httpx.Client,
    scenario: Scenario,
    base: str,
    headers: dict[str, str],
    walk_seconds: float,
) -> None:
    """The cursor of the last page, walking the list by cursor; unsupported on a 400."""
    params = {**scenario.query, "cursor": ""}
    response = client.get(base, params=params, headers=headers)
    if response.status_code == 400:
        scenario.supported = False
        scenario.note = "not supported (400 for `cursor`)"
        scenario.target = f"{base}?{urlencode(params)}"
        return
    response.raise_for_status()
    cursor, pages = "", 1
    deadline = time.monotonic() + walk_seconds
    while (following := response.json()["pagination"].get("next_cursor")) and (
        time.monotonic() < deadline
    ):
        response = client.get(base, params={**scenario.query, "cursor": following}, headers=headers)
        response.raise_for_status()
        cursor, pages = following, pages + 1
    total_pages = response.json()["pagination"].get("total_pages")
    last = not response.json()["pagination"].get("next_cursor")
    scenario.note = f"page {pages:,} reached by cursor" + ("" if last else f" of {total_pages:,}")
    scenario.target = f"{base}?{urlencode({**scenario.query, 'cursor': cursor})}"


def _console_session(client: httpx.Client, key: str) -> str:
    """Sign in to the console with ``key`` as a browser does; the session's Cookie header."""
    form = client.get("/console/sign-in")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    if token is None:
        raise SystemExit(f"console sign-in page: {form.status_code} {form.text[:300]}")
    signed_in = client.post(
        "/console/sign-in",
        data={"csrf": token[1], "api_key": key},
        cookies=form.cookies,
        follow_redirects=False,
    )
    session = signed_in.cookies.get("vox_console")
    if signed_in.status_code != 303 or not session:
        raise SystemExit(f"console sign-in: {signed_in.status_code} {signed_in.text[:300]}")
    client.cookies.clear()
    return f"vox_console={session}"


def _auth_env(accounts: dict[str, Any], scenario: Scenario) -> dict[str, str]:
    if scenario.kind == "console":
        return {"BENCH_COOKIE": scenario.cookie}
    return {"BENCH_AUTH": f"Bearer {accounts[scenario.role]['key']}"}


def run_database(kind: str, args: argparse.Namespace) -> DatabaseRun:
    """Every scenario on one database. The four servers run side by side (the idle ones
    cost nothing) so that each scenario's service figure and its references are measured
    minutes apart at most, under the same load from whoever else uses the machine."""
    started = time.monotonic()
    state = ensure_data(kind, args.numbers, args.regenerate)
    db_target = target(kind, args.numbers)
    accounts = state["accounts"]
    selected = [
        s
        for s in scenarios()
        if (not args.only or any(o in s.key for o in args.only))
        and (not getattr(args, "lists_only", False) or s.kind == "list")
    ]
    if not selected:
        keys = ", ".join(s.key for s in scenarios())
        raise SystemExit(f"no scenario's key contains {' or '.join(args.only)}; keys: {keys}")
    results = [ScenarioResult(s) for s in selected]
    profiles: list[ServerProfile] = []
    lists = _purchase_lists(db_target, args, kind)
    fetch_file, service_lists, naive_lists = lists[0], lists[1:4], lists[4:]

    service = Server(
        f"{kind}-service",
        SERVICE_PORT,
        [str(VENV_BIN / "vox"), "serve", "--no-demo"],
        _service_env(db_target, SERVICE_PORT),
        app_name="voxnumbers",
    )
    responses_file = OUT / f"responses-{kind}.pickle"
    asgi = Server(
        f"{kind}-asgi",
        ASGI_PORT,
        _granian("bench.reference_asgi:app_from_environment", ASGI_PORT),
        {"BENCH_RESPONSES": str(responses_file)},
    )
    naive = Server(
        f"{kind}-naive",
        NAIVE_PORT,
        _granian("bench.naive_app:app_from_environment", NAIVE_PORT),
        {"BENCH_DATABASE_URL": db_target.async_url},
        app_name="bench-naive",
    )
    direct_file = OUT / f"direct-{kind}.pickle"
    direct = Server(
        f"{kind}-direct",
        DIRECT_PORT,
        _granian("bench.reference_direct:app_from_environment", DIRECT_PORT),
        {"BENCH_DIRECT": str(direct_file)},
        app_name="bench-direct",
    )
    if kind == "postgresql":
        service.database = naive.database = direct.database = db_target.database_name
    try:
        service.start("/readyz")
        openapi = httpx.get(f"http://127.0.0.1:{SERVICE_PORT}/openapi.json").json()
        service_version = openapi["info"]["version"]
        responses = _resolve(selected, accounts, args, fetch_file)
        responses_file.write_bytes(pickle.dumps(responses))
        captured = {
            r.scenario.key: _capture(db_target, accounts, r)
            for r in results
            if r.scenario.supported and r.scenario.kind in REPLAYED_KINDS
        }
        direct_file.write_bytes(pickle.dumps(direct_plan(db_target, results, captured, responses)))
        asgi.start("/")
        naive.start("/")
        direct.start("/")
        answered_alike = _check_direct(kind, results, responses)
        on_service, on_asgi = Runner(args, service), Runner(_shorter(args), asgi)
        on_naive, on_direct = Runner(args, naive), Runner(_shorter(args), direct)
        for result in results:
            scenario = result.scenario
            if not scenario.supported:
                print(f"[{kind}] {scenario.title}: {scenario.note}", flush=True)
                continue
            env = _auth_env(accounts, scenario)
            purchase = scenario.kind == "purchase"
            result.service = on_service.run(scenario, env, service_lists if purchase else [])
            result.unloaded = on_service.unloaded(scenario, env, service_lists if purchase else [])
            _progress(kind, "service", scenario, result.service, result.unloaded)
            result.asgi = on_asgi.run(scenario, env, [])
            _progress(kind, "(a) asgi", scenario, result.asgi)
            if scenario.kind == "console":
                continue  # its reference is the API's page 1 (targets), not (b) or (c)
            if scenario.key in captured:
                _database_alone(kind, db_target, result, captured[scenario.key], args)
            if scenario.key in answered_alike:
                result.direct = on_direct.run(scenario, env, [])
                _progress(kind, "(d) direct", scenario, result.direct)
            if scenario.kind == "cursor":
                continue  # the naive app has no cursor paging (it would ignore the parameter)
            result.naive = on_naive.run(scenario, env, naive_lists if purchase else [])
            result.naive_unloaded = on_naive.unloaded(
                scenario, env, naive_lists if purchase else []
            )
            _progress(kind, "(c) naive", scenario, result.naive, result.naive_unloaded)
        _measure_pairs(kind, on_service, results, accounts)
        peak_rss = service.peak_rss_mb()
        if args.profile_seconds > 0:
            profiles = [
                _profile(kind, args, service, r, _auth_env(accounts, r.scenario))
                for key in PROFILED
                if (r := _result_of(results, key)) and r.scenario.supported and r.service
            ]
            if (r := _result_of(results, VS_DIRECT_PAGE)) and r.direct:
                profiles.append(_profile(kind, args, direct, r, _auth_env(accounts, r.scenario)))
    finally:
        for server in (direct, naive, asgi, service):
            server.stop()
    _recount_buyer(db_target, accounts["buyer"]["account_id"])
    import_result = run_import(db_target, state, args) if not args.skip_import else {}
    return DatabaseRun(
        kind,
        state,
        results,
        peak_rss,
        import_result,
        service_version,
        time.monotonic() - started,
        profiles,
    )


def _measure_pairs(
    kind: str, runner: Runner, results: list[ScenarioResult], accounts: dict[str, Any]
) -> None:
    """The big account's list scenarios against their small twins, alternately: ``--pairs``
    pairs of ``--pair-seconds`` bursts, big then small, then small then big (ABBA), each
    pair's ratio from two measurements seconds apart. Measured minutes apart, as the
    scenarios themselves are, the two requests/s carry whatever else the machine did in
    between; the two sides of a pair carry the same."""
    by_key = {r.scenario.key: r for r in results}
    for big in results:
        small = by_key.get(big.scenario.key.replace("big-", "small-", 1))
        if big.scenario.role != "big" or big.scenario.kind != "list" or small is None:
            continue
        if not (big.service and small.service):
            continue
        big.paired_vs_small = []
        for number in range(runner.args.pairs):
            order = (big, small) if number % 2 == 0 else (small, big)
            rps = {
                r.scenario.role: runner.burst(r.scenario, _auth_env(accounts, r.scenario))
                for r in order
            }
            if rps["small"]:
                big.paired_vs_small.append(rps["big"] / rps["small"])
        shown = ", ".join(f"{v:.2f}" for v in big.paired_vs_small)
        print(f"[{kind}] pairs  {big.scenario.title}: ÷small {shown}", flush=True)


def _service_env(db_target: Target, port: int) -> dict[str, str]:
    """The service as deployed, except that no key is ever rate limited: a benchmark sends
    far more than a key's allowance (the limiter still runs, with a limit never reached)."""
    from voxnumbers.settings import Settings

    env = {"VOX_DATABASE_URL": db_target.url, "VOX_LOG_LEVEL": "warning", "VOX_PORT": str(port)}
    names = {f.name for f in fields(Settings)}
    if "rate_limit_per_minute" in names:
        env["VOX_RATE_LIMIT_PER_MINUTE"] = str(10**9)
    if "rate_limit_burst" in names:
        env["VOX_RATE_LIMIT_BURST"] = str(10**9)
    return env


def _capture(
    db_target: Target, accounts: dict[str, Any], result: ScenarioResult
) -> list[tuple[str, Any]]:
    """The statements the service runs for the scenario's request (for references b and d),
    kept in the result as text for the report's appendix."""
    scenario = result.scenario
    headers = {"Authorization": f"Bearer {accounts[scenario.role]['key']}"}
    status, statements = asyncio.run(dbref.capture(db_target, "GET", scenario.target, headers))
    if status >= 300:
        raise SystemExit(f"capture of {scenario.title}: status {status}")
    result.sql = [" ".join(s.split()) for s, _ in statements]
    return statements


def direct_plan(
    db_target: Target,
    results: list[ScenarioResult],
    captured: dict[str, list[tuple[str, Any]]],
    responses: dict[str, tuple[int, list[tuple[bytes, bytes]], bytes]],
) -> Plan:
    """What reference (d) answers: each captured scenario's statements, the shape of its
    answer, and the service's headers (its body's length aside)."""
    from voxnumbers.settings import Settings

    pool_size = next(f.default for f in fields(Settings) if f.name == "db_pool_size")
    routes = {}
    for r in results:
        scenario = r.scenario
        if scenario.key not in captured:
            continue
        _, headers, body = responses[scenario.target]
        route = Route(
            shape={"cursor": "cursor", "get": "number"}.get(scenario.kind, "page"),
            statements=captured[scenario.key],
            snapshot=scenario.kind == "get",  # the list's handler reads without a snapshot
            headers=[(k, v) for k, v in headers if k != b"content-length"],
        )
        if scenario.kind == "cursor":
            route.fingerprint, route.cursor_page = _cursor_facts(scenario.target, body)
        routes[scenario.target] = route
    return Plan(db_target.kind, db_target.url, int(pool_size), routes)


def _cursor_facts(request_target: str, body: bytes) -> tuple[str, int]:
    """A cursor page's fingerprint and number: from the cursor it was asked with, or (the
    first page) from the next cursor the service answered."""
    asked = parse_qs(urlsplit(request_target).query).get("cursor", [""])[0]
    if asked:
        payload = decode_cursor(asked)
        return str(payload["f"]), int(payload["p"])
    following = json.loads(body)["pagination"].get("next_cursor")
    return (str(decode_cursor(following)["f"]) if following else ""), 1


def _check_direct(
    kind: str,
    results: list[ScenarioResult],
    responses: dict[str, tuple[int, list[tuple[bytes, bytes]], bytes]],
) -> set[str]:
    """The scenarios for which reference (d) answers the service's very bytes (only those
    are measured)."""
    alike = set()
    for r in results:
        scenario = r.scenario
        if not scenario.supported or scenario.kind not in REPLAYED_KINDS:
            continue
        answer = httpx.get(f"http://127.0.0.1:{DIRECT_PORT}{scenario.target}", timeout=120)
        if answer.status_code == 200 and answer.content == responses[scenario.target][2]:
            alike.add(scenario.key)
        else:
            print(
                f"[{kind}] (d) {scenario.title}: answered other bytes than the service "
                f"({answer.status_code}, {len(answer.content)} bytes): not measured",
                flush=True,
            )
    return alike


def _database_alone(
    kind: str,
    db_target: Target,
    result: ScenarioResult,
    statements: list[tuple[str, Any]],
    args: argparse.Namespace,
) -> None:
    """Reference (b): replay the request's statements pinned."""
    scenario = result.scenario
    job = OUT / f"dbref-{kind}.pickle"
    job.write_bytes(pickle.dumps({"kind": kind, "url": db_target.url, "statements": statements}))
    command = [
        *("taskset", "-c", str(SERVER_CORE), sys.executable, "-m", "bench.dbref", "replay"),
        *(str(job), "--seconds", str(args.db_duration)),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    replayed = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    result.db = json.loads(replayed.stdout)
    print(
        f"[{kind}] (b) db     {scenario.title}: {result.db['rounds_per_s']:,.0f} rounds/s,"
        f" p50 {result.db['p50_ms']:.2f} ms",
        flush=True,
    )


def _granian(app: str, port: int) -> list[str]:
    """The reference apps' server: the same Granian the service runs on, one worker."""
    return [
        str(VENV_BIN / "granian"),
        "--interface",
        "asgi",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
        app,
    ]


def _shorter(args: argparse.Namespace) -> argparse.Namespace:
    return argparse.Namespace(
        **{**vars(args), "warmup": args.ref_warmup, "duration": args.ref_duration}
    )


def _progress(
    kind: str, what: str, scenario: Scenario, m: Measure, one: Measure | None = None
) -> None:
    # p50/p99 are None when no request completed within the run (a slow naive page)
    extra = f", 1 conn p50 {_f(one.p50_ms, 2)} ms" if one else ""
    errors = f", {m.errors} ERRORS" if m.errors else ""
    print(
        f"[{kind}] {what:<8} {scenario.title}: {m.rps:,.0f} req/s, p50 {_f(m.p50_ms, 2)} ms, "
        f"p99 {_f(m.p99_ms, 2)} ms{extra}{errors}",
        flush=True,
    )


def _recount_buyer(db_target: Target, buyer: str) -> None:
    """The naive app buys without keeping ``number_counts`` and ``number_totals``: recount the
    buyer's rows so the database stays consistent for the service (bench-only SQL)."""
    from bench.generate import _MONTH_SQL

    if db_target.kind == "sqlite":
        with contextlib.closing(sqlite3.connect(db_target.sqlite_path)) as conn:
            columns = [r[1] for r in conn.execute("PRAGMA table_info(number_counts)")]
            month = f", {_MONTH_SQL['sqlite']}" if "month" in columns else ""
            key = "account_id, country, status" + (", month" if month else "")
            with conn:
                conn.execute("DELETE FROM number_counts WHERE account_id = ?", (buyer,))
                conn.execute(
                    f"INSERT INTO number_counts ({key}, total) SELECT account_id, country, "
                    f"status{month}, COUNT(*) FROM numbers WHERE account_id = ? "
                    f"GROUP BY account_id, country, status{month}",
                    (buyer,),
                )
                conn.execute("DELETE FROM number_totals WHERE account_id = ?", (buyer,))
                conn.execute(_RECOUNT_TOTALS.replace("$1", "?"), (buyer,))
        return

    async def _recount() -> None:
        conn = await asyncpg.connect(db_target.url)
        try:
            columns = [
                r["column_name"]
                for r in await conn.fetch(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = 'number_counts'"
                )
            ]
            month = f", {_MONTH_SQL['postgresql']}" if "month" in columns else ""
            key = "account_id, country, status" + (", month" if month else "")
            async with conn.transaction():
                await conn.execute("DELETE FROM number_counts WHERE account_id = $1", buyer)
                await conn.execute(
                    f"INSERT INTO number_counts ({key}, total) SELECT account_id, country, "
                    f"status{month}, COUNT(*) FROM numbers WHERE account_id = $1 "
                    f"GROUP BY account_id, country, status{month}",
                    buyer,
                )
                await conn.execute("DELETE FROM number_totals WHERE account_id = $1", buyer)
                await conn.execute(_RECOUNT_TOTALS, buyer)
        finally:
            await conn.close()

    asyncio.run(_recount())


_RECOUNT_TOTALS = (
    "INSERT INTO number_totals (account_id, country, status, total) "
    "SELECT account_id, country, status, COUNT(*) FROM numbers WHERE account_id = $1 "
    "GROUP BY account_id, country, status"
)


# -- profile ----------------------------------------------------------------------------


def _profile(
    kind: str,
    args: argparse.Namespace,
    server: Server,
    result: ScenarioResult,
    env: dict[str, str],
) -> ServerProfile:
    """``py-spy record`` of the worker while wrk runs the scenario (after the measurements:
    the profiler slows the worker down). The PostgreSQL backends run on the load's core
    meanwhile: on the server's core, every write to the database hands them the core, and
    py-spy would count the worker's wait for it as time spent in the write."""
    started = time.monotonic()
    scenario = result.scenario
    seconds = args.profile_seconds
    server_name = "direct" if server.port == DIRECT_PORT else "service"
    name = re.sub(r"[^A-Za-z0-9]+", "_", scenario.key)
    raw = OUT / "profiles" / f"{kind}-{name}{'-direct' if server_name == 'direct' else ''}.txt"
    found = ServerProfile(
        scenario.key, seconds, profile.RATE, str(raw.relative_to(ROOT)), server=server_name
    )
    worker = _worker(server)
    Runner(args, server).settle()
    backends = _backends(server.app_name, server.database)
    for pid in backends:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(pid, {LOAD_CORE})
    if backends:
        found.note = (
            f"PostgreSQL's backends ran on core {LOAD_CORE} while profiling (on the server's "
            "core each write to the database hands them the core, and py-spy would count the "
            "worker's wait as time in the write)"
        )
    url = f"http://127.0.0.1:{server.port}{scenario.target}"
    load: list[Measure] = []
    wrk_thread = threading.Thread(
        target=lambda: load.append(wrk(url, seconds + 2, args.connections, env)), daemon=True
    )
    try:
        wrk_thread.start()
        time.sleep(1)
        before = profile.thread_cpu(server.pids())
        found.error = profile.record(worker, seconds, raw)
        after = profile.thread_cpu(server.pids())
        wrk_thread.join()
    finally:
        _backends(server.app_name, server.database)  # back on the server's core
    if load:
        found.rps = load[0].rps
    if found.error:
        print(f"[{kind}] profile  {scenario.title}: py-spy failed: {found.error}", flush=True)
        return found
    with raw.open() as lines:
        aggregated = profile.aggregate(lines)
    found.samples = aggregated.samples
    found.categories = aggregated.categories
    found.functions = [list(f) for f in aggregated.functions]
    found.detached = aggregated.detached
    used = {tid: cpu - before.get(tid, 0.0) for tid, cpu in after.items()}
    if aggregated.thread in used and sum(used.values()) > 0:
        found.loop_cpu_share = used[aggregated.thread] / sum(used.values())
    top = max(profile.CATEGORIES, key=aggregated.share)
    print(
        f"[{kind}] profile  {scenario.title}: {found.samples:,} samples of the event loop, "
        f"most in {top} ({aggregated.share(top):.0%}); {raw.relative_to(ROOT)}, "
        f"{time.monotonic() - started:.0f} s",
        flush=True,
    )
    return found


def _worker(server: Server) -> int:
    """The Granian worker: the server's child process that used the most CPU (the one that
    served the requests; the parent only supervises it)."""
    assert server.process is not None
    children = [pid for pid in server.pids() if pid != server.process.pid]
    used = _cpu_by_pid(children)
    return max(used, key=lambda pid: used[pid]) if used else server.process.pid


# -- import -----------------------------------------------------------------------------


def run_import(
    db_target: Target, state: dict[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    """Time ``vox admin inventory import`` of the CSV into a fresh copy of the database."""
    csv_path = ROOT / state["import_csv"]
    if not csv_path.exists():
        from bench import generate

        dataset = generate.build_dataset(state["numbers"], state["seed"])
        csv_path = ROOT / generate.write_import_csv(dataset)
    vox = str(VENV_BIN / "vox")
    probe = subprocess.run(
        [vox, "admin", "inventory", "import", "--help"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        return {"runnable": False, "note": "`vox admin inventory import` is not available yet"}
    copy = db_target.sibling("_import")
    _fresh_copy(db_target, copy)
    try:
        before = _count(copy, "inventory_numbers")
        print(f"[{db_target.kind}] importing {state['import_rows']:,} numbers ...", flush=True)
        started = time.monotonic()
        done = subprocess.run(
            [vox, "admin", "inventory", "import", str(csv_path)],
            cwd=ROOT,
            env={**os.environ, "VOX_DATABASE_URL": copy.url, "VOX_LOG_LEVEL": "warning"},
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.monotonic() - started
        added = _count(copy, "inventory_numbers") - before
    finally:
        _drop_copy(copy)
    result = {
        "runnable": True,
        "seconds": seconds,
        "rows": state["import_rows"],
        "added": added,
        "returncode": done.returncode,
        "output": (done.stdout + done.stderr).strip()[-800:],
    }
    print(f"[{db_target.kind}] import: {seconds:.1f} s, {added:,} added, exit {done.returncode}")
    return result


def _fresh_copy(source: Target, copy: Target) -> None:
    if source.kind == "sqlite":
        with contextlib.closing(sqlite3.connect(source.sqlite_path)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _drop_copy(copy)
        shutil.copyfile(source.sqlite_path, copy.sqlite_path)
        return
    _drop_copy(copy)
    _pg(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
        source.database_name,
    )
    _pg(f'CREATE DATABASE "{copy.database_name}" TEMPLATE "{source.database_name}"')


def _drop_copy(copy: Target) -> None:
    if copy.kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            copy.sqlite_path.with_name(copy.sqlite_path.name + suffix).unlink(missing_ok=True)
    else:
        _pg(f'DROP DATABASE IF EXISTS "{copy.database_name}" WITH (FORCE)')


def _count(db_target: Target, table: str) -> int:
    query = f"SELECT count(*) FROM {table}"
    if db_target.kind == "sqlite":
        with contextlib.closing(sqlite3.connect(db_target.sqlite_path)) as conn:
            return int(conn.execute(query).fetchone()[0])
    return int(_pg(query, url=db_target.url)[0][0])


# -- the report -------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = _status_like("/proc/meminfo", "MemTotal")
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "load": " ".join(f"{v:.2f}" for v in os.getloadavg()),
    }


def _status_like(path: str, name: str) -> int:
    for line in Path(path).read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0


def versions() -> dict[str, str]:
    found = {"Python": platform.python_version(), "SQLite": sqlite3.sqlite_version}
    with contextlib.suppress(Exception):
        found["PostgreSQL"] = _pg("SHOW server_version")[0][0]
    for package in (
        "litestar",
        "granian",
        "msgspec",
        "sqlalchemy",
        "asyncpg",
        "aiosqlite",
        "phonenumbers",
        "httpx",
    ):
        with contextlib.suppress(Exception):
            found[package] = version(package)
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    first_line = (wrk_version.stdout + wrk_version.stderr).split("\n")[0]
    found["wrk"] = first_line.split(" [")[0].removeprefix("wrk ")
    return found


def _git() -> str:
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "src"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    changed = len(dirty.splitlines())
    return f"{head}" + (f" + {changed} uncommitted change(s) under src/" if changed else "")


def _f(value: float | None, digits: int = 1) -> str:
    if value is None:
        return DASH
    return f"{value:,.{digits}f}"


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return DASH
    return f"{a / b:.2f}{X}" if a / b < 10 else f"{a / b:.0f}{X}"


def _result(run: DatabaseRun, key: str) -> ScenarioResult | None:
    return _result_of(run.results, key)


def _result_of(results: list[ScenarioResult], key: str) -> ScenarioResult | None:
    return next((r for r in results if r.scenario.key == key), None)


def targets(run: DatabaseRun) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for the issue's targets on one database."""
    rows: list[tuple[str, str, bool | None]] = []
    pairs = []
    for r in run.results:
        if r.scenario.role == "big" and r.scenario.kind == "list" and r.service:
            small = _result(run, r.scenario.key.replace("big-", "small-", 1))
            if (ratio := r.vs_small(small)) is not None:
                pairs.append((ratio, r.scenario))
    if pairs:
        worst, scenario = min(pairs, key=lambda p: p[0])
        rows.append(
            (
                f"big account's page 1 ≥ {BIG_VS_SMALL}{X} the small account's req/s",
                f"worst {worst:.2f}{X} ({scenario.title})",
                worst >= BIG_VS_SMALL,
            )
        )
    naive = [
        (r.service.rps / r.naive.rps, r.scenario)
        for r in run.results
        if r.scenario.role == "big"
        and r.scenario.kind == "list"
        and r.service
        and r.naive
        and r.naive.rps  # none completed in a short run
    ]
    if naive:
        worst, scenario = min(naive, key=lambda p: p[0])
        rows.append(
            (
                f"big account's page 1, any seed filter, ≥ {BIG_VS_NAIVE:.0f}{X} naive (c)",
                f"worst {worst:.1f}{X} ({scenario.title})",
                worst >= BIG_VS_NAIVE,
            )
        )
    pages = [
        (r.unloaded.p50_ms, r.service.p50_ms if r.service else None, r.scenario)
        for r in run.results
        if r.scenario.role == "big"
        and r.scenario.kind in ("list", "deep")
        and r.unloaded
        and r.unloaded.p50_ms is not None
    ]
    if pages:
        worst, loaded, scenario = max(pages, key=lambda p: p[0])
        rows.append(
            (
                f"any page by number of the big account: p50 ≤ {PAGE_P50_MS:.0f} ms "
                "(one connection)",
                f"worst {worst:.2f} ms ({scenario.title}; "
                f"{_f(loaded, 2)} ms with the load's connections)",
                worst <= PAGE_P50_MS,
            )
        )
    cursor = _result(run, "big-cursor-last-100")
    page1 = _result(run, "big-p1-no filter-100")
    if cursor is not None:
        if not cursor.scenario.supported:
            rows.append(
                (
                    f"last page by cursor: p50 ≤ {CURSOR_VS_PAGE1}{X} page 1's",
                    "not supported by the service yet",
                    False,
                )
            )
        elif (
            cursor.unloaded
            and cursor.unloaded.p50_ms
            and page1
            and page1.unloaded
            and page1.unloaded.p50_ms
        ):
            ratio = cursor.unloaded.p50_ms / page1.unloaded.p50_ms
            rows.append(
                (
                    f"last page by cursor: p50 ≤ {CURSOR_VS_PAGE1}{X} page 1's",
                    f"{ratio:.2f}{X} ({cursor.unloaded.p50_ms:.2f} ms vs "
                    f"{page1.unloaded.p50_ms:.2f} ms, one connection)",
                    ratio <= CURSOR_VS_PAGE1,
                )
            )
    console, api_page = _result(run, CONSOLE_PAGE), _result(run, CONSOLE_API_PAGE)
    if console and console.service and api_page and api_page.service:
        html, json_ = console.service.cpu_ms, api_page.service.cpu_ms
        if html and json_:
            rows.append(
                (
                    f"console numbers page: server CPU per request ≤ {CONSOLE_VS_API:g}{X} "
                    "the API's page 1 (20 rows, no filter)",
                    f"{html / json_:.2f}{X} ({html:.2f} ms vs {json_:.2f} ms; p50 one "
                    f"connection {_f(console.unloaded.p50_ms if console.unloaded else None, 2)}"
                    f" ms vs {_f(api_page.unloaded.p50_ms if api_page.unloaded else None, 2)} ms)",
                    html / json_ <= CONSOLE_VS_API,
                )
            )
    on_direct = _result(run, VS_DIRECT_PAGE)
    if on_direct and on_direct.service and on_direct.direct and on_direct.direct.rps:
        ratio = on_direct.service.rps / on_direct.direct.rps
        rows.append(
            (
                f"big account's page 1 (per_page=100, no filter) ≥ {VS_DIRECT:g}{X} reference "
                "(d)'s req/s",
                f"{ratio:.2f}{X} ({on_direct.service.rps:,.0f} vs {on_direct.direct.rps:,.0f} "
                f"req/s; CPU/req {_f(on_direct.service.cpu_ms, 2)} vs "
                f"{_f(on_direct.direct.cpu_ms, 2)} ms)",
                ratio >= VS_DIRECT,
            )
        )
    rss = [(r.service.rss_mb or 0.0, r.scenario) for r in run.results if r.service]
    if rss:
        worst_rss, scenario = max(rss, key=lambda p: p[0])
        rows.append(
            (
                f"server RSS ≤ {RSS_MB:.0f} MB under the heaviest scenario",
                f"{worst_rss:.0f} MB ({scenario.title}); peak over the run "
                f"{run.server_peak_rss_mb:.0f} MB",
                run.server_peak_rss_mb <= RSS_MB,
            )
        )
    imported = run.import_result
    if imported:
        if not imported.get("runnable"):
            rows.append(
                (
                    f"import of {run.state['import_rows']:,} numbers ≤ {IMPORT_SECONDS:.0f} s",
                    imported["note"],
                    None,
                )
            )
        else:
            ok = imported["returncode"] == 0 and imported["added"] == imported["rows"]
            measured = f"{imported['seconds']:.1f} s, {imported['added']:,} added"
            if not ok:
                measured += f" (exit {imported['returncode']}: {imported['output'][-200:]!r})"
            rows.append(
                (
                    f"import of {imported['rows']:,} numbers from CSV ≤ {IMPORT_SECONDS:.0f} s",
                    measured,
                    ok and imported["seconds"] <= IMPORT_SECONDS,
                )
            )
    return rows


def write_results(runs: list[DatabaseRun], meta: dict[str, Any], output: Path) -> None:
    """``RESULTS.md`` from the runs and what the invocation recorded about itself."""
    info, options = meta["machine"], meta["options"]
    lines = [
        "# Benchmark results",
        "",
        "Generated by `bench/run.sh` (see docs/performance.md); do not edit by hand.",
        "",
        f"- command: `{meta['command']}`",
        f"- started {meta['started']} UTC, took {meta['seconds'] / 60:.1f} min",
        f"- code: {meta['code']}",
        f"- machine: {info['cpus']} {X} {info['cpu']}, {info['memory']}, Linux {info['kernel']}; "
        f"load average {meta['load_start']} at the start, {meta['load_end']} at the end",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()),
        f"- priority: the benchmark and the backends serving it ran at niceness "
        f"{meta.get('niceness', 0)}",
        f"- server: one Granian worker pinned to core {SERVER_CORE} (`taskset`), PostgreSQL "
        f"backends serving it pinned there too; wrk (1 thread, {options['connections']} "
        f"connections) pinned to core {LOAD_CORE}",
        f"- each scenario: {options['warmup']:g} s warm-up, {options['duration']:g} s measured "
        f"with {options['connections']} connections, then {options['latency_duration']:g} s "
        f'with one connection ("p50 1c": latency without queueing); references (a) and (d) '
        f"{options['ref_warmup']:g} + {options['ref_duration']:g} s each, (b) "
        f"{options['db_duration']:g} s",
    ]
    others = [
        m.others_cpu
        for run in runs
        for r in run.results
        for m in (r.service, r.asgi, r.naive, r.direct)
        if m and m.others_cpu is not None
    ]
    if others:
        share = max(others)
        shared = "**shared**" if share > 0.05 else "quiet"
        lines.append(
            f"- the machine was {shared} during the run: other processes used up to "
            f"{share:.0%} of its CPU during a measurement (median "
            f"{sorted(others)[len(others) // 2]:.0%}); absolute figures drift, ratios hold better"
        )
    lines.append("")
    lines.append(_legend())
    for run in runs:
        lines.extend(_database_section(run))
    lines.extend(_sql_appendix(runs))
    kept = _other_benchmarks(output)
    output.write_text("\n".join(lines) + "\n" + ("\n" + kept if kept else ""))


OWN_SECTIONS = ("## SQLite", "## PostgreSQL", "## SQL the service ran")


def _other_benchmarks(output: Path) -> str:
    """The sections other benchmarks (``bench/writes.sh``, ``bench/export.sh``, …) wrote
    into the same file, kept as they are."""
    if not output.exists():
        return ""
    sections: list[list[str]] = [[]]
    lines = output.read_text().split("\n")
    for i, line in enumerate(lines):
        # A section starts at its heading, or at the marker line just above it (writes.py
        # finds its section by such a marker).
        heading = line.startswith("## ") and not (i and lines[i - 1].startswith("<!--"))
        marker = line.startswith("<!--") and i + 1 < len(lines) and lines[i + 1].startswith("## ")
        if heading or marker:
            sections.append([])
        sections[-1].append(line)
    kept = [
        "\n".join(section).strip("\n")
        for section in sections[1:]
        if not next(line for line in section if line.startswith("## ")).startswith(OWN_SECTIONS)
    ]
    return "\n\n".join(kept) + "\n" if kept else ""


def _legend() -> str:
    return (
        "Columns: **req/s**, **p50**, **p99** with the load's connections; **p50 1c** with one "
        "connection; **CPU/req** the server process's CPU time per request (ms), **DB/req** "
        "the PostgreSQL backends' (ms); **RSS** the server worker's largest resident size "
        "during the scenario. References run in the same invocation: **(a)** a bare ASGI app "
        "answering the same bytes from memory on the same Granian, **(b)** the database alone "
        "running the statements the service ran for that request (one connection, one "
        "transaction per round), **(c)** a naive Litestar + SQLAlchemy ORM implementation "
        "with `COUNT(*)` and `OFFSET` (`bench/naive_app.py`), **(d)** a plain ASGI app on the "
        "same Granian running exactly the statements of (b) with the service's driver and "
        "pool size and encoding the service's very bytes with msgspec "
        "(`bench/reference_direct.py`; the reads of the numbers API only, checked byte for "
        "byte before it is measured): what the service costs above (d) is its layers. **÷a**, "
        "**÷c**, **÷d**: the service's figure divided by the reference's (req/s: higher is "
        "better; p50: lower is better).\n"
    )


def _database_section(run: DatabaseRun) -> list[str]:
    state = run.state
    big = state["accounts"]["big"]["numbers"]
    small = state["accounts"]["small"]["numbers"]
    lines = [
        f"## {'SQLite' if run.kind == 'sqlite' else 'PostgreSQL'}",
        "",
        f"Data: {state['numbers']:,} owned numbers (big account {big:,}, "
        f"{state['small_accounts']:,} small accounts of ~{small:,}), "
        f"{state['inventory']:,} in inventory, {state['countries']} countries; loaded in "
        f"{state['load_seconds']:.0f} s; {state['sample_size']:,} generated numbers checked "
        f"with phonenumbers, {state['sample_invalid']} invalid. Service version {run.version}; "
        f"this database's part of the run took {run.seconds / 60:.1f} min.",
        "",
        "| scenario | req/s | p50 ms | p99 ms | p50 1c ms | CPU/req | DB/req | RSS MB | errors "
        "| req/s ÷a | req/s ÷c | req/s ÷d | p50 ÷a | p50 ÷c |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in run.results:
        s, m = r.scenario, r.service
        title = s.title + (f" ({s.note})" if s.note else "")
        if m is None:
            lines.append(f"| {title} | " + " | ".join([DASH] * 13) + " |")
            continue
        a, c, d = r.asgi, r.naive, r.direct
        lines.append(
            f"| {title} | {_f(m.rps, 0)} | {_f(m.p50_ms, 2)} | {_f(m.p99_ms, 2)} | "
            f"{_f(r.unloaded.p50_ms if r.unloaded else None, 2)} | {_f(m.cpu_ms, 2)} | "
            f"{_f(m.db_cpu_ms, 2)} | {_f(m.rss_mb, 0)} | {m.errors or ''} | "
            f"{_ratio(m.rps, a.rps if a else None)} | {_ratio(m.rps, c.rps if c else None)} | "
            f"{_ratio(m.rps, d.rps if d else None)} | "
            f"{_ratio(m.p50_ms, a.p50_ms if a else None)} | "
            f"{_ratio(m.p50_ms, c.p50_ms if c else None)} |"
        )
    lines += [
        "",
        "References:",
        "",
        "| scenario | (a) req/s | (a) p50 ms | (a) CPU/req | (b) rounds/s | (b) p50 ms "
        "| (b) stmts | (c) req/s | (c) p50 ms | (c) p50 1c ms | (c) CPU/req | (c) DB/req "
        "| (d) req/s | (d) p50 ms | (d) CPU/req | (d) DB/req |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in run.results:
        if not r.scenario.supported:
            continue
        a, c, b, d = r.asgi, r.naive, r.db or {}, r.direct
        lines.append(
            f"| {r.scenario.title} | {_f(a.rps if a else None, 0)} | "
            f"{_f(a.p50_ms if a else None, 2)} | {_f(a.cpu_ms if a else None, 3)} | "
            f"{_f(b.get('rounds_per_s'), 0)} | {_f(b.get('p50_ms'), 2)} | "
            f"{b.get('statements', DASH)} | {_f(c.rps if c else None, 1)} | "
            f"{_f(c.p50_ms if c else None, 1)} | "
            f"{_f(r.naive_unloaded.p50_ms if r.naive_unloaded else None, 1)} | "
            f"{_f(c.cpu_ms if c else None, 2)} | {_f(c.db_cpu_ms if c else None, 2)} | "
            f"{_f(d.rps if d else None, 0)} | {_f(d.p50_ms if d else None, 2)} | "
            f"{_f(d.cpu_ms if d else None, 2)} | {_f(d.db_cpu_ms if d else None, 2)} |"
        )
    lines += ["", "Targets:", "", "| target | measured | |", "|---|---|---|"]
    missed = 0
    for name, measured, met in targets(run):
        mark = "✓" if met else ("✗" if met is False else "not run")
        missed += met is False
        lines.append(f"| {name} | {measured} | {mark} |")
    if missed:
        lines += [
            "",
            f"{missed} target(s) missed, by the margin the table gives. The profiles below show "
            "where the server's time goes; `docs/performance.md` (\"Where the time goes now, "
            'and what would close the gaps") explains each gap from them and says what would '
            "close it.",
        ]
    errors = [r for r in run.results if r.service and r.service.errors]
    if errors:
        lines += [
            "",
            "**Errors** (non-2xx answers or socket errors) in: "
            + ", ".join(r.scenario.title for r in errors),
        ]
    lines.append("")
    if len(run.list_ratios) > 1:
        lines.extend(_spread_section(run))
    for found in run.profiles:
        lines.extend(_profile_section(run, found))
    return lines


def _spread_section(run: DatabaseRun) -> list[str]:
    """The list's two ratio targets in each consecutive run, and their spread."""
    n = len(run.list_ratios)
    runs = " | ".join(f"run {i}" for i in range(1, n + 1))
    lines = [
        f"### The list's targets in {n} consecutive runs",
        "",
        f"Big account's page 1 req/s over the small account's (target ≥ {BIG_VS_SMALL}{X}) "
        f"and over naive (c) (target ≥ {BIG_VS_NAIVE:.0f}{X}); runs 1 to {n - 1} measured the "
        "list scenarios alone, the last is the run above. ÷small is the median of the "
        "alternating pairs when `--pairs` is set: the big scenario and its small twin "
        "measured back to back, in ABBA order, for `--pair-seconds` each, so that both sides "
        "of a ratio see the same machine.",
        "",
        f"| scenario | ÷small {runs} | spread | ÷naive {runs} | spread |",
        "|---|" + "--:|" * (2 * n + 2),
    ]
    titles = list(run.list_ratios[-1])
    met = True
    for title in titles:
        cells = []
        for field_name, goal in (("vs_small", BIG_VS_SMALL), ("vs_naive", BIG_VS_NAIVE)):
            values = [r.get(title, {}).get(field_name) for r in run.list_ratios]
            digits = 2 if field_name == "vs_small" else 1
            cells += [f"{v:.{digits}f}{X}" if v is not None else DASH for v in values]
            known = [v for v in values if v is not None]
            met = met and len(known) == n and min(known) >= goal
            cells.append(f"{min(known):.{digits}f}{DASH}{max(known):.{digits}f}" if known else DASH)
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Both targets held in every one of the {n} runs, for every seed filter."
        if met
        else f"At least one target was missed in at least one of the {n} runs (see the table).",
        "",
    ]
    return lines


def _profile_section(run: DatabaseRun, found: ServerProfile) -> list[str]:
    """Where the event loop's samples went, in categories and in the project's functions,
    with the milliseconds per request they stand for."""
    result = _result(run, found.scenario)
    title = result.scenario.title if result else found.scenario
    direct = found.server == "direct"
    whose = "reference (d)'s" if direct else "the server's"
    lines = [
        f"### Where {whose} CPU goes (py-spy, {title}, {found.samples:,} samples)",
        "",
    ]
    if found.error or not found.samples:
        reason = f"py-spy failed: {found.error}" if found.error else "no sample of the loop"
        return [*lines, f"No profile: {reason}.", ""]
    measured = (result.direct if direct else result.service) if result else None
    cpu_ms = measured.cpu_ms if measured else None
    share = found.loop_cpu_share
    loop_ms = cpu_ms * share if cpu_ms is not None and share is not None else None
    during = f", {found.rps:,.0f} req/s under the profiler" if found.rps else ""
    lines += [
        f"py-spy sampled the Granian worker {found.rate} times a second for {found.seconds} s "
        f"while wrk ran the scenario, after the measurements{during} (`{found.raw}`). Shares "
        f"are of the event-loop thread's samples; ms/req = share {X} the loop's part of the "
        f"server's CPU in the meantime ({_percent(share)}) {X} CPU/req measured above "
        f"({_f(cpu_ms, 2)} ms)." + (f" {found.note}." if found.note else ""),
        "",
        "| where | share | ms/req |",
        "|---|--:|--:|",
    ]
    for category in profile.CATEGORIES:
        part = found.categories.get(category, 0) / found.samples
        ms = loop_ms * part if loop_ms is not None else None
        lines.append(f"| {category} | {part:.1%} | {_f(ms, 2)} |")
    others = cpu_ms - loop_ms if cpu_ms is not None and loop_ms is not None else None
    detached = found.detached / found.samples
    lines += [
        f"| Granian's other threads, the supervising process (not sampled) | {DASH} | "
        f"{_f(others, 2)} |",
        "",
        f"Rules: {profile.RULES}.",
        "",
        f"The project's functions with the largest inclusive share ({detached:.0%} "
        "of the samples ran in SQLAlchemy's greenlets, which py-spy records without the "
        "frames that called them: they count for no function here):",
        "",
        "| function | inclusive | self |",
        "|---|--:|--:|",
    ]
    for name, inclusive, own in found.functions:
        frame = profile.parse_frame(name)
        lines.append(
            f"| `{frame.function}` ({frame.file.removeprefix('voxnumbers/')}) | "
            f"{inclusive / found.samples:.1%} | {own / found.samples:.1%} |"
        )
    lines.append("")
    return lines


def _percent(value: float | None) -> str:
    return DASH if value is None else f"{value:.0%}"


def _sql_appendix(runs: list[DatabaseRun]) -> list[str]:
    lines = ["## SQL the service ran (captured for reference b)", ""]
    for run in runs:
        for key in (
            "big-p1-no filter-100",
            "big-last-no filter-100",
            "big-cursor-last-100",
            "big-get",
        ):
            r = _result(run, key)
            if r and r.sql:
                lines.append(f"{run.kind}, {r.scenario.title}:")
                lines.append("")
                lines.append("```sql")
                lines.extend(f"{s};" for s in r.sql)
                lines.append("```")
                lines.append("")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db", action="append", choices=["sqlite", "postgresql"], help="repeatable; default both"
    )
    parser.add_argument("--numbers", type=int, default=2_000_000, help="owned numbers")
    parser.add_argument("--warmup", type=float, default=1, help="seconds per scenario")
    parser.add_argument("--duration", type=float, default=4, help="measured seconds")
    parser.add_argument(
        "--latency-duration", type=float, default=2, help="seconds of the one-connection run"
    )
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--ref-warmup", type=float, default=1, help="reference (a) warm-up")
    parser.add_argument("--ref-duration", type=float, default=3, help="reference (a) seconds")
    parser.add_argument("--db-duration", type=float, default=2, help="reference (b) seconds")
    parser.add_argument(
        "--cursor-walk-seconds",
        type=float,
        default=300,
        help="longest walk to the last page by cursor (then the deepest page reached)",
    )
    parser.add_argument("--regenerate", action="store_true", help="generate the data again")
    parser.add_argument("--skip-import", action="store_true", help="skip the import scenario")
    parser.add_argument("--only", action="append", help="scenarios whose key contains this")
    parser.add_argument(
        "--profile-seconds",
        type=int,
        default=8,
        help="seconds of py-spy on the worker for two scenarios per database, after the "
        "measurements (0: no profile)",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="consecutive runs per database: the list scenarios alone N - 1 times, then all; "
        "the report gives the list's ratios in each run and their spread",
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=4,
        help="alternating pairs of bursts, big account then small (then small then big), "
        "for the list's ÷small ratio (0: the scenarios' own measurements)",
    )
    parser.add_argument(
        "--pair-seconds", type=float, default=2, help="seconds of each burst of a pair"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="only write the report again from a saved bench/out/results-*.json",
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get update && apt-get install -y wrk")
    if args.profile_seconds > 0 and not args.render and profile.py_spy() is None:
        raise SystemExit("py-spy is missing: pip install py-spy (or --profile-seconds 0)")
    command = _explicit_command(args)
    if args.render:
        raw = json.loads(args.render.read_text())
        write_results([_run_from_dict(r) for r in raw["runs"]], raw["meta"], args.output)
        print(f"wrote {args.output} from {args.render}")
        return
    started = datetime.now(UTC)
    load_start = " ".join(f"{v:.2f}" for v in os.getloadavg())
    clock = time.monotonic()
    random.seed(1)
    runs = [run_database_repeatedly(kind, args) for kind in (args.db or ["sqlite", "postgresql"])]
    seconds = time.monotonic() - clock
    info = machine()
    meta = {
        "command": command.strip(),
        "started": f"{started:%Y-%m-%d %H:%M}",
        "seconds": seconds,
        "code": _git(),
        "machine": info,
        "load_start": load_start,
        "niceness": os.getpriority(os.PRIO_PROCESS, 0),
        "load_end": info["load"],
        "versions": versions(),
        "options": {k: v for k, v in vars(args).items() if isinstance(v, int | float)},
    }
    OUT.mkdir(parents=True, exist_ok=True)
    raw_file = OUT / f"results-{started:%Y%m%dT%H%M%S}.json"
    raw_file.write_text(
        json.dumps({"meta": meta, "runs": [asdict(run) for run in runs]}, indent=1, default=str)
    )
    write_results(runs, meta, args.output)
    print(f"wrote {args.output} and {raw_file.relative_to(ROOT)} in {seconds / 60:.1f} min")


def _explicit_command(args: argparse.Namespace) -> str:
    """The command with every measuring option spelled out, so that it reproduces the run
    even after a default changes."""
    words = ["bench/run.sh"]
    for db in args.db or []:
        words += ["--db", db]
    for name in (
        "numbers",
        "warmup",
        "duration",
        "latency_duration",
        "connections",
        "ref_warmup",
        "ref_duration",
        "db_duration",
        "cursor_walk_seconds",
        "profile_seconds",
        "runs",
        "pairs",
        "pair_seconds",
    ):
        value = getattr(args, name)
        text = str(value) if isinstance(value, int) else f"{value:g}"  # 2000000, not 2e+06
        words += [f"--{name.replace('_', '-')}", text]
    for only in args.only or []:
        words += ["--only", only]
    if args.skip_import:
        words.append("--skip-import")
    if args.output != RESULTS:
        words += ["--output", str(args.output)]
    return shlex.join(words)


def _run_from_dict(raw: dict[str, Any]) -> DatabaseRun:
    """A run as saved in ``bench/out/results-*.json`` (for ``--render``)."""

    def measure(value: dict[str, Any] | None) -> Measure | None:
        return Measure(**value) if value else None

    results = []
    for r in raw["results"]:
        scenario = Scenario(**r["scenario"])
        results.append(
            ScenarioResult(
                scenario=scenario,
                service=measure(r["service"]),
                unloaded=measure(r["unloaded"]),
                asgi=measure(r["asgi"]),
                # the naive app has no cursor paging (it ignored the parameter)
                naive=None if scenario.kind == "cursor" else measure(r["naive"]),
                naive_unloaded=None if scenario.kind == "cursor" else measure(r["naive_unloaded"]),
                direct=measure(r.get("direct")),
                db=r["db"],
                sql=r["sql"],
                paired_vs_small=r.get("paired_vs_small", []),
            )
        )
    profiles = [ServerProfile.of(p) for p in raw.get("profiles", [])]
    fields_ = {k: v for k, v in raw.items() if k not in ("results", "profiles")}
    return DatabaseRun(results=results, profiles=profiles, **fields_)


if __name__ == "__main__":
    main()
