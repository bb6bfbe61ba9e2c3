"""``vox numbers …``: list, inspect, buy, route, release and export the account's numbers."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, BinaryIO, cast

import typer

from voxnumbers_client._client import Client
from voxnumbers_client._errors import VoxError
from voxnumbers_client._models import BulkPlan, Job, Number, NumberRouting
from voxnumbers_client._params import BulkFilters, NumberFilters, NumberListParams
from voxnumbers_client.cli._options import (
    AllOption,
    IdempotencyKeyOption,
    LimitOption,
    YesOption,
    api_options,
    confirm,
    walking,
)
from voxnumbers_client.cli._output import (
    OutputOption,
    note,
    print_item,
    print_items,
    print_page,
    progress_bar,
    report_error,
    stderr_is_terminal,
)
from voxnumbers_client.cli._state import client_of
from voxnumbers_client.resources.numbers import BulkAction

app = typer.Typer(help="The account's numbers.", no_args_is_help=True)
bulk_app = typer.Typer(
    help="Change many numbers in one request: a job on the server, with a dry run.",
    no_args_is_help=True,
)
app.add_typer(bulk_app, name="bulk")

E164Argument = Annotated[str, typer.Argument(help="The number in E.164 form, e.g. +14155551234.")]


class ExportFormat(StrEnum):
    """The ``--format`` choices of ``vox numbers export``."""

    csv = "csv"
    ndjson = "ndjson"


@app.command("list")
@api_options(NumberListParams)
def list_numbers(
    ctx: typer.Context,
    params: dict[str, Any],
    all_pages: AllOption = False,
    limit: LimitOption = None,
    output: OutputOption = None,
) -> None:
    """List the account's numbers, oldest purchase first."""
    result = client_of(ctx).numbers.list(**walking(params, all_pages, limit))
    print_page(result, Number, output, all_pages=all_pages, noun="numbers", limit=limit)


@app.command("get")
def get_number(ctx: typer.Context, e164: E164Argument, output: OutputOption = None) -> None:
    """Show one number."""
    print_item(client_of(ctx).numbers.get(e164), output)


@app.command("buy")
def buy_numbers(
    ctx: typer.Context,
    e164s: Annotated[
        list[str], typer.Argument(help="One or more numbers in E.164 form.", show_default=False)
    ],
    country: Annotated[
        str | None,
        typer.Option(
            "--country",
            help="The numbers' country (default: read from inventory).",
            show_default=False,
        ),
    ] = None,
    idempotency_key: IdempotencyKeyOption = None,
    output: OutputOption = None,
) -> None:
    """Buy numbers from inventory (find them with `vox inventory search`), one request each.

    Each purchase carries an Idempotency-Key; with --idempotency-key K the key of each
    number is K (one number) or K:E164, so running the same command again buys nothing
    twice. A number that cannot be bought is reported and the others are still bought.
    """
    numbers = client_of(ctx).numbers
    bought: list[Number] = []
    failed: list[tuple[str, VoxError]] = []
    with progress_bar("Buying numbers", total=len(e164s)) as advance:
        for e164 in e164s:
            key = idempotency_key
            if key is not None and len(e164s) > 1:
                key = f"{key}:{e164}"
            try:
                bought.append(numbers.purchase(e164, country, idempotency_key=key))
            except VoxError as error:
                failed.append((e164, error))
            advance(1)
    if len(e164s) == 1 and bought:
        print_item(bought[0], output)
    elif bought:
        print_items(bought, Number, output)
    for number in bought:
        if number.status == "pending":
            note(f"{number.e164} is pending until it is provisioned.")
    if failed:
        for e164, problem in failed:
            note(f"{e164}: not bought")
            report_error(problem)
        if len(e164s) > 1:
            note(f"Bought {len(bought)} of {len(e164s)} numbers.")
        raise typer.Exit(1)


