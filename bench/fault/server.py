"""Real ``vox`` processes for the fault scenarios: ``vox migrate``, ``vox admin …`` to create
accounts, keys and inventory, and ``vox serve --no-demo`` processes that can be stopped with
SIGTERM or killed with SIGKILL (the whole process group: Granian's main process and its
workers, as when a container or a machine dies)."""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.fault.cluster import free_port

VOX = Path(sys.executable).parent / "vox"
READY_SECONDS = 60.0
STOP_SECONDS = 40.0  # Granian gives its workers 30 s to finish
COMMAND_SECONDS = 120.0


class ServerError(RuntimeError):
    """A ``vox`` process did not do what it was asked."""


@dataclass(frozen=True)
class Tenant:
    """An account and one of its API keys, created with ``vox admin``."""

    account_id: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def path(self, suffix: str = "") -> str:
        return f"/v1/account/{self.account_id}{suffix}"


def vox_environment(database_url: str, **settings: object) -> dict[str, str]:
    """This process's environment without any ``VOX_*`` variable of the caller's shell, with
    the database and the given settings (``db_pool_size=1`` → ``VOX_DB_POOL_SIZE=1``)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("VOX_")}
    env.update({"VOX_DATABASE_URL": database_url, "VOX_LOG_LEVEL": "warning"})
    env.update({f"VOX_{name.upper()}": str(value) for name, value in settings.items()})
    return env


def run_vox(*args: str, env: Mapping[str, str], cwd: Path) -> str:
    """``vox ARGS``; its standard output, or ``ServerError`` with everything it said."""
    result = subprocess.run(
        [str(VOX), *args],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        raise ServerError(f"vox {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result.stdout


def create_tenant(env: Mapping[str, str], cwd: Path, name: str) -> Tenant:
    """``vox admin accounts create`` then ``vox admin keys create``, as an operator does."""
    account_id = run_vox("admin", "accounts", "create", "--name", name, env=env, cwd=cwd).strip()
    issued = run_vox("admin", "keys", "create", "--account", account_id, env=env, cwd=cwd)
    key = next(word for word in issued.split() if word.startswith("tvx_sk_"))
    return Tenant(account_id, key)


def import_inventory(env: Mapping[str, str], cwd: Path, numbers: Iterable[str]) -> int:
    """Put ``numbers`` up for sale with ``vox admin inventory import``; returns how many."""
    path = cwd / "inventory.csv"
    rows = list(numbers)
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["e164", "monthly_fee", "capabilities"])
        writer.writerows([e164, "1.25", "voice|sms"] for e164 in rows)
    run_vox("admin", "inventory", "import", str(path), env=env, cwd=cwd)
    return len(rows)


@dataclass
class ServerProcess:
    """``vox serve --no-demo`` in ``workdir`` on ``port`` (the same port across restarts)."""

    workdir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    runs: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None, "not running"
        return self.process.pid

    def start(self) -> float:
        """Start and wait until ``/readyz`` answers 200; returns the seconds it took."""
        assert self.process is None, "already running"
        self.runs += 1
        log = self.workdir / f"serve-{self.runs}"
        env = {**self.env, "VOX_HOST": "127.0.0.1", "VOX_PORT": str(self.port)}
        started = time.monotonic()
        with open(f"{log}.out", "wb") as out, open(f"{log}.err", "wb") as err:
            self.process = subprocess.Popen(
                [str(VOX), "serve", "--no-demo", "--port", str(self.port)],
                cwd=self.workdir,
                env=env,
                stdout=out,
                stderr=err,
                start_new_session=True,  # its own process group: killed as one, never orphaned
            )
        deadline = started + READY_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                raise ServerError(f"vox serve exited {code}:\n{self.output()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    return time.monotonic() - started
            time.sleep(0.05)
        self.kill()
        raise ServerError(f"/readyz did not answer 200 within {READY_SECONDS:.0f} s")

    def kill(self) -> None:
        """SIGKILL every process of the server at once (``kill -9``): nothing is flushed,
        no transaction is finished, no connection is closed politely."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def terminate(self) -> int:
        """SIGTERM, as systemd, Docker and Kubernetes stop it; returns the exit code."""
        process = self.process
        if process is None:
            return 0
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            raise ServerError(
                f"vox serve still running {STOP_SECONDS:.0f} s after SIGTERM"
            ) from None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # a worker that outlived its parent
        self.process = None
        return code

    def output(self) -> str:
        log = self.workdir / f"serve-{self.runs}"
        parts = []
        for suffix in ("out", "err"):
            with contextlib.suppress(OSError):
                parts.append(Path(f"{log}.{suffix}").read_text(errors="replace")[-4000:])
        return "\n".join(parts)
