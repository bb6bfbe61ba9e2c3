"""A real ``vox serve`` process, started the way ``./dev serve`` starts it.

``./dev serve`` ends in ``exec .venv/bin/vox serve``: here the same ``vox`` script of this
test's virtualenv runs in a fresh directory of its own (so ``var/``, with the SQLite file and
the demo state, lands there), listening on a free port. A server counts as started when
``/readyz`` answers 200, and as stopped when SIGTERM made it exit 0: every server these
fixtures start is stopped that way, so every e2e test also checks graceful shutdown.

On PostgreSQL (when the run has one, see ``tests/conftest.py``) each module gets a database
of its own, created empty, brought up to date with ``vox migrate`` as the README says, and
dropped at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import BACKENDS, POSTGRES_ADMIN_URL

VOX = Path(sys.executable).parent / "vox"
READY_SECONDS = 60.0  # a cold start builds ~3,000 demo numbers; a loaded CI machine is slow
STOP_SECONDS = 30.0  # Granian's own workers_kill_timeout is 30 s
COMMAND_SECONDS = 60.0

_ACCOUNT = re.compile(r"\b(acc_[0-9A-Za-z]+)\b")
_KEY = re.compile(r"\b(tvx_sk_(?:test|live)_[0-9A-Za-z]+)\b")
_EXPORT = re.compile(r"^export\s+(\S.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Banner:
    """What ``vox serve`` printed about the demo, as a user reads it."""

    text: str
    account_id: str
    key: str
    exports: dict[str, str]  # the ``export NAME=value …`` line, when there is one
    export_line: str  # that line as printed ("" when there is none)


def parse_banner(text: str) -> Banner:
    """The demo account and key from ``vox serve``'s output: from its ``export`` line when
    it prints one, else from the first ``acc_…`` and ``tvx_sk_…`` it shows."""
    exports: dict[str, str] = {}
    export_line = ""
    for match in _EXPORT.finditer(text):
        export_line = match.group(0)
        for word in shlex.split(match.group(1), comments=True):
            name, _, value = word.partition("=")
            exports[name] = value
    account = exports.get("VOX_ACCOUNT_ID") or _first(_ACCOUNT, text)
    key = exports.get("VOX_API_KEY") or _first(_KEY, text)
    if not account or not key:
        pytest.fail(f"no demo account and key in vox serve's output:\n{text}")
    return Banner(text, account, key, exports, export_line)


def _first(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.search(text)
    return match.group(1) if match else ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_environment(database_url: str) -> dict[str, str]:
    """This test's environment without any ``VOX_*`` setting of the developer's shell (a
    server of the tests must not reach their database), the database chosen."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("VOX_")}
    return {**env, "VOX_DATABASE_URL": database_url, "VOX_LOG_LEVEL": "warning"}


