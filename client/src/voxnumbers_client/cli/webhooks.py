"""``vox webhooks …``: where the account's events are delivered."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from voxnumbers_client._models import WebhookDelivery, WebhookEndpoint
from voxnumbers_client._params import PageParams
from voxnumbers_client.cli._options import (
    AllOption,
    LimitOption,
    YesOption,
    api_options,
    confirm,
    walking,
)
from voxnumbers_client.cli._output import OutputOption, note, print_item, print_page
from voxnumbers_client.cli._state import client_of

app = typer.Typer(help="Webhook endpoints.", no_args_is_help=True)

WebhookIdArgument = Annotated[str, typer.Argument(help="The endpoint's id.")]


@app.command("list")
@api_options(PageParams)
def list_webhooks(
    ctx: typer.Context,
    params: dict[str, Any],
    all_pages: AllOption = False,
    limit: LimitOption = None,
    output: OutputOption = None,
) -> None:
    """List the account's webhook endpoints."""
    result = client_of(ctx).webhooks.list(**walking(params, all_pages, limit))
    print_page(result, WebhookEndpoint, output, all_pages=all_pages, noun="endpoints", limit=limit)


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


@app.command("deliveries")
@api_options(PageParams)
def list_deliveries(
    ctx: typer.Context,
    webhook_id: WebhookIdArgument,
    params: dict[str, Any],
    all_pages: AllOption = False,
    limit: LimitOption = None,
    output: OutputOption = None,
) -> None:
    """List an endpoint's deliveries, newest first: status, attempts, last response status,
    next attempt."""
    result = client_of(ctx).webhooks.deliveries(webhook_id, **walking(params, all_pages, limit))
    print_page(result, WebhookDelivery, output, all_pages=all_pages, noun="deliveries", limit=limit)


@app.command("redeliver")
def redeliver(
    ctx: typer.Context,
    webhook_id: WebhookIdArgument,
    delivery_id: Annotated[str, typer.Argument(help="The delivery's id (dlv_…).")],
    output: OutputOption = None,
) -> None:
    """Queue a delivery again, due now."""
    print_item(client_of(ctx).webhooks.redeliver(webhook_id, delivery_id), output)
