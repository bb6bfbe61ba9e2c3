"""The shape the operator's record commands share: one transaction against the configured
database, then the record printed as a line of text, or whole with ``--output``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.cli.runtime import as_row, out, run_with_database
from voxnumbers.db.engine import Database
from voxnumbers_client.cli._output import OutputFormat, print_row, print_rows

T = TypeVar("T")


def in_transaction(work: Callable[[AsyncConnection], Awaitable[T]], *, write: bool = True) -> T:
    """What ``work`` answers, run in one transaction (committed when it returns)."""

    async def _run(database: Database) -> T:
        async with database.transaction(write=write) as conn:
            return await work(conn)

    return run_with_database(_run)


def print_record(record: Any, output: OutputFormat | None, line: str) -> None:
    """``line`` for a person, or the whole record in the ``--output`` format."""
    if output is None:
        out.print(line, highlight=False)
    else:
        print_row(as_row(record), output)


def print_records(
    records: Sequence[Any], columns: Sequence[str], output: OutputFormat | None
) -> None:
    """A table of ``columns`` for a person, or every record in the ``--output`` format."""
    print_rows([as_row(record) for record in records], columns, output)
