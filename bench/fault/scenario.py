"""Load under faults: writers buy numbers while PostgreSQL is stopped and started again, or
the API server is killed with SIGKILL and started again; then the audit.

    deployment = Deployment(cluster, workdir)          # migrate, accounts, keys (vox admin)
    server = deployment.server()                        # vox serve --no-demo
    result = await run_scenario(deployment, [server], ["db-immediate", "kill-9"])
    assert result.audit.ok and not result.load.server_errors

Shared by the fault tests (``tests/faults``) and ``python -m bench.fault``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bench.fault.audit import Audit, audit
from bench.fault.cluster import PrivatePostgres
from bench.fault.load import LoadResult, WriteLoad, numbers_for_sale
from bench.fault.server import (
    ServerProcess,
    Tenant,
    create_tenant,
    import_inventory,
    run_vox,
    vox_environment,
)

FaultKind = Literal["db-immediate", "db-fast", "kill-9"]
FAULTS: tuple[FaultKind, ...] = ("db-immediate", "db-fast", "kill-9")

# The settings every fault scenario's server runs with: a short pool wait so a request on a
# dead database is answered quickly, and no rate limit (the writers are one tenant's clients).
SERVER_SETTINGS: dict[str, object] = {
    "db_pool_timeout_seconds": 2,
    "db_connect_timeout_seconds": 2,
    "rate_limit_per_minute": 0,
}


class Deployment:
    """One database (a private cluster) prepared as an operator would: ``vox migrate``,
    accounts and keys with ``vox admin``, inventory with ``vox admin inventory import``."""

    def __init__(
        self,
        cluster: PrivatePostgres,
        workdir: Path,
        *,
        accounts: int = 2,
        **settings: object,
    ) -> None:
        self.cluster = cluster
        self.workdir = workdir
        self.env = vox_environment(cluster.url, **{**SERVER_SETTINGS, **settings})
        run_vox("migrate", env=self.env, cwd=workdir)
        self.tenants = [
            create_tenant(self.env, workdir, f"Fault tenant {i}") for i in range(accounts)
        ]
        self._next_number = 0

    def stock(self, count: int) -> list[tuple[str, str]]:
        """Put ``count`` numbers nobody bought before up for sale; (e164, country) pairs."""
        numbers = numbers_for_sale(count, start=self._next_number)
        self._next_number += count
        import_inventory(self.env, self.workdir, (e164 for e164, _ in numbers))
        return numbers

    def server(self, **settings: object) -> ServerProcess:
        """A server process (not started) on this database, with extra settings."""
        env = {**self.env, **{f"VOX_{k.upper()}": str(v) for k, v in settings.items()}}
        return ServerProcess(self.workdir, env)


@dataclass
class FaultOutcome:
    """One fault: how long the service was without its database or process, and how long
    after it came back the first purchase was acknowledged (``None``: it never was)."""

    kind: FaultKind
    down_seconds: float
    recovery_seconds: float | None


@dataclass
class ScenarioResult:
    load: LoadResult
    faults: list[FaultOutcome]
    audit: Audit
    stocked: list[str] = field(default_factory=list)


async def run_scenario(
    deployment: Deployment,
    servers: Sequence[ServerProcess],
    faults: Sequence[FaultKind],
    *,
    writers: int = 4,
    per_writer: int = 800,
    lead: float = 1.0,
    outage: float = 2.0,
    settle: float = 1.0,
    recovery_limit: float = 30.0,
    pace: float = 0.02,
) -> ScenarioResult:
    """Writers buy numbers while ``faults`` happen one after the other (``lead`` seconds of
    load first; each outage lasts ``outage`` seconds; ``settle`` seconds of load after each
    recovery), then stop, and everything is audited. ``kill-9`` kills ``servers[0]``."""
    numbers = deployment.stock(writers * per_writer)
    tenants = deployment.tenants
    plan: list[tuple[Tenant, Sequence[tuple[str, str]]]] = [
        (tenants[i % len(tenants)], numbers[i * per_writer : (i + 1) * per_writer])
        for i in range(writers)
    ]
    load = WriteLoad([s.base_url for s in servers], plan, pace=pace)
    running = asyncio.create_task(load.run())
    outcomes: list[FaultOutcome] = []
    try:
        await asyncio.sleep(lead)
        for kind in faults:
            outcomes.append(
                await _inject(kind, deployment.cluster, servers[0], load, outage, recovery_limit)
            )
            await asyncio.sleep(settle)
    finally:
        load.stop.set()
        result = await running
    checked = await audit(
        deployment.cluster.dsn,
        result,
        [e164 for e164, _ in numbers],
        base_url=servers[0].base_url,
        tenants=tenants,
    )
    return ScenarioResult(result, outcomes, checked, [e164 for e164, _ in numbers])


async def _inject(
    kind: FaultKind,
    cluster: PrivatePostgres,
    server: ServerProcess,
    load: WriteLoad,
    outage: float,
    recovery_limit: float,
) -> FaultOutcome:
    went_down = time.monotonic()
    if kind == "kill-9":
        await asyncio.to_thread(server.kill)
        await asyncio.sleep(outage)
        await asyncio.to_thread(server.start)
    else:
        await asyncio.to_thread(cluster.stop, "immediate" if kind == "db-immediate" else "fast")
        await asyncio.sleep(outage)
        await asyncio.to_thread(cluster.start)
    back = time.monotonic()
    deadline = back + recovery_limit
    recovered = load.result.first_acknowledged_after(back)
    while recovered is None and time.monotonic() < deadline and not load.finished.is_set():
        await asyncio.sleep(0.05)
        recovered = load.result.first_acknowledged_after(back)
    return FaultOutcome(kind, back - went_down, recovered)
