"""A private PostgreSQL cluster that a fault test may stop and start at will.

The machine's own PostgreSQL (127.0.0.1:5432) serves other people's tests and benchmarks and
is never touched: each ``PrivatePostgres`` is a fresh ``initdb`` in a temporary directory,
listening only on 127.0.0.1 and a free port, trust authentication, its Unix socket inside
that directory. It belongs to the ``postgres`` OS user when we run as root (PostgreSQL
refuses to run as root), to us otherwise. ``close()`` stops it and deletes the directory,
whatever state it is in; use it as a context manager so that happens even when a test fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Literal

StopMode = Literal["smart", "fast", "immediate"]

_COMMAND_SECONDS = 120.0
_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "60",
    "shared_buffers": "32MB",
    "logging_collector": "off",
    "log_min_messages": "warning",
    # A client that vanished (kill -9) must not keep its backend, and its locks, for long.
    "tcp_keepalives_idle": "5",
    "tcp_keepalives_interval": "1",
    "tcp_keepalives_count": "3",
}


class ClusterError(RuntimeError):
    """The private cluster could not be created, started or stopped."""


def postgres_bin_dir() -> Path | None:
    """The newest PostgreSQL server binaries installed (Debian layout), or ``None``."""
    override = os.environ.get("VOX_PG_BIN")
    if override:
        return Path(override)
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: _version_key(p.parent.name)
    )
    for candidate in reversed(candidates):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and shutil.which("initdb") else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivatePostgres:
    """One throw-away PostgreSQL cluster: ``start()``, ``stop(mode)``, ``start()`` again…"""

    def __init__(self, bin_dir: Path | None = None, *, port: int | None = None) -> None:
        found = bin_dir or postgres_bin_dir()
        if found is None:
            raise ClusterError("no PostgreSQL server binaries (initdb, pg_ctl) found")
        self.bin_dir = found
        self.port = port or free_port()
        self.base = Path(tempfile.mkdtemp(prefix="vox-faults-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "postgres.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.base, "postgres", "postgres")
        self._initialised = False

    # --- addresses -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``postgresql://`` URL of the cluster's ``postgres`` database, as a user writes it."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def dsn(self) -> str:
        """The same, for asyncpg."""
        return self.url

    # --- life cycle ------------------------------------------------------------------------

    def init(self) -> PrivatePostgres:
        """``initdb`` (once) and write the settings: local TCP only, our port, trust."""
        if self._initialised:
            return self
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",  # the files of a throw-away cluster need no fsync at creation
        )
        settings = {**_SETTINGS, "port": str(self.port)}
        settings["unix_socket_directories"] = f"'{self.base}'"
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# vox fault tests\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        self._initialised = True
        return self

    def start(self) -> float:
        """Start (after ``init``) and wait until it accepts connections; returns seconds."""
        self.init()
        started = time.monotonic()
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")
        return time.monotonic() - started

    def stop(self, mode: StopMode = "fast") -> float:
        """``pg_ctl stop -m MODE``; ``immediate`` is a crash as far as clients can tell
        (no goodbye to them; recovery from the WAL at the next start). Returns seconds."""
        started = time.monotonic()
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
        return time.monotonic() - started

    @property
    def running(self) -> bool:
        if not self._initialised:
            return False
        result = self._run("pg_ctl", "-D", str(self.data), "status", check=False)
        return result.returncode == 0

    def close(self) -> None:
        """Stop the cluster if it runs (by its own postmaster pid if pg_ctl fails) and delete
        its directory."""
        try:
            if self._initialised and self.running:
                try:
                    self.stop("immediate")
                except ClusterError:
                    self._kill_postmaster()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def __enter__(self) -> PrivatePostgres:
        try:
            self.init()
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- plumbing --------------------------------------------------------------------------

    def _kill_postmaster(self) -> None:
        pid_file = self.data / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pid_file.read_text().splitlines()[0])
            os.kill(pid, signal.SIGQUIT)  # PostgreSQL's own "immediate shutdown" signal
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                os.kill(pid, 0)
                time.sleep(0.1)
            os.kill(pid, signal.SIGKILL)

    def _run(
        self, program: str, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / program), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        result = subprocess.run(
            command,
            cwd=self.base,
            env={**env, "LC_ALL": "C"},
            capture_output=True,
            text=True,
            timeout=_COMMAND_SECONDS,
            check=False,
        )
        if check and result.returncode != 0:
            raise ClusterError(
                f"{program} {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout}{result.stderr}\n{self.log_tail()}"
            )
        return result


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())
