"""``vox events list``: what happened to the account's numbers."""

from __future__ import annotations

from typing import Annotated

import typer

from voxnumbers_client._models import Event
from voxnumbers_client.cli._options import AllOption, PageOption, PerPageOption, given, paging
from voxnumbers_client.cli._output import OutputOption, print_page
from voxnumbers_client.cli._state import client_of

app = typer.Typer(help="Events of the account's numbers.", no_args_is_help=True)


@app.command("list")
def list_events(
    ctx: typer.Context,
    type_: Annotated[
        str | None, typer.Option("--type", help="Only this type, e.g. number.released.")
    ] = None,
    number: Annotated[
        str | None, typer.Option("--number", help="Only events of this E.164 number.")
    ] = None,
    page: PageOption = None,
    per_page: PerPageOption = None,
    all_pages: AllOption = False,
    output: OutputOption = None,
) -> None:
    """List events, newest first."""
    filters = given(type=type_, e164=number)
    result = client_of(ctx).events.list(**filters, **paging(page, per_page, all_pages))
    print_page(result, Event, output, all_pages=all_pages, noun="events")
