"""``vox webhooks …``: where the account's events are delivered."""

from __future__ import annotations

from typing import Annotated

import typer

from voxnumbers_client._models import WebhookEndpoint
from voxnumbers_client.cli._options import (
    AllOption,
    PageOption,
    PerPageOption,
    YesOption,
    confirm,
    paging,
)
from voxnumbers_client.cli._output import OutputOption, note, print_item, print_page
from voxnumbers_client.cli._state import client_of

app = typer.Typer(help="Webhook endpoints.", no_args_is_help=True)

WebhookIdArgument = Annotated[str, typer.Argument(help="The endpoint's id.")]


@app.command("list")
def list_webhooks(
    ctx: typer.Context,
    page: PageOption = None,
    per_page: PerPageOption = None,
    all_pages: AllOption = False,
    output: OutputOption = None,
) -> None:
    """List the account's webhook endpoints."""
    result = client_of(ctx).webhooks.list(**paging(page, per_page, all_pages))
    print_page(result, WebhookEndpoint, output, all_pages=all_pages, noun="endpoints")


@app.command("get")
def get_webhook(
    ctx: typer.Context, webhook_id: WebhookIdArgument, output: OutputOption = None
) -> None:
    """Show one endpoint (without its secret)."""
    print_item(client_of(ctx).webhooks.get(webhook_id), output)


@app.command("create")
def create_webhook(
    ctx: typer.Context,
    url: Annotated[str, typer.Option("--url", help="The https URL to deliver events to.")],
    event_type: Annotated[
        list[str] | None,
        typer.Option("--event-type", help="Deliver only this type; repeatable (default: all)."),
    ] = None,
    output: OutputOption = None,
) -> None:
    """Register an endpoint and print its signing secret (shown only this once)."""
    endpoint = client_of(ctx).webhooks.create(url, event_types=event_type or None)
    print_item(endpoint, output)
    note("Store the secret now: it is not shown again.")


@app.command("delete")
def delete_webhook(
    ctx: typer.Context,
    webhook_id: WebhookIdArgument,
    yes: YesOption = False,
    output: OutputOption = None,
) -> None:
    """Remove an endpoint; no more events are delivered to it."""
    confirm(f"Delete webhook endpoint {webhook_id}?", yes)
    print_item(client_of(ctx).webhooks.delete(webhook_id), output)
