"""The installed ``vox`` script: the client's user commands and, plugged in by the server,
the operator commands, in one command. (That user commands work when no plugin is installed
is in ``test_cli.py``.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

VOX = Path(sys.executable).parent / "vox"
USER_COMMANDS = ["numbers", "inventory", "trunks", "applications", "webhooks", "events"]
OPERATOR_COMMANDS = ["serve", "migrate", "worker", "admin"]


def run_vox(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VOX_")},
        "COLUMNS": "200",
        "NO_COLOR": "1",
        "TERM": "dumb",
    }
    return subprocess.run(
        [str(VOX), *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def listed_commands(help_text: str) -> set[str]:
    """The first word of each line of ``--help``'s command list (boxed by Rich or not)."""
    names = set()
    for line in help_text.splitlines():
        words = line.strip(" │|\u2502").split()
        if words:
            names.add(words[0])
    return names


def test_vox_help_lists_user_and_operator_commands() -> None:
    result = run_vox("--help")
    assert result.returncode == 0, result.stderr
    assert "could not be loaded" not in result.stderr
    commands = listed_commands(result.stdout)
    assert set(USER_COMMANDS) <= commands, result.stdout
    assert set(OPERATOR_COMMANDS) <= commands, result.stdout


def modules_imported_by(*args: str) -> set[str]:
    """The top-level packages ``vox ARGS…`` imported (it runs, then reports ``sys.modules``)."""
    script = (
        "import sys\n"
        "from voxnumbers_client.cli import main\n"
        f"sys.argv = ['vox', *{list(args)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOX_")}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    return set(result.stderr.split())


def test_version_imports_neither_the_server_nor_the_sdk() -> None:
    imported = modules_imported_by("--version")
    assert "typer" in imported
    assert not imported & {"voxnumbers", "sqlalchemy", "litestar", "httpx", "asyncio"}


def test_a_user_command_imports_the_sdk_but_not_the_server() -> None:
    imported = modules_imported_by("numbers", "list", "--help")
    assert "httpx" in imported
    assert not imported & {"voxnumbers", "sqlalchemy", "litestar", "asyncio"}


def test_an_operator_command_loads_the_server_plugin() -> None:
    imported = modules_imported_by("admin", "--help")
    assert {"voxnumbers", "sqlalchemy"} <= imported