@app.command("assign")
def assign_number(
    ctx: typer.Context,
    e164: E164Argument,
    trunk: Annotated[str | None, typer.Option("--trunk", help="Route to this SIP trunk.")] = None,
    application: Annotated[
        str | None, typer.Option("--application", help="Route to this voice application.")
    ] = None,
    output: OutputOption = None,
) -> None:
    """Route a number to a SIP trunk or a voice application (replacing its current route)."""
    if (trunk is None) == (application is None):
        raise typer.BadParameter("Give exactly one of --trunk or --application.")
    numbers = client_of(ctx).numbers
    routed = (
        numbers.assign_trunk(e164, trunk)
        if trunk is not None
        else numbers.assign_application(e164, str(application))
    )
    print_item(routed, output)


@app.command("unassign")
def unassign_number(ctx: typer.Context, e164: E164Argument, output: OutputOption = None) -> None:
    """Remove a number's route, whether a trunk or an application."""
    print_item(_unassign(client_of(ctx), e164), output)


def _unassign(client: Client, e164: str) -> NumberRouting:
    number = client.numbers.get(e164)
    if number.application_id is not None:
        return client.numbers.unassign_application(e164)
    return client.numbers.unassign_trunk(e164)


@app.command("release")
def release_number(
    ctx: typer.Context,
    e164: E164Argument,
    preview: Annotated[
        bool, typer.Option("--preview", help="Only show what releasing would cost.")
    ] = False,
    yes: YesOption = False,
    output: OutputOption = None,
) -> None:
    """Release a number: shows the cost first, then asks; undo with `cancel-release`."""
    numbers = client_of(ctx).numbers
    quote = numbers.release_preview(e164)
    if preview:
        print_item(quote, output)
        return
    for warning in quote.warnings:
        note(f"Warning: {warning}")
    if not quote.can_release:
        note(f"{e164} cannot be released now.")
        raise typer.Exit(1)
    confirm(
        f"Release {e164}? Early termination fee {quote.early_termination_fee} {quote.currency}; "
        f"it can be taken back for {quote.cooling_off_period_days} days.",
        yes,
    )
    print_item(numbers.release(e164), output)


@app.command("cancel-release")
def cancel_release(ctx: typer.Context, e164: E164Argument, output: OutputOption = None) -> None:
    """Take back a released number while it cools off (its routing is restored)."""
    print_item(client_of(ctx).numbers.cancel_release(e164), output)


@app.command("export")
@api_options(NumberFilters)
def export_numbers(
    ctx: typer.Context,
    format_: Annotated[
        ExportFormat, typer.Option("--format", help="csv or ndjson.", case_sensitive=False)
    ] = ExportFormat.csv,
    file: Annotated[
        Path | None,
        typer.Option("-o", "--file", help="Write here (default: stdout).", dir_okay=False),
    ] = None,
    *,
    params: dict[str, Any],
) -> None:
    """Export every matching number as CSV or NDJSON, streamed (progress on stderr)."""
    client = client_of(ctx)
    filters = params
    # The bar needs the row count up front: one cheap list call, made only for a person.
    total = None
    if stderr_is_terminal():
        total = client.numbers.list(**filters, per_page=1).pagination.total
    header_lines = 1 if format_ is ExportFormat.csv else 0
    with (
        client.numbers.export(format_.value, **filters) as export,
        progress_bar("Exporting numbers", total=total) as advance,
    ):
        if file is None:
            rows = _copy(export.iter_bytes(), sys.stdout.buffer, advance, header_lines)
        else:
            partial = file.with_name(file.name + ".part")
            try:
                with partial.open("wb") as out:
                    rows = _copy(export.iter_bytes(), out, advance, header_lines)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            partial.replace(file)
    if file is not None:
        note(f"Exported {rows} numbers to {file}.")


