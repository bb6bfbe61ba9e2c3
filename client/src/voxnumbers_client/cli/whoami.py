"""``vox whoami``: which account and which world (live or test) the key acts in."""

from __future__ import annotations

import typer

from voxnumbers_client.cli._output import OutputOption, print_row
from voxnumbers_client.cli._state import client_of

app = typer.Typer(add_completion=False)


@app.command()
def whoami(ctx: typer.Context, output: OutputOption = None) -> None:
    """Show the account, the key's mode (live or test) and the API's URL; the key is
    checked against the API first."""
    client = client_of(ctx)
    client.numbers.list(per_page=1, page=1)  # 401 or 403 here for a key that does not work
    print_row(
        {"account_id": client.account_id, "mode": client.mode, "base_url": client.base_url},
        output,
    )
