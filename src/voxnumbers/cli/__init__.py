"""Operator commands of ``vox``: ``serve``, ``migrate`` and ``admin …``.

The ``vox`` entry point belongs to the client distribution; this package plugs into it
through the ``voxnumbers.cli`` entry-point group (see ``register``).
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the operator commands to the root ``vox`` application."""
    from voxnumbers.cli.admin import admin_app
    from voxnumbers.cli.serve import migrate, serve
    from voxnumbers.cli.worker import worker

    app.command(help="Run the API server (migrates SQLite and creates demo data first).")(serve)
    app.command(
        help="Migrate the database schema (SQLite and PostgreSQL): to the latest version, "
        "or up or down to --to REVISION."
    )(migrate)
    app.command(help="Deliver webhooks until interrupted (beside or in `vox serve`).")(worker)
    app.add_typer(admin_app, name="admin", help="Operator commands: accounts, keys, inventory.")
