"""The ``vox`` command: user commands here, operator commands plugged in by the server.

Packages extend ``vox`` through the entry-point group ``voxnumbers.cli``: each entry point
names a callable ``register(app: typer.Typer) -> None`` that adds its commands. Plugin
commands find the global options in ``ctx.find_object(CliState)``.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from voxnumbers_client._client import Client
from voxnumbers_client._errors import VoxAPIError, VoxError
from voxnumbers_client._version import __version__
from voxnumbers_client.cli import applications, events, inventory, numbers, trunks, webhooks
from voxnumbers_client.cli._state import ClientFactory, CliState

PLUGIN_GROUP = "voxnumbers.cli"

#: The user command groups, in the order ``vox --help`` lists them.
USER_COMMANDS: tuple[tuple[str, typer.Typer], ...] = (
    ("numbers", numbers.app),
    ("inventory", inventory.app),
    ("trunks", trunks.app),
    ("applications", applications.app),
    ("webhooks", webhooks.app),
    ("events", events.app),
)


class VoxGroup(TyperGroup):
    """The root group: turns SDK errors from any command into a message and exit code 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except VoxError as exc:
            report_error(exc)
            raise typer.Exit(1) from exc


def report_error(exc: VoxError) -> None:
    """Print an SDK error for a person: the API's message, details and request id."""
    if not isinstance(exc, VoxAPIError):
        typer.echo(f"Error: {exc}", err=True)
        return
    typer.echo(f"Error: {exc.message}", err=True)
    for detail in exc.details:
        typer.echo(f"  {detail.field}: {detail.reason}", err=True)
    typer.echo(
        f"  ({exc.code}, HTTP {exc.status}, request id: {exc.request_id or 'none'})", err=True
    )


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"vox {__version__}")
        raise typer.Exit()


def build_app(*, client_factory: ClientFactory = Client, load_plugins: bool = True) -> typer.Typer:
    """The root ``vox`` application with the user commands and every installed plugin.

    ``client_factory`` builds the client commands use (tests pass one bound to a fake API).
    """
    app = typer.Typer(
        name="vox",
        cls=VoxGroup,
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

    for name, sub_app in USER_COMMANDS:
        app.add_typer(sub_app, name=name)
    if load_plugins:
        _load_plugins(app)
    return app


def _load_plugins(app: typer.Typer) -> None:
    """Let installed packages add commands; a broken plugin must not break ``vox``."""
    for entry_point in entry_points(group=PLUGIN_GROUP):
        try:
            entry_point.load()(app)
        except Exception as exc:  # any failure in third-party code
            typer.echo(f"vox: plugin {entry_point.name!r} could not be loaded: {exc}", err=True)


def main() -> None:
    """Entry point of the ``vox`` script."""
    build_app()()


__all__ = ["PLUGIN_GROUP", "CliState", "VoxGroup", "build_app", "main"]
