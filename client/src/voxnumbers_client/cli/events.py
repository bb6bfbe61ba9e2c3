"""``vox events list``: what happened to the account's numbers."""

from __future__ import annotations

from typing import Any

import typer

from voxnumbers_client._models import Event
from voxnumbers_client._params import EventListParams
from voxnumbers_client.cli._options import AllOption, LimitOption, api_options, walking
from voxnumbers_client.cli._output import OutputOption, print_page
from voxnumbers_client.cli._state import client_of

app = typer.Typer(help="Events of the account's numbers.", no_args_is_help=True)


@app.command("list")
@api_options(EventListParams)
def list_events(
    ctx: typer.Context,
    params: dict[str, Any],
    all_pages: AllOption = False,
    limit: LimitOption = None,
    output: OutputOption = None,
) -> None:
    """List events, newest first."""
    result = client_of(ctx).events.list(**walking(params, all_pages, limit))
    print_page(result, Event, output, all_pages=all_pages, noun="events", limit=limit)
