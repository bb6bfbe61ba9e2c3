"""``vox admin numbers …``: the operator's transitions of a number."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.cli.records import in_transaction, print_record
from voxnumbers.cli.runtime import out, run_with_database
from voxnumbers.numbers import service
from voxnumbers.numbers.schemas import Number
from voxnumbers.ops.maintenance import return_cooled_off_numbers
from voxnumbers_client.cli._output import OutputFormat, OutputOption, print_row

numbers_app = typer.Typer(no_args_is_help=True, help="Activate, suspend, reinstate, sweep.")

E164 = Annotated[str, typer.Argument(help="The number, e.g. +14155551234.")]


def _apply(
    change: Callable[[AsyncConnection], Awaitable[Number]], output: OutputFormat | None
) -> None:
    number = in_transaction(change)
    print_record(number, output, f"{number.e164} is now {number.status}")


@numbers_app.command("activate")
def activate(e164: E164, output: OutputOption = None) -> None:
    """Pending -> active (provisioning is done)."""
    _apply(lambda conn: service.activate(conn, e164), output)


@numbers_app.command("suspend")
def suspend(
    e164: E164,
    reason: Annotated[str, typer.Option(help="Why, e.g. 'billing'. Sent in the event.")],
    output: OutputOption = None,
) -> None:
    """Active -> suspended."""
    _apply(lambda conn: service.suspend(conn, e164, reason), output)


@numbers_app.command("reinstate")
def reinstate(e164: E164, output: OutputOption = None) -> None:
    """Suspended -> active."""
    _apply(lambda conn: service.reinstate(conn, e164), output)


@numbers_app.command("sweep")
def sweep(output: OutputOption = None) -> None:
    """Return every number whose cooling-off is over to inventory now (servers also do
    this every VOX_MAINTENANCE_INTERVAL_SECONDS)."""
    returned = run_with_database(return_cooled_off_numbers)
    if output is None:
        out.print(f"returned {returned} number(s) to inventory")
    else:
        print_row({"returned": returned}, output)
