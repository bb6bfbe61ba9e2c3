"""The flags of ``vox``'s list commands against the server's own OpenAPI description: every
query parameter of a list the CLI wraps is a flag of the command, under the same name."""

from __future__ import annotations

from typing import Any

import pytest
import typer

from voxnumbers.app import create_app
from voxnumbers.db.engine import Database
from voxnumbers.settings import Settings
from voxnumbers_client.cli import USER_COMMANDS, build_app

ACCOUNT = "/v1/account/{account_id}"

#: Each list of the API and the ``vox`` command that shows it.
LIST_COMMANDS: dict[str, tuple[str, ...]] = {
    f"{ACCOUNT}/numbers": ("numbers", "list"),
    f"{ACCOUNT}/numbers/export": ("numbers", "export"),
    f"{ACCOUNT}/inventory/numbers": ("inventory", "search"),
    f"{ACCOUNT}/trunks": ("trunks", "list"),
    f"{ACCOUNT}/trunks/{{trunk_id}}/credentials": ("trunks", "credentials", "list"),
    f"{ACCOUNT}/trunks/{{trunk_id}}/ip-acl": ("trunks", "ip-acl", "list"),
    f"{ACCOUNT}/applications": ("applications", "list"),
    f"{ACCOUNT}/webhooks": ("webhooks", "list"),
    f"{ACCOUNT}/webhooks/{{webhook_id}}/deliveries": ("webhooks", "deliveries"),
    f"{ACCOUNT}/events": ("events", "list"),
    f"{ACCOUNT}/jobs": ("jobs", "list"),
    f"{ACCOUNT}/jobs/{{job_id}}/results": ("jobs", "results"),
}


@pytest.fixture
def openapi(database: Database) -> dict[str, Any]:
    app = create_app(Settings(log_level="warning", run_worker=False), database)
    return app.openapi_schema.to_schema()  # type: ignore[no-any-return]


def flags_of(*path: str) -> set[str]:
    command: Any = typer.main.get_command(build_app(load_plugins=False))
    for name in path:
        command = command.get_command(typer.Context(command), name)
        assert command is not None, f"no command vox {' '.join(path)}"
    return {
        flag
        for param in command.params
        for flag in (*param.opts, *getattr(param, "secondary_opts", ()))
    }


def query_parameters(openapi: dict[str, Any], path: str) -> list[str]:
    operation = openapi["paths"][path]["get"]
    return [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]


@pytest.mark.parametrize("path", sorted(LIST_COMMANDS))
def test_every_query_parameter_of_a_list_is_a_flag(openapi: dict[str, Any], path: str) -> None:
    names = query_parameters(openapi, path)
    assert "page" in names or path.endswith("/export")  # it is a list, described
    flags = flags_of(*LIST_COMMANDS[path])
    missing = [name for name in names if "--" + name.replace("_", "-") not in flags]
    assert not missing, f"vox {' '.join(LIST_COMMANDS[path])} lacks flags for {missing}"


def test_every_list_of_a_vox_command_group_is_covered(openapi: dict[str, Any]) -> None:
    """A new list under a group ``vox`` has (say ``GET …/numbers/{e164}/events``) must get a
    command and a line above."""
    lists = {
        path
        for path, item in openapi["paths"].items()
        if "get" in item
        and path.startswith(ACCOUNT + "/")
        and path.split("/")[4] in USER_COMMANDS
        and ("page" in query_parameters(openapi, path) or path.endswith("/export"))
    }
    assert lists == set(LIST_COMMANDS)


def test_the_old_flag_names_still_work() -> None:
    flags = flags_of("numbers", "list")
    assert {"--trunk", "--trunk-id", "--application", "--application-id"} <= flags
    assert {"--number", "--e164"} <= flags_of("events", "list")
