"""``vox inventory search``: numbers available to buy."""

from __future__ import annotations

from typing import Annotated

import typer

from voxnumbers_client._models import AvailableNumber
from voxnumbers_client.cli._options import (
    AllOption,
    CapabilityOption,
    PageOption,
    PerPageOption,
    given,
    paging,
)
from voxnumbers_client.cli._output import OutputOption, print_page
from voxnumbers_client.cli._state import client_of

app = typer.Typer(help="Numbers available to buy.", no_args_is_help=True)


@app.command("search")
def search(
    ctx: typer.Context,
    country: Annotated[str | None, typer.Option("--country", help="ISO alpha-2 code.")] = None,
    type_: Annotated[str | None, typer.Option("--type", help="local, toll_free or mobile.")] = None,
    region: Annotated[str | None, typer.Option("--region", help="State or region.")] = None,
    capability: CapabilityOption = None,
    contains: Annotated[
        str | None, typer.Option("--contains", help="Digits the number contains.")
    ] = None,
    page: PageOption = None,
    per_page: PerPageOption = None,
    all_pages: AllOption = False,
    output: OutputOption = None,
) -> None:
    """Search inventory, ordered by number; buy one with `vox numbers buy`."""
    filters = given(
        country=country, type=type_, region=region, capability=capability, contains=contains
    )
    result = client_of(ctx).inventory.search(**filters, **paging(page, per_page, all_pages))
    print_page(result, AvailableNumber, output, all_pages=all_pages, noun="numbers")
