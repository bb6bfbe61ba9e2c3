"""The ``vox`` command: user commands here, operator commands plugged in by the server.

Packages extend ``vox`` through the entry-point group ``voxnumbers.cli``: each entry point
names a callable ``register(app: typer.Typer) -> None`` that adds its commands. Plugin
commands find the global options in ``ctx.find_object(CliState)``.

Plugins are loaded only when a command that is not a user command is asked for, or the
command list is shown (``vox --help``): the server's plugin imports SQLAlchemy and Litestar,
which ``vox --version`` and ``vox numbers list`` have no use for (see bench/cli_startup.py).
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer
import typer.main
from typer.core import TyperGroup

from voxnumbers_client._version import __version__
from voxnumbers_client.cli._state import ClientFactory, CliState

PLUGIN_GROUP = "voxnumbers.cli"

#: The user command groups, in the order ``vox --help`` lists them, and the module whose
#: ``app`` each is. A group's module (and the SDK with it) is imported when it is used.
USER_COMMANDS: dict[str, str] = {
    name: f"voxnumbers_client.cli.{name}"
    for name in (
        "numbers",
        "inventory",
        "trunks",
        "applications",
        "webhooks",
        "events",
        "jobs",
        "whoami",
    )
}
#: Those of them that are one command rather than a group of commands.
SINGLE_COMMANDS = frozenset({"whoami"})


class VoxGroup(TyperGroup):
    """The root group: loads the user command groups on demand and turns SDK errors from
    any command into a message and exit code 1."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in USER_COMMANDS and cmd_name not in self.commands:
            module = importlib.import_module(USER_COMMANDS[cmd_name])
            if cmd_name in SINGLE_COMMANDS:
                group = typer.main.get_command(module.app)
            else:
                group = typer.main.get_group(module.app)
            group.name = cmd_name
            self.commands[cmd_name] = group
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: Any) -> list[str]:
        listed = super().list_commands(ctx)
        return [*USER_COMMANDS, *(name for name in listed if name not in USER_COMMANDS)]

    def invoke(self, ctx: Any) -> Any:
        from voxnumbers_client._errors import VoxError

        try:
            return super().invoke(ctx)
        except VoxError as exc:
            from voxnumbers_client.cli._output import report_error

            report_error(exc)
            raise typer.Exit(1) from exc


class PluggableVoxGroup(VoxGroup):
    """The root group with the installed plugins' commands, loaded on first need."""

    _plugins_loaded = False

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is None and self._load_plugins():
            command = super().get_command(ctx, cmd_name)
        return command

    def list_commands(self, ctx: Any) -> list[str]:
        self._load_plugins()
        return super().list_commands(ctx)

    def _load_plugins(self) -> bool:
        """Add the plugins' commands once; whether this call loaded them."""
        if self._plugins_loaded:
            return False
        self._plugins_loaded = True
        plugged = typer.Typer()
        _load_plugins(plugged)
        if plugged.registered_commands or plugged.registered_groups:
            for name, command in typer.main.get_group(plugged).commands.items():
                self.commands.setdefault(name, command)
        return True


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"vox {__version__}")
        raise typer.Exit()


def build_app(
    *, client_factory: ClientFactory | None = None, load_plugins: bool = True
) -> typer.Typer:
    """The root ``vox`` application with the user commands and every installed plugin.

    ``client_factory`` builds the client commands use (default ``Client``; tests pass one
    bound to a fake API).
    """
    app = typer.Typer(
        name="vox",
        cls=PluggableVoxGroup if load_plugins else VoxGroup,
        help="Manage phone numbers through the TryVox numbers API.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def _root(
        ctx: typer.Context,
        api_key: Annotated[
            str | None,
            typer.Option(
                "--api-key", envvar="VOX_API_KEY", help="API key (tvx_sk_…).", show_default=False
            ),
        ] = None,
        base_url: Annotated[
            str | None,
            typer.Option(
                "--base-url",
                envvar="VOX_BASE_URL",
                help="API root URL (default: https://api.tryvox.io).",
                show_default=False,
            ),
        ] = None,
        account: Annotated[
            str | None,
            typer.Option("--account", envvar="VOX_ACCOUNT_ID", help="Account id (acc_…)."),
        ] = None,
        version: Annotated[
            bool,
            typer.Option(
                "--version", callback=_print_version, is_eager=True, help="Show the version."
            ),
        ] = False,
    ) -> None:
        """Manage phone numbers through the TryVox numbers API."""
        state = CliState(api_key, account, base_url, factory=client_factory)
        ctx.obj = state
        ctx.call_on_close(state.close)

    return app


def _load_plugins(app: typer.Typer) -> None:
    """Let installed packages add commands; a broken plugin must not break ``vox``."""
    from importlib.metadata import entry_points  # scanning installed packages takes time

    for entry_point in entry_points(group=PLUGIN_GROUP):
        try:
            entry_point.load()(app)
        except Exception as exc:  # any failure in third-party code
            typer.echo(f"vox: plugin {entry_point.name!r} could not be loaded: {exc}", err=True)


def main() -> None:
    """Entry point of the ``vox`` script."""
    build_app()()


__all__ = ["PLUGIN_GROUP", "CliState", "VoxGroup", "build_app", "main"]
