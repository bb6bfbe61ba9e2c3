"""The ``vox`` command: user commands here, operator commands plugged in by the server.

Packages extend ``vox`` through the entry-point group ``voxnumbers.cli``: each entry point
names a callable ``register(app: typer.Typer) -> None`` that adds its commands.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import typer

PLUGIN_GROUP = "voxnumbers.cli"


def build_app() -> typer.Typer:
    """The root ``vox`` application with every installed plugin's commands added."""
    app = typer.Typer(
        name="vox",
        help="Manage phone numbers through the TryVox numbers API.",
        no_args_is_help=True,
        add_completion=False,
    )

    @app.callback()
    def _root() -> None:
        """Manage phone numbers through the TryVox numbers API."""

    for entry_point in entry_points(group=PLUGIN_GROUP):
        register = entry_point.load()
        register(app)
    return app


def main() -> None:
    build_app()()
