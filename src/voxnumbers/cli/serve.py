"""``vox serve`` and ``vox migrate``."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from voxnumbers.cli.runtime import err, load_settings, out, run_with_database
from voxnumbers.db.engine import Database
from voxnumbers.db.errors import ForeignKeyViolation
from voxnumbers.migrations import (
    BASE,
    HEAD,
    Migration,
    MigrationError,
    UnknownRevision,
    migrate_to,
    pending_migrations,
    resolve_revision,
    upgrade_to_head,
)
from voxnumbers.ops.metrics import MULTIPROCESS_DIRECTORY
from voxnumbers.settings import Settings


def migrate(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="REVISION",
            help="Bring the schema up or down to this revision: head (the latest), base (no "
            "schema) or a revision id such as 0007. Going down deletes what the older "
            "schema has no place for (see docs/operations.md, Rolling back a release).",
        ),
    ] = HEAD,
) -> None:
    """Bring the database schema to the latest version, or up or down to --to, in one
    transaction: a failure changes nothing."""
    try:
        resolve_revision(to)
    except UnknownRevision as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True, highlight=False)
        raise typer.Exit(2) from None

    async def _migrate(database: Database) -> Migration:
        return await migrate_to(database, to)

    try:
        migration = run_with_database(_migrate)
    except (MigrationError, ForeignKeyViolation) as exc:
        err.print(
            f"[red]error:[/red] {escape(str(exc))}; nothing was changed",
            soft_wrap=True,
            highlight=False,
        )
        raise typer.Exit(1) from None
    out.print(describe_migration(migration, to), highlight=False, soft_wrap=True)


def describe_migration(migration: Migration, target: str) -> str:
    """One line: what ``vox migrate`` did."""
    at = migration.after or BASE
    steps = ", ".join(migration.steps)
    if migration.direction == "up":
        return f"applied {len(migration.steps)} migration(s): {steps}; the schema is at {at}"
    if migration.direction == "down":
        return f"reverted {len(migration.steps)} migration(s): {steps}; the schema is at {at}"
    return f"schema is up to date ({at})" if target == HEAD else f"schema is already at {at}"


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [VOX_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [VOX_PORT].")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes [VOX_WORKERS].")] = None,
    demo: Annotated[bool, typer.Option(help="Create demo data on an empty database.")] = True,
    share_port: Annotated[
        bool,
        typer.Option(
            help="Serve even if another server listens on the port: the two share its "
            "connections (e.g. to start a new version before stopping the old one)."
        ),
    ] = False,
) -> None:
    """Run the API server. On SQLite the schema is migrated first; on PostgreSQL it must be
    current (`vox migrate`). On an empty database, demo data and a demo key are created.
    A port another server already listens on is refused, unless `--share-port`."""
    settings = load_settings().with_overrides(host=host, port=port, workers=workers)
    if not share_port:
        _refuse_a_port_in_use(settings.host, settings.port)

    async def _prepare(database: Database) -> None:
        try:
            if database.is_sqlite:
                await upgrade_to_head(database)
            elif pending := await pending_migrations(database):
                err.print(
                    f"[red]error:[/red] {len(pending)} migration(s) pending; run `vox migrate`"
                )
                raise typer.Exit(1)
        except MigrationError as exc:
            err.print(
                f"[red]error:[/red] {escape(str(exc))}; the server did not start",
                soft_wrap=True,
                highlight=False,
            )
            raise typer.Exit(1) from None
        if demo:
            from voxnumbers.cli.demo import ensure_demo, print_demo_banner

            info = await ensure_demo(
                database, Path("var") / "demo.json", cooling_off_days=settings.cooling_off_days
            )
            if info is not None:
                print_demo_banner(info, settings)

    run_with_database(_prepare, settings)
    _run_server(settings)


def _refuse_a_port_in_use(host: str, port: int) -> None:
    """Exit 1 with a clear error when something listens on ``host:port`` already. The
    server binds its port so that several processes may share it, so a second server would
    otherwise start without a word and take half of the first one's connections."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # Allows a port whose last server has just stopped (TIME_WAIT), never a listening one.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            err.print(
                f"[red]error:[/red] cannot listen on {host}:{port}: {exc.strerror or exc}. "
                "Another server is using this port: stop it, choose another port "
                "(--port or VOX_PORT), or pass --share-port to serve alongside it."
            )
            raise typer.Exit(1) from None


def _run_server(settings: Settings) -> None:

    # Workers build the app from the environment: hand them the effective settings.
    os.environ["VOX_HOST"] = settings.host
    os.environ["VOX_PORT"] = str(settings.port)
    shared = None
    if settings.workers > 1 and not os.environ.get(MULTIPROCESS_DIRECTORY):
        # Each worker counts into this directory, so a scrape of any one reports them all.
        shared = tempfile.mkdtemp(prefix="vox-metrics-")
        os.environ[MULTIPROCESS_DIRECTORY] = shared
    try:
        _serve(settings)
    finally:
        if shared is not None:
            shutil.rmtree(shared, ignore_errors=True)


def _serve(settings: Settings) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        "voxnumbers.app:app_from_environment",
        factory=True,
        address=settings.host,
        port=settings.port,
        workers=settings.workers,
        interface=Interfaces.ASGI,
        log_level=settings.log_level,  # type: ignore[arg-type]
        log_access=False,
        workers_kill_timeout=30,
        respawn_failed_workers=True,
    ).serve()