def _copy(
    chunks: Iterator[bytes], out: BinaryIO, advance: Callable[[int], None], header_lines: int
) -> int:
    """Copy the export as it arrives, advancing the bar by rows; returns the rows copied."""
    lines = rows = 0
    for chunk in chunks:
        out.write(chunk)
        lines += chunk.count(b"\n")
        advance(max(0, lines - header_lines) - rows)
        rows = max(0, lines - header_lines)
    out.flush()
    return rows


# --- vox numbers bulk … ------------------------------------------------------------------

NumberOption = Annotated[
    list[str] | None,
    typer.Option("--number", help="A number to change; repeat for several.", show_default=False),
]
FileOption = Annotated[
    Path | None,
    typer.Option(
        "--file",
        help="A file of numbers, one per line (`-`: standard input).",
        show_default=False,
        allow_dash=True,
    ),
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Only show what would change; change nothing.")
]
WaitOption = Annotated[
    bool,
    typer.Option(
        "--wait/--no-wait", help="Follow the job to its end with a progress bar (the default)."
    ),
]
PollOption = Annotated[
    float,
    typer.Option("--poll-interval", min=0.0, help="Seconds between reads of the job's progress."),
]


@bulk_app.command("assign-trunk")
@api_options(BulkFilters)
def bulk_assign_trunk(
    ctx: typer.Context,
    params: dict[str, Any],
    trunk: Annotated[str, typer.Option("--trunk", help="Route the numbers to this SIP trunk.")],
    number: NumberOption = None,
    file: FileOption = None,
    dry_run: DryRunOption = False,
    wait: WaitOption = True,
    poll_interval: PollOption = 1.0,
    idempotency_key: IdempotencyKeyOption = None,
    output: OutputOption = None,
) -> None:
    """Route many numbers to a SIP trunk: those listed (--number, --file) or those the
    filters match (--country, --status, …)."""
    _bulk(
        ctx,
        "assign_trunk",
        params,
        number,
        file,
        dry_run,
        wait,
        poll_interval,
        idempotency_key,
        output,
        trunk_id=trunk,
    )


@bulk_app.command("assign-application")
@api_options(BulkFilters)
def bulk_assign_application(
    ctx: typer.Context,
    params: dict[str, Any],
    application: Annotated[
        str, typer.Option("--application", help="Route the numbers to this voice application.")
    ],
    number: NumberOption = None,
    file: FileOption = None,
    dry_run: DryRunOption = False,
    wait: WaitOption = True,
    poll_interval: PollOption = 1.0,
    idempotency_key: IdempotencyKeyOption = None,
    output: OutputOption = None,
) -> None:
    """Route many numbers to a voice application."""
    _bulk(
        ctx,
        "assign_application",
        params,
        number,
        file,
        dry_run,
        wait,
        poll_interval,
        idempotency_key,
        output,
        application_id=application,
    )


@bulk_app.command("unassign")
@api_options(BulkFilters)
def bulk_unassign(
    ctx: typer.Context,
    params: dict[str, Any],
    number: NumberOption = None,
    file: FileOption = None,
    dry_run: DryRunOption = False,
    wait: WaitOption = True,
    poll_interval: PollOption = 1.0,
    idempotency_key: IdempotencyKeyOption = None,
    output: OutputOption = None,
) -> None:
    """Remove the route (trunk or application) of many numbers."""
    _bulk(
        ctx, "unassign", params, number, file, dry_run, wait, poll_interval, idempotency_key, output
    )


@bulk_app.command("release")
@api_options(BulkFilters)
def bulk_release(
    ctx: typer.Context,
    params: dict[str, Any],
    number: NumberOption = None,
    file: FileOption = None,
    dry_run: DryRunOption = False,
    wait: WaitOption = True,
    poll_interval: PollOption = 1.0,
    yes: YesOption = False,
    idempotency_key: IdempotencyKeyOption = None,
    output: OutputOption = None,
) -> None:
    """Release many numbers: shows the plan and its fees first, then asks."""
    _bulk(
        ctx,
        "release",
        params,
        number,
        file,
        dry_run,
        wait,
        poll_interval,
        idempotency_key,
        output,
        confirm_first=not yes,
    )


