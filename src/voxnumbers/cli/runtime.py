"""What every operator command shares: settings, a database, clean error exits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from voxnumbers.db.engine import Database
from voxnumbers.db.errors import DatabaseUnavailable
from voxnumbers.errors import ApiError
from voxnumbers.kit.actors import Actor, acting_as
from voxnumbers.kit.jsonc import to_json_data
from voxnumbers.settings import Settings, SettingsError

T = TypeVar("T")
# Changes made by operator commands, as the audit log names their actor.
COMMAND_LINE = Actor("system", "cli")

out = Console()
err = Console(stderr=True)


def as_row(obj: Any) -> dict[str, Any]:
    """An object (dataclass or msgspec struct) as the JSON the API would answer with."""
    row = to_json_data(obj)
    assert isinstance(row, dict)
    return row


def load_settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


def open_database(settings: Settings) -> Database:
    return Database(
        settings.resolved_database_url,
        pool_size=2,
        pool_timeout=settings.db_pool_timeout_seconds,
        connect_timeout=settings.db_connect_timeout_seconds,
        statement_timeout=max(settings.db_statement_timeout_seconds, 600),
    )


def run_with_database(
    work: Callable[[Database], Awaitable[T]], settings: Settings | None = None
) -> T:
    """Run ``work`` against the configured database; domain errors exit 1 with their message."""
    settings = settings or load_settings()

    async def _main() -> T:
        database = open_database(settings)
        try:
            with acting_as(COMMAND_LINE):
                return await work(database)
        finally:
            await database.dispose()

    try:
        return asyncio.run(_main())
    except ApiError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True, highlight=False)
        raise typer.Exit(1) from exc
    except DatabaseUnavailable as exc:
        cause = type(exc.__cause__).__name__ if exc.__cause__ else "unavailable"
        err.print(
            f"[red]error:[/red] the database is not reachable ({cause}); check VOX_DATABASE_URL",
            soft_wrap=True,
            highlight=False,
        )
        raise typer.Exit(1) from exc
