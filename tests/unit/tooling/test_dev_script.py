"""``./dev``: relative paths are the caller's, unknown commands fail with the usage."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DEV = ROOT / "dev"


def fake_environment(venv: Path) -> None:
    """A prepared environment whose ``vox`` prints where it runs and what it was given."""
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    vox = venv / "bin" / "vox"
    vox.write_text('#!/bin/sh\npwd\necho "$@"\n')
    vox.chmod(0o755)
    installed = b"".join(
        (ROOT / name).read_bytes()
        for name in ("pyproject.toml", "client/pyproject.toml", "constraints.txt")
    )
    (venv / ".installed").write_text(hashlib.sha256(installed).hexdigest() + "\n")


def run_dev(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VOX_VENV": "venv"}  # relative: from where ./dev is called
    return subprocess.run(
        [str(DEV), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_vox_runs_where_dev_was_called(tmp_path: Path) -> None:
    fake_environment(tmp_path / "venv")
    result = run_dev("vox", "numbers", "export", "-o", "x.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(tmp_path), "numbers export -o x.csv"]


def test_an_unknown_command_fails_with_the_usage(tmp_path: Path) -> None:
    result = run_dev("bogus", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == "./dev: unknown command 'bogus'"
    assert "./dev test" in result.stderr


def test_help_prints_the_usage(tmp_path: Path) -> None:
    for args in ((), ("help",)):
        result = run_dev(*args, cwd=tmp_path)
        assert result.returncode == 0
        assert result.stdout.splitlines()[0] == "voxnumbers developer entry point."