@bulk_app.command("cancel-release")
@api_options(BulkFilters)
def bulk_cancel_release(
    ctx: typer.Context,
    params: dict[str, Any],
    number: NumberOption = None,
    file: FileOption = None,
    dry_run: DryRunOption = False,
    wait: WaitOption = True,
    poll_interval: PollOption = 1.0,
    idempotency_key: IdempotencyKeyOption = None,
    output: OutputOption = None,
) -> None:
    """Take back many released numbers while they cool off."""
    _bulk(
        ctx,
        "cancel_release",
        params,
        number,
        file,
        dry_run,
        wait,
        poll_interval,
        idempotency_key,
        output,
    )


def _bulk(
    ctx: typer.Context,
    action: BulkAction,
    filters: dict[str, Any],
    numbers: list[str] | None,
    file: Path | None,
    dry_run: bool,
    wait: bool,
    poll_interval: float,
    idempotency_key: str | None,
    output: Any,
    *,
    trunk_id: str | None = None,
    application_id: str | None = None,
    confirm_first: bool = False,
) -> None:
    listed = _listed_numbers(numbers, file)
    if listed is not None and filters:
        raise typer.BadParameter("Give numbers (--number, --file) or filters, not both.")
    if listed is None and not filters:
        raise typer.BadParameter(
            "Give the numbers (--number, --file) or filters that select them (--country, …)."
        )
    client = client_of(ctx)
    given_filter = None if listed is not None else cast(NumberFilters, filters)

    def plan() -> BulkPlan:
        return client.numbers.bulk(
            action,
            numbers=listed,
            filter=given_filter,
            trunk_id=trunk_id,
            application_id=application_id,
            dry_run=True,
        )

    if dry_run:
        print_item(plan(), output)
        return
    if confirm_first:
        planned = plan()
        confirm(
            f"Release {planned.would_change} numbers ({planned.conflict_count} cannot be)? "
            f"Early termination fees {planned.early_termination_fee_total} "
            f"{planned.currency}; they can be taken back while they cool off.",
            False,
        )
    job = client.numbers.bulk(
        action,
        numbers=listed,
        filter=given_filter,
        trunk_id=trunk_id,
        application_id=application_id,
        idempotency_key=idempotency_key,
    )
    note(f"Started job {job.id} ({job.job.matched} numbers).")
    if wait:
        try:
            with progress_bar("Changing numbers", total=job.job.matched) as advance:
                seen = 0

                def show(progress: Job) -> None:
                    nonlocal seen
                    advance(progress.processed - seen)
                    seen = progress.processed

                job.wait(poll_interval=poll_interval, on_progress=show)
        except KeyboardInterrupt:
            note(
                f"Stopped following; job {job.id} keeps running on the server. "
                f"Follow it with `vox jobs get {job.id}`, cancel it with "
                f"`vox jobs cancel {job.id}`."
            )
            raise typer.Exit(130) from None
    print_item(job.job, output)
    if job.job.failed:
        note(
            f"{job.job.failed} numbers could not be changed: "
            f"`vox jobs results {job.id} --outcome failed`."
        )
    if job.done and (job.job.status != "succeeded" or job.job.failed):
        raise typer.Exit(1)


def _listed_numbers(numbers: list[str] | None, file: Path | None) -> list[str] | None:
    """The numbers given by --number and --file (one per line, blanks and #comments
    skipped), or ``None`` when neither was given."""
    if not numbers and file is None:
        return None
    listed = list(numbers or [])
    if file is not None:
        text = sys.stdin.read() if str(file) == "-" else file.read_text()
        for line in text.splitlines():
            entry = line.split("#", 1)[0].strip()
            if entry:
                listed.append(entry)
    return listed