@dataclass
class VoxServer:
    """One directory and one database, served by ``vox serve`` (restartable)."""

    workdir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    banner: Banner | None = None
    _runs: Iterator[int] = field(default_factory=itertools.count)
    _log: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def account_id(self) -> str:
        return self.demo.account_id

    @property
    def key(self) -> str:
        return self.demo.key

    @property
    def demo(self) -> Banner:
        assert self.banner is not None, "the server has not printed its banner"
        return self.banner

    @property
    def account_url(self) -> str:
        return f"{self.base_url}/v1/account/{self.account_id}"

    def client(self, **options: Any) -> httpx.Client:
        """An HTTP client on the demo account's API, with the demo key as Bearer."""
        headers = {"Authorization": f"Bearer {self.key}", **options.pop("headers", {})}
        return httpx.Client(base_url=self.account_url, headers=headers, timeout=30, **options)

    def serve_environment(self) -> dict[str, str]:
        return {**self.env, "VOX_HOST": "127.0.0.1", "VOX_PORT": str(self.port)}

    def start(self, *, ready: bool = True) -> VoxServer:
        """``vox serve --port PORT`` in the directory; waits for ``/readyz`` and reads the
        banner (``ready=False``: returns as soon as the process runs)."""
        assert self.process is None, "already running"
        run = next(self._runs)
        self._log = self.workdir / f"serve-{run}"
        with open(f"{self._log}.out", "wb") as out, open(f"{self._log}.err", "wb") as err:
            self.process = subprocess.Popen(
                [str(VOX), "serve", "--port", str(self.port)],
                cwd=self.workdir,
                env=self.serve_environment(),
                stdout=out,
                stderr=err,
                start_new_session=True,  # its own process group: nothing outlives the test
            )
        if ready:
            self._wait_until_ready()
            self.banner = parse_banner(self.stdout())
        return self

    def stdout(self) -> str:
        return Path(f"{self._log}.out").read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return Path(f"{self._log}.err").read_text(encoding="utf-8", errors="replace")

    def output(self) -> str:
        return f"--- stdout\n{self.stdout()}--- stderr\n{self.stderr()}"

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"vox serve exited {self.process.returncode}:\n{self.output()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        self.kill()
        pytest.fail(f"/readyz did not answer 200 within {READY_SECONDS:.0f} s:\n{self.output()}")

    def stop(self, signum: int = signal.SIGTERM, *, group: bool = False) -> float:
        """Send ``signum`` (to the whole process group with ``group``, as a terminal's
        Ctrl-C does) and insist the server exits 0 in time, leaving no process behind.
        Returns how long it took."""
        process = self.process
        assert process is not None, "not running"
        started = time.monotonic()
        if group:
            os.killpg(process.pid, signum)
        else:
            process.send_signal(signum)
        try:
            code = process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"vox serve still running {STOP_SECONDS:.0f} s after {signum!r}")
        took = time.monotonic() - started
        self.process = None
        assert code == 0, f"vox serve exited {code} on {signum!r}:\n{self.output()}"
        _wait_for_group_exit(process.pid)
        return took

    def restart(self) -> Banner:
        """Stop (gracefully) and start again on the same directory and database."""
        self.stop()
        self.start()
        return self.demo

    def kill(self) -> None:
        """SIGKILL everything the server started (a failed test must not leave it behind)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def vox(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``vox ARGS`` of this virtualenv, in the server's directory, on its database."""
        return run_vox(*args, cwd=self.workdir, env={**self.env, **(env or {})}, check=check)


def run_vox(
    *args: str, cwd: Path, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(VOX), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
    )
    if check:
        assert result.returncode == 0, (
            f"vox {shlex.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}"
        )
    return result


def _wait_for_group_exit(pgid: int) -> None:
    """The server's workers are gone too (not orphaned, still holding the port)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    pytest.fail("a process of vox serve outlived it")


# --- databases -------------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """An empty PostgreSQL database (a plain ``postgresql://`` URL, as a user writes it),
    dropped afterwards."""
    name = f"voxnumbers_e2e_{uuid.uuid4().hex[:8]}"
    asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _postgres_admin(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="module", params=BACKENDS)
def e2e_backend(request: pytest.FixtureRequest) -> str:
    """The database engine the module's servers run on."""
    return str(request.param)


@pytest.fixture(scope="module")
def server_env(e2e_backend: str) -> Iterator[dict[str, str]]:
    """The environment of the module's servers: SQLite in their directory (the default), or
    a PostgreSQL database of the module's own, migrated with ``vox migrate``."""
    if e2e_backend == "sqlite":
        yield server_environment("")
        return
    with fresh_postgres_database() as url:
        env = server_environment(url)
        migrated = run_vox("migrate", cwd=Path.cwd(), env=env)
        assert re.search(r"applied [1-9]\d* migration", migrated.stdout), migrated.stdout
        yield env


@pytest.fixture(scope="module")
def demo_server(
    server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[VoxServer]:
    """``vox serve`` on a fresh database, with the demo it made; stopped gracefully after
    the module's tests (teardown fails if SIGTERM does not make it exit 0)."""
    server = VoxServer(tmp_path_factory.mktemp("serve"), server_env)
    try:
        server.start()
        yield server
        if server.process is not None:
            server.stop()
    finally:
        server.kill()


@pytest.fixture(scope="module")
def api(demo_server: VoxServer) -> Iterator[httpx.Client]:
    """HTTP client on the demo account (Bearer demo key), following restarts (same port)."""
    with demo_server.client() as client:
        yield client
