"""How commands print: a table on a terminal, JSON when piped, or CSV; progress on stderr.

Data goes to stdout and nothing else does: hints, progress bars and errors go to stderr, so
``vox numbers list --all | jq`` always gets clean JSON.
"""

from __future__ import annotations

import dataclasses
import io
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from voxnumbers_client import _json
from voxnumbers_client._errors import VoxAPIError, VoxError
from voxnumbers_client._models import (
    Application,
    Event,
    Model,
    Number,
    Trunk,
    WebhookEndpoint,
)
from voxnumbers_client._pagination import Page

M = TypeVar("M", bound=Model)


class OutputFormat(StrEnum):
    """The ``--output`` choices."""

    table = "table"
    json = "json"
    csv = "csv"


OutputOption = Annotated[
    OutputFormat | None,
    typer.Option(
        "--output",
        help="table, json or csv (default: table on a terminal, json when piped).",
        case_sensitive=False,
        show_default=False,
    ),
]

# Columns of the table view (JSON and CSV always carry every field).
TABLE_COLUMNS: dict[type[Model], tuple[str, ...]] = {
    Number: (
        "e164",
        "country",
        "type",
        "region",
        "status",
        "capabilities",
        "monthly_fee",
        "trunk_id",
        "application_id",
        "created_at",
    ),
    Trunk: ("id", "name", "auth_type", "termination_uri", "max_channels", "status", "created_at"),
    Application: ("id", "name", "answer_url", "answer_method", "fallback_url", "created_at"),
    WebhookEndpoint: ("id", "url", "event_types", "status", "created_at"),
    Event: ("id", "type", "e164", "created_at"),
}


def resolve_format(output: OutputFormat | None) -> OutputFormat:
    """The format asked for, else a table on a terminal and JSON otherwise."""
    if output is not None:
        return output
    return OutputFormat.table if sys.stdout.isatty() else OutputFormat.json


def print_items(items: Sequence[Model], model: type[Model], output: OutputFormat | None) -> None:
    """Print a list of API objects in the chosen format."""
    rows = [item.to_dict() for item in items]
    print_rows(rows, _columns(model, rows), output, table_columns=TABLE_COLUMNS.get(model))


def print_item(item: Model, output: OutputFormat | None) -> None:
    """Print one API object: a field/value table, a JSON object or a one-row CSV."""
    print_row(item.to_dict(), output)


def print_rows(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    output: OutputFormat | None,
    *,
    table_columns: Sequence[str] | None = None,
) -> None:
    """Print JSON-shaped objects as a table (``table_columns`` of them), a JSON list, or CSV
    with ``columns``. Commands plugged into ``vox`` print with this too."""
    fmt = resolve_format(output)
    if fmt is OutputFormat.json:
        typer.echo(_json.dumps(list(rows), indent=2))
    elif fmt is OutputFormat.csv:
        typer.echo(_csv(rows, columns), nl=False)
    else:
        shown = table_columns or columns
        table = Table(*shown, box=None, header_style="bold")
        for row in rows:
            table.add_row(*(_cell(row.get(column)) for column in shown))
        _stdout().print(table)


def print_row(row: Mapping[str, Any], output: OutputFormat | None) -> None:
    """Print one JSON-shaped object: a field/value table, a JSON object or a one-row CSV."""
    fmt = resolve_format(output)
    if fmt is OutputFormat.json:
        typer.echo(_json.dumps(row, indent=2))
    elif fmt is OutputFormat.csv:
        typer.echo(_csv([row], tuple(row)), nl=False)
    else:
        table = Table(box=None, show_header=False)
        table.add_column(style="bold")
        table.add_column()
        for key, value in row.items():
            table.add_row(key, _cell(value))
        _stdout().print(table)


def print_page(
    page: Page[M],
    model: type[M],
    output: OutputFormat | None,
    *,
    all_pages: bool,
    noun: str,
    limit: int | None = None,
) -> None:
    """Print a page, or with ``all_pages`` (or a ``limit``) the items of every page, up to
    ``limit`` of them (with a progress bar on stderr)."""
    if all_pages or limit is not None:
        total = page.pagination.total if limit is None else min(limit, page.pagination.total)
        items: list[M] = []
        with progress_bar(f"Fetching {noun}", total=total) as advance:
            for item in page.auto_paging_iter(limit=limit):
                items.append(item)
                advance(1)
        print_items(items, model, output)
        return
    print_items(page.data, model, output)
    p = page.pagination
    if resolve_format(output) is not OutputFormat.table:
        return
    if not page.data:
        note(f"No {noun} on page {p.current_page} ({p.total} in all).")
    elif page.has_next_page():
        note(
            f"Page {p.current_page} of {p.total_pages} ({p.total} {noun}); "
            "use --page N for another page or --all for every page."
        )
        if p.next_cursor:
            note(f"The next page by cursor: --cursor {p.next_cursor}")


def report_error(exc: VoxError) -> None:
    """Print an SDK error for a person: the API's message, details and request id."""
    if not isinstance(exc, VoxAPIError):
        typer.echo(f"Error: {exc}", err=True)
        return
    typer.echo(f"Error: {exc.message}", err=True)
    for detail in exc.details:
        typer.echo(f"  {detail.field}: {detail.reason}", err=True)
    typer.echo(
        f"  ({exc.code}, HTTP {exc.status}, request id: {exc.request_id or 'none'})", err=True
    )


def note(message: str) -> None:
    """A message for the person at the terminal (stderr, never mixed into the data)."""
    typer.echo(message, err=True)


def stderr_is_terminal() -> bool:
    """Whether a person is watching stderr (progress bars are shown only then)."""
    return Console(stderr=True).is_terminal


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr, shown only when stderr is a terminal; yields ``advance(n)``."""
    console = Console(stderr=True)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)


def _columns(model: type[Model], rows: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The CSV columns: the fields the objects carry (a number's release times only when
    one of them is released), or, with no objects, the fields every object has."""
    fields = dataclasses.fields(model)
    if not rows:
        return tuple(f.name for f in fields if f.default is dataclasses.MISSING)
    return tuple(f.name for f in fields if any(f.name in row for row in rows))


def _stdout() -> Console:
    # Not a terminal: no width to fit, so a table is never wrapped or cut (Rich would assume
    # 80 columns); it takes the width its cells need.
    return Console(width=None if sys.stdout.isatty() else 100_000, highlight=False)


def _cell(value: Any) -> Text:
    if value is None:
        return Text("-", style="dim")
    if isinstance(value, list):
        return Text(", ".join(str(v) for v in value))
    if isinstance(value, dict):
        return Text(_json.dumps(value))
    return Text(str(value))


def _csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    import csv  # only CSV output needs it

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(_csv_value(row.get(column)) for column in columns)
    return out.getvalue()


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "|".join(str(v) for v in value)  # as the server's CSV export writes them
    if isinstance(value, dict):
        return _json.dumps(value)
    return str(value)
