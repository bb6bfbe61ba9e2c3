"""Documentation coverage: every public SDK name and method, every CLI command and option.

Fails when something public is added without being described in ``docs/sdk.md`` or
``docs/cli.md``.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest
import typer

import voxnumbers_client
from voxnumbers_client import (
    AsyncClient,
    AsyncExportStream,
    AsyncPage,
    AsyncPaginator,
    Client,
    ExportStream,
    Page,
    webhooks,
)
from voxnumbers_client.cli import build_app
from voxnumbers_client.resources._base import SyncResource

DOCS = Path(__file__).resolve().parents[2] / "docs"
SDK_DOC = (DOCS / "sdk.md").read_text()
CLI_DOC = (DOCS / "cli.md").read_text()


def mentioned(name: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None


def resource_methods(obj: Any, prefix: str = "") -> list[str]:
    """``numbers.list``, ``trunks.credentials.create``, … for every resource of a client."""
    found = []
    for attr, value in vars(obj).items():
        if isinstance(value, SyncResource) and not attr.startswith("_"):
            path = f"{prefix}{attr}"
            found += [f"{path}.{m}" for m in _public_methods(type(value))]
            found += resource_methods(value, f"{path}.")
    return found


def _public_methods(cls: type) -> list[str]:
    return [
        name
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and (callable(member) or isinstance(member, property))
    ]


CLIENT = Client("tvx_sk_test_docs", account_id="acc_docs")


@pytest.mark.parametrize("name", voxnumbers_client.__all__)
def test_every_exported_name_is_documented(name: str) -> None:
    assert mentioned(name, SDK_DOC), f"{name} is not in docs/sdk.md"


@pytest.mark.parametrize("path", resource_methods(CLIENT))
def test_every_resource_method_is_documented(path: str) -> None:
    assert mentioned(path, SDK_DOC), f"{path} is not in docs/sdk.md"


@pytest.mark.parametrize(
    "cls", [Client, AsyncClient, Page, AsyncPage, AsyncPaginator, ExportStream, AsyncExportStream]
)
def test_every_public_member_of_the_core_classes_is_documented(cls: type) -> None:
    missing = [name for name in _public_methods(cls) if not mentioned(name, SDK_DOC)]
    assert not missing, f"{cls.__name__}: {missing} not in docs/sdk.md"


def test_every_webhooks_function_and_constant_is_documented() -> None:
    missing = [name for name in webhooks.__all__ if not mentioned(name, SDK_DOC)]
    assert not missing, f"voxnumbers_client.webhooks: {missing} not in docs/sdk.md"


# -- the command line ----------------------------------------------------------------------


def cli_sections() -> dict[str, str]:
    """Each ``### `vox …``` heading of cli.md and the text under it."""
    parts = re.split(r"^### `(vox [^`]+)`\s*$", CLI_DOC, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def cli_commands(command: Any, prefix: str = "vox") -> list[tuple[str, Any]]:
    """Every command under ``command``, loading the lazily imported groups as ``vox`` does."""
    found = []
    ctx = typer.Context(command)
    for name in getattr(command, "list_commands", lambda ctx: [])(ctx):
        sub = command.get_command(ctx, name)
        path = f"{prefix} {name}"
        found.append((path, sub))
        if hasattr(sub, "commands"):
            found += cli_commands(sub, path)
    return found


ROOT = typer.main.get_command(build_app(load_plugins=False))
COMMANDS = cli_commands(ROOT)
USER_GROUPS = {"vox numbers", "vox inventory", "vox trunks", "vox applications"}
USER_GROUPS |= {"vox webhooks", "vox events", "vox jobs"}


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_has_a_section_naming_its_options(path: str, command: Any) -> None:
    if path in USER_GROUPS:  # the groups are the page's ## headings
        assert f"## {path.split()[1].capitalize()}" in CLI_DOC
        return
    sections = cli_sections()
    assert path in sections, f"no '### `{path}`' section in docs/cli.md"
    flags = [
        flag
        for param in command.params
        for flag in (*param.opts, *getattr(param, "secondary_opts", ()))
        if flag.startswith("-") and flag != "--help"
    ]
    missing = [flag for flag in flags if not mentioned(flag, sections[path])]
    assert not missing, f"{path}: {missing} not described in its section of docs/cli.md"


def test_the_global_options_are_documented() -> None:
    flags = [flag for param in ROOT.params for flag in param.opts if flag != "--help"]
    assert flags and all(mentioned(flag, CLI_DOC) for flag in flags)


def test_no_section_documents_a_command_that_does_not_exist() -> None:
    assert set(cli_sections()) <= {path for path, _ in COMMANDS}
