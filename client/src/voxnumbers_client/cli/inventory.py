"""``vox inventory search``: numbers available to buy."""

from __future__ import annotations

from typing import Any

import typer

from voxnumbers_client._models import AvailableNumber
from voxnumbers_client._params import InventorySearchParams
from voxnumbers_client.cli._options import AllOption, LimitOption, api_options, walking
from voxnumbers_client.cli._output import OutputOption, print_page
from voxnumbers_client.cli._state import client_of

app = typer.Typer(help="Numbers available to buy.", no_args_is_help=True)


@app.command("search")
@api_options(InventorySearchParams)
def search(
    ctx: typer.Context,
    params: dict[str, Any],
    all_pages: AllOption = False,
    limit: LimitOption = None,
    output: OutputOption = None,
) -> None:
    """Search inventory, ordered by number; buy one with `vox numbers buy`."""
    result = client_of(ctx).inventory.search(**walking(params, all_pages, limit))
    print_page(result, AvailableNumber, output, all_pages=all_pages, noun="numbers", limit=limit)
