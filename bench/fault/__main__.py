"""Load under faults in one command: does anything acknowledged get lost?

    .venv/bin/python -m bench.fault                       # 2 database outages, 1 kill -9
    .venv/bin/python -m bench.fault --no-kill --outages 1
    .venv/bin/python -m bench.fault --writers 8 --outage-seconds 5

A private PostgreSQL cluster (``initdb`` in a temporary directory, 127.0.0.1 and a free
port; the machine's own PostgreSQL is never touched), migrated and stocked with ``vox``
commands; one ``vox serve --no-demo``; N writers buying distinct numbers, each retrying
``503`` and lost connections with the same Idempotency-Key. Meanwhile PostgreSQL is stopped
(``-m immediate``, then ``-m fast``, alternating) and started again, and the server is
optionally killed with SIGKILL and started again. Then the audit of ``bench.fault.audit``.

Prints one table; exits 1 if any answer was a 5xx other than 503, any acknowledged write
was lost, or the audit found anything. Bounded: at most ``--timeout`` seconds (120).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from bench.fault.cluster import PrivatePostgres, postgres_bin_dir
from bench.fault.scenario import Deployment, FaultKind, ScenarioResult, run_scenario
from bench.fault.server import ServerProcess


def faults_of(outages: int, kill: bool) -> list[FaultKind]:
    """``outages`` database stops, alternating crash and fast shutdown, then the kill."""
    kinds: list[FaultKind] = ["db-immediate" if n % 2 == 0 else "db-fast" for n in range(outages)]
    return [*kinds, "kill-9"] if kill else kinds


def table(result: ScenarioResult, *, writers: int, seconds: float) -> str:
    """The outcome as a two-column Markdown table."""
    load, checked = result.load, result.audit
    errors = len(load.server_errors)
    rows = [
        ("writers", f"{writers}"),
        ("load duration", f"{load.seconds:.1f} s"),
        ("requests sent", f"{load.sent:,}"),
        ("purchases acknowledged (201)", f"{len(load.acknowledged):,}"),
        ("  of which replayed after a lost answer", f"{load.replays:,}"),
        ("purchases never acknowledged", f"{len(load.unacknowledged):,}"),
        ("503 answers (retried)", f"{load.statuses['503']:,}"),
        ("no answer: refused or reset (retried)", f"{load.statuses['no answer']:,}"),
        ("slowest 503", f"{load.slowest_503 * 1000:.0f} ms"),
        ("5xx other than 503 (must be 0)", f"{errors}"),
        ("other unexpected answers (must be 0)", f"{len(load.unexpected) - errors}"),
        ("acknowledged writes lost (must be 0)", f"{checked.lost}"),
        ("numbers owned / still for sale", f"{checked.owned:,} / {checked.for_sale:,}"),
        ("list totals checked against COUNT", f"{checked.totals_checked}"),
        ("audit problems (must be 0)", f"{len(checked.problems)}"),
    ]
    for fault in result.faults:
        recovery = (
            f"{fault.recovery_seconds:.2f} s" if fault.recovery_seconds is not None else "NEVER"
        )
        rows.append(
            (
                f"{fault.kind}: down / first write after back",
                f"{fault.down_seconds:.1f} s / {recovery}",
            )
        )
    rows.append(("whole run", f"{seconds:.0f} s"))
    width = max(len(name) for name, _ in rows)
    lines = [f"| {'':<{width}} | value |", f"|{'-' * (width + 2)}|-------|"]
    lines += [f"| {name:<{width}} | {value} |" for name, value in rows]
    return "\n".join(lines)


def failed(result: ScenarioResult) -> bool:
    return bool(
        result.load.server_errors
        or result.load.unexpected
        or result.audit.problems
        or any(fault.recovery_seconds is None for fault in result.faults)
    )


async def _run(args: argparse.Namespace) -> ScenarioResult:
    with PrivatePostgres() as cluster, tempfile.TemporaryDirectory(prefix="vox-fault-") as work:
        print(f"private PostgreSQL on 127.0.0.1:{cluster.port}; preparing ...", flush=True)
        deployment = Deployment(cluster, Path(work))
        server: ServerProcess = deployment.server()
        try:
            await asyncio.to_thread(server.start)
            faults = faults_of(args.outages, args.kill)
            print(f"{args.writers} writers; faults: {', '.join(faults) or 'none'}", flush=True)
            return await run_scenario(
                deployment,
                [server],
                faults,
                writers=args.writers,
                per_writer=args.per_writer,
                outage=args.outage_seconds,
                settle=args.settle_seconds,
            )
        finally:
            server.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fault", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--writers", type=int, default=4, help="concurrent buyers (4)")
    parser.add_argument("--per-writer", type=int, default=800, help="numbers each may buy")
    parser.add_argument("--outages", type=int, default=2, help="database stops (2)")
    parser.add_argument("--outage-seconds", type=float, default=2.0, help="each stop lasts (2)")
    parser.add_argument("--settle-seconds", type=float, default=1.0, help="load after each")
    parser.add_argument("--kill", action=argparse.BooleanOptionalAction, default=True,
                        help="also kill -9 the server once (default: yes)")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=120.0, help="give up after (120 s)")
    args = parser.parse_args(argv)
    if postgres_bin_dir() is None:
        print("error: PostgreSQL server binaries (initdb, pg_ctl) not found", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        result = asyncio.run(asyncio.wait_for(_run(args), args.timeout))
    except TimeoutError:
        print(f"error: not done within {args.timeout:.0f} s", file=sys.stderr)
        return 1
    print(table(result, writers=args.writers, seconds=time.monotonic() - started))
    for problem in result.audit.problems[:20]:
        print(f"  problem: {problem}")
    return 1 if failed(result) else 0


if __name__ == "__main__":
    sys.exit(main())
