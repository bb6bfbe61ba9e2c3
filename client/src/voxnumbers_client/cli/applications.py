"""``vox applications …``: voice applications numbers can route to."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from voxnumbers_client._models import Application
from voxnumbers_client._params import PageParams
from voxnumbers_client.cli._options import (
    AllOption,
    ForceOption,
    LimitOption,
    YesOption,
    api_options,
    confirm,
    given,
    walking,
)
from voxnumbers_client.cli._output import OutputOption, print_item, print_page
from voxnumbers_client.cli._state import client_of

app = typer.Typer(help="Voice applications.", no_args_is_help=True)

AppIdArgument = Annotated[str, typer.Argument(help="The application's id (app_…).")]
AnswerUrl = Annotated[str | None, typer.Option("--answer-url", help="Called when a call comes in.")]
AnswerMethod = Annotated[str | None, typer.Option("--answer-method", help="GET or POST.")]
HangupUrl = Annotated[str | None, typer.Option("--hangup-url", help="Called when a call ends.")]
HangupMethod = Annotated[str | None, typer.Option("--hangup-method", help="GET or POST.")]
FallbackUrl = Annotated[
    str | None, typer.Option("--fallback-url", help="Called when the answer URL fails.")
]
WebhookSecret = Annotated[
    str | None,
    typer.Option("--webhook-secret", help="Secret to sign callbacks with (write-only)."),
]


@app.command("list")
@api_options(PageParams)
def list_applications(
    ctx: typer.Context,
    params: dict[str, Any],
    all_pages: AllOption = False,
    limit: LimitOption = None,
    output: OutputOption = None,
) -> None:
    """List the account's applications."""
    result = client_of(ctx).applications.list(**walking(params, all_pages, limit))
    print_page(result, Application, output, all_pages=all_pages, noun="applications", limit=limit)


@app.command("get")
def get_application(ctx: typer.Context, app_id: AppIdArgument, output: OutputOption = None) -> None:
    """Show one application."""
    print_item(client_of(ctx).applications.get(app_id), output)


@app.command("create")
def create_application(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="A name to recognise it by.")],
    answer_url: AnswerUrl = None,
    answer_method: AnswerMethod = None,
    hangup_url: HangupUrl = None,
    hangup_method: HangupMethod = None,
    fallback_url: FallbackUrl = None,
    webhook_secret: WebhookSecret = None,
    output: OutputOption = None,
) -> None:
    """Create an application."""
    fields = given(
        answer_url=answer_url,
        answer_method=answer_method,
        hangup_url=hangup_url,
        hangup_method=hangup_method,
        fallback_url=fallback_url,
        webhook_secret=webhook_secret,
    )
    print_item(client_of(ctx).applications.create(name, **fields), output)


@app.command("update")
def update_application(
    ctx: typer.Context,
    app_id: AppIdArgument,
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    answer_url: AnswerUrl = None,
    answer_method: AnswerMethod = None,
    hangup_url: HangupUrl = None,
    hangup_method: HangupMethod = None,
    fallback_url: FallbackUrl = None,
    webhook_secret: WebhookSecret = None,
    output: OutputOption = None,
) -> None:
    """Change the fields given; the others keep their values."""
    fields = given(
        name=name,
        answer_url=answer_url,
        answer_method=answer_method,
        hangup_url=hangup_url,
        hangup_method=hangup_method,
        fallback_url=fallback_url,
        webhook_secret=webhook_secret,
    )
    if not fields:
        raise typer.BadParameter("Nothing to change: give at least one option.")
    print_item(client_of(ctx).applications.update(app_id, **fields), output)


@app.command("delete")
def delete_application(
    ctx: typer.Context,
    app_id: AppIdArgument,
    force: ForceOption = False,
    yes: YesOption = False,
    output: OutputOption = None,
) -> None:
    """Delete an application (refused while numbers route to it, unless --force)."""
    confirm(f"Delete application {app_id}?", yes)
    print_item(client_of(ctx).applications.delete(app_id, force=force), output)
