"""``vox admin inventory …``: put numbers up for sale from a CSV file."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from voxnumbers.cli.runtime import err, load_settings, out, run_with_database
from voxnumbers.db.engine import Database
from voxnumbers.inventory import service as inventory
from voxnumbers.inventory.importer import COLUMNS, Problem, ValidatedFile, read_inventory_file
from voxnumbers.inventory.schemas import InventoryEntry
from voxnumbers_client.cli._output import OutputFormat, OutputOption, print_row

inventory_app = typer.Typer(no_args_is_help=True, help="Put numbers up for sale.")

PROBLEMS_SHOWN = 50


@inventory_app.command("import")
def import_inventory(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help=f"CSV file with a header row; columns: {', '.join(COLUMNS)} "
            "(e164 and monthly_fee required).",
        ),
    ],
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid",
            help="Import the valid rows and list the others. Without it, one invalid row "
            "means nothing is imported.",
        ),
    ] = False,
    batch_size: Annotated[
        int, typer.Option(min=1, max=10_000, help="Numbers written per statement.")
    ] = 5_000,
    output: OutputOption = None,
) -> None:
    """Validate every row of FILE, then put its numbers up for sale in one transaction.

    Numbers already for sale or owned by an account are left as they are, so importing the
    same file again changes nothing. Country, type and region are taken from the numbering
    plan when left empty.
    """
    settings = load_settings()
    with _progress() as progress:
        checking = progress.add_task("checking", total=file.stat().st_size)
        checked = read_inventory_file(
            file, progress=lambda chars: progress.advance(checking, chars)
        )
        progress.update(checking, completed=file.stat().st_size)
        _print_problems(checked.problems)
        if not checked.readable:
            err.print("[red]error:[/red] the header row is not usable: nothing imported")
            raise typer.Exit(1)
        if checked.problems and not skip_invalid:
            err.print(
                f"[red]error:[/red] {len(checked.problems):,} invalid row(s) of "
                f"{checked.rows:,}: nothing imported. Fix them, or pass --skip-invalid to "
                "import the valid rows only.",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1)
        importing = progress.add_task("importing", total=len(checked.entries))

        async def _import(database: Database) -> int:
            return await _add_in_batches(
                database,
                checked.entries,
                batch_size,
                lambda count: progress.advance(importing, count),
            )

        added = run_with_database(_import, settings)
    _print_summary(checked, added, output)


async def _add_in_batches(
    database: Database,
    entries: Sequence[InventoryEntry],
    batch_size: int,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """All entries in ONE transaction, written a batch at a time: an interruption or error
    anywhere (even in the last batch) leaves the inventory exactly as it was."""
    async with database.transaction() as conn:
        return await inventory.import_entries(conn, entries, batch_size, on_batch)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<9}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


def _print_problems(problems: Sequence[Problem]) -> None:
    # Reasons quote the file's contents: print them as plain text, never as Rich markup.
    for problem in problems[:PROBLEMS_SHOWN]:
        err.print(
            f"line {problem.line}: {problem.reason}", markup=False, highlight=False, soft_wrap=True
        )
    if len(problems) > PROBLEMS_SHOWN:
        err.print(f"… and {len(problems) - PROBLEMS_SHOWN:,} more invalid row(s)", highlight=False)


def _print_summary(checked: ValidatedFile, added: int, output: OutputFormat | None) -> None:
    present = len(checked.entries) - added
    if output is not None:
        counts = {"added": added, "present": present, "invalid": len(checked.problems)}
        print_row(counts, output)
        return
    out.print(
        f"{added:,} added, {present:,} already present (for sale or owned), "
        f"{len(checked.problems):,} skipped as invalid",
        highlight=False,
        soft_wrap=True,
    )
