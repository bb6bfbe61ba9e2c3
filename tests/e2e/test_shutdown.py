"""Starting and stopping ``vox serve`` as operators and developers do: SIGTERM (systemd,
Docker, Kubernetes), Ctrl-C in a terminal, and a PostgreSQL database that was not migrated."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_ADMIN_URL
from tests.e2e.conftest import (
    STOP_SECONDS,
    VOX,
    VoxServer,
    free_port,
    fresh_postgres_database,
    server_environment,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory for the module's servers: the second start finds the first's demo."""
    return tmp_path_factory.mktemp("lifecycle")


def last_used(server: VoxServer) -> str:
    """The ``last_used_at`` of the demo account's only key, as the operator reads it
    (``-`` when never used)."""
    listed = server.vox("admin", "keys", "list", "--account", server.account_id,
                        "--output", "json").stdout  # fmt: skip
    (key,) = json.loads(listed)
    return key["last_used_at"] or "-"


def assert_nothing_listens(port: int) -> None:
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))


def test_sigterm_exits_0_after_recording_key_usage(
    server_env: dict[str, str], workdir: Path
) -> None:
    # Key usage is written every VOX_KEY_USAGE_FLUSH_SECONDS, and once more at shutdown:
    # with an hour between writes, only a graceful shutdown records this test's request.
    server = VoxServer(workdir, {**server_env, "VOX_KEY_USAGE_FLUSH_SECONDS": "3600"})
    try:
        server.start()
        with server.client() as api:
            assert api.get("/numbers").status_code == 200
        assert last_used(server) == "-"

        took = server.stop(signal.SIGTERM)

        assert took < STOP_SECONDS
        assert_nothing_listens(server.port)
        assert last_used(server).startswith("20"), "key usage was flushed on the way out"
    finally:
        server.kill()


def test_ctrl_c_in_the_terminal_exits_0(server_env: dict[str, str], workdir: Path) -> None:
    server = VoxServer(workdir, server_env)
    try:
        server.start()
        with server.client() as api:
            assert api.get("/numbers").status_code == 200

        server.stop(signal.SIGINT, group=True)  # a terminal signals every process of the job

        assert_nothing_listens(server.port)
    finally:
        server.kill()


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_ADMIN_URL, reason="no PostgreSQL in this run")
def test_serve_refuses_a_postgresql_database_that_was_not_migrated(tmp_path: Path) -> None:
    port = free_port()
    with fresh_postgres_database() as url:
        env = {**server_environment(url), "VOX_HOST": "127.0.0.1", "VOX_PORT": str(port)}
        served = subprocess.run(
            [str(VOX), "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert served.returncode == 1, served.stdout + served.stderr
    assert "pending" in served.stderr and "vox migrate" in served.stderr, served.stderr
    assert "Traceback" not in served.stderr
    assert not (tmp_path / "var").exists(), "no demo state for a database it refused"
    assert_nothing_listens(port)
