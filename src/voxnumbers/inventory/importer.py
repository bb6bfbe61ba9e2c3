"""Reading an inventory CSV file into validated entries (pure: no database).

The file has a header row; its columns are ``COLUMNS`` (``e164`` and ``monthly_fee``
required, the others optional, unknown ones refused). Every data row becomes either an
``InventoryEntry`` or a ``Problem`` naming the row's real line in the file (the header is
line 1; a quoted value spanning lines counts from its first line).

The file is streamed: rows are read, checked and dropped as they go, so only the resulting
entries are held. Checking a number costs tens of microseconds of ``phonenumbers`` work, so
large files are checked by a pool of worker processes, a chunk of lines at a time, with the
results merged back in file order (duplicates are found there, in one place). The reading
process only cuts the file into chunks of whole records and sends their lines as they are;
the workers parse the CSV, so the one process that cannot be spread over cores stays light.
"""

from __future__ import annotations

import csv
import gc
import io
import os
import re
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from decimal import DecimalException
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from voxnumbers.inventory.schemas import InventoryEntry
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.e164 import (
    NUMBER_TYPES,
    InvalidNumber,
    NumberFacts,
    is_country_code,
    parse_number,
)
from voxnumbers.kit.money import parse_cents
from voxnumbers.vocabulary import to_mask

if TYPE_CHECKING:
    from _csv import Reader

COLUMNS = (
    "e164",
    "country",
    "type",
    "region",
    "capabilities",
    "monthly_fee",
    "setup_fee",
    "needs_provisioning",
)
REQUIRED_COLUMNS = ("e164", "monthly_fee")

MAX_FEE_CENTS = 100_000_000  # 1,000,000.00: far above any real fee, well inside a 32-bit column
MAX_REGION_LENGTH = 100  # the width of the ``region`` column
PARALLEL_FROM_BYTES = 1_000_000  # below this (~20k rows) starting worker processes costs more
CHUNK_LINES = 5_000  # lines checked per task of a worker (more where a record spans lines)

_CAPABILITY_SEPARATORS = re.compile(r"[,|]")
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


class Problem(NamedTuple):
    """Why one line of the file cannot be imported."""

    line: int
    reason: str


@dataclass(slots=True)
class ValidatedFile:
    """Everything a file holds: the entries of its valid rows and the problems of the rest.

    ``readable`` is False when the header itself is wrong: then nothing past it was read.
    """

    entries: list[InventoryEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0  # data rows read (blank lines not counted)
    readable: bool = True


# What a worker sends back for one row: its line, the number when it is a valid one (for the
# duplicate check), the entry's fields when the row is valid, and the reasons when not.
_Fields = tuple[str, str, str, str, int, int, int, bool]
_Outcome = tuple[int, str | None, _Fields | None, str | None]
# One CSV record: its first line, and its cells (or why it is not readable CSV).
_Record = tuple[int, list[str] | str]
# Lines of the file holding whole records, and the line the first of them is.
_Chunk = tuple[int, list[str]]


def read_inventory_file(
    path: Path,
    *,
    added_at: datetime | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ValidatedFile:
    """Validate an inventory CSV file, streaming it.

    ``workers`` processes check the rows (default: one per CPU for files of
    ``PARALLEL_FROM_BYTES`` or more, none below; they are started with ``spawn``, so a
    script calling this needs the usual ``if __name__ == "__main__":`` guard). ``progress``
    is called with the number of characters consumed since its last call.
    """
    if workers is None:
        big = path.stat().st_size >= PARALLEL_FROM_BYTES
        workers = min(os.cpu_count() or 1, 8) if big else 1
    # Undecodable bytes become lone surrogates, refused where they land (``_is_text``), so
    # a stray Latin-1 byte costs its own row, not the whole file.
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        lines = _counted(handle, progress) if progress else handle
        layout, first_line = _header(lines)
        if isinstance(layout, Problem):
            return ValidatedFile(problems=[layout], readable=False)
        chunks = _chunks(lines, first_line)
        with _no_cyclic_gc():
            return _collected(_validated(chunks, layout, added_at or utc_now(), workers))


def read_inventory_text(text: str, *, added_at: datetime | None = None) -> ValidatedFile:
    """Validate an inventory CSV given as text (an upload to the admin API), with the same
    rules and messages as ``read_inventory_file``, in this process."""
    lines = iter(io.StringIO(text, newline=""))
    layout, first_line = _header(lines)
    if isinstance(layout, Problem):
        return ValidatedFile(problems=[layout], readable=False)
    return _collected(_validated(_chunks(lines, first_line), layout, added_at or utc_now(), 1))


def _collected(outcomes: Iterable[InventoryEntry | Problem]) -> ValidatedFile:
    """The rows' outcomes sorted into entries and problems, counted."""
    result = ValidatedFile()
    for outcome in outcomes:
        result.rows += 1
        if isinstance(outcome, Problem):
            result.problems.append(outcome)
        else:
            result.entries.append(outcome)
    return result


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Keep the cycle collector off while entries pile up: none of them is part of a cycle,
    yet every collection would walk them all (measured: 13.6 -> 8.6 us per row of our own
    overhead on a 1,000,000-row file). Reference counting still frees everything else."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def validate_inventory_csv(
    lines: Iterable[str], *, added_at: datetime | None = None, workers: int = 1
) -> Iterator[InventoryEntry | Problem]:
    """One ``InventoryEntry`` or ``Problem`` per data row, in file order.

    A problem with the header is the only thing yielded: nothing past it can be read
    reliably. ``lines`` must keep their line endings (a file opened with ``newline=""``).
    """
    stream = iter(lines)
    layout, first_line = _header(stream)
    if isinstance(layout, Problem):
        yield layout
        return
    yield from _validated(_chunks(stream, first_line), layout, added_at or utc_now(), workers)


def _validated(
    chunks: Iterator[_Chunk], layout: _Layout, added_at: datetime, workers: int
) -> Iterator[InventoryEntry | Problem]:
    first_line: dict[str, int] = {}  # each valid number -> the line it first appears on
    for line, e164, fields, reason in _checked(chunks, layout, workers):
        if e164 is not None:
            earlier = first_line.setdefault(e164, line)
            if earlier != line:
                duplicate = f"duplicate: {e164} already appears on line {earlier}"
                reason = f"{reason}; {duplicate}" if reason else duplicate
        if reason is None and fields is not None:
            yield _entry(fields, added_at)
        else:
            yield Problem(line, reason or "invalid row")


def _header(lines: Iterator[str]) -> tuple[_Layout | Problem, int]:
    """The layout named by the first record (or why it cannot be used), and the line the
    data starts on. Only the header's own lines are taken from ``lines``."""
    reader = csv.reader(lines, strict=True)
    first = next(_records(reader), None)
    if first is None:
        return Problem(1, "the file is empty: expected a header row naming the columns"), 1
    line, cells = first
    layout = cells if isinstance(cells, str) else _layout(cells)
    return (Problem(line, layout) if isinstance(layout, str) else layout), reader.line_num + 1


class _Layout(NamedTuple):
    """Where each of ``COLUMNS`` sits in a row (``None``: absent), and how wide rows are."""

    positions: tuple[int | None, ...]
    width: int


def _layout(header: list[str]) -> _Layout | str:
    names = [name.strip().lower() for name in header]
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        listed = ", ".join(repr(name) for name in unknown)
        return f"unknown column(s) {listed}; the columns are {', '.join(COLUMNS)}"
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        return f"column(s) named more than once: {', '.join(repeated)}"
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        return f"missing required column(s): {', '.join(missing)}"
    return _Layout(
        tuple(names.index(name) if name in names else None for name in COLUMNS), len(names)
    )


def _records(reader: Reader, first_line: int = 1) -> Iterator[_Record]:
    """``(first line, cells)`` per CSV record of ``reader``, whose first line is
    ``first_line`` of the file, or ``(first line, reason)`` when the record is not readable
    CSV. Blank lines and rows of empty cells are skipped."""
    before = first_line - 1
    start = first_line
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, f"malformed CSV: {exc}"
            start = before + reader.line_num + 1
            continue
        line, start = start, before + reader.line_num + 1
        if any(cell.strip() for cell in cells):
            yield line, cells


def _checked(chunks: Iterator[_Chunk], layout: _Layout, workers: int) -> Iterator[_Outcome]:
    """Outcomes of every record in order: checked here, or by ``workers`` processes."""
    if workers <= 1:
        for first_line, lines in chunks:
            yield from _check_chunk(layout, first_line, lines)
        return
    with ProcessPoolExecutor(
        workers, mp_context=get_context("spawn"), initializer=_leave_interrupts_to_parent
    ) as pool:
        pending: deque[Future[list[_Outcome]]] = deque()
        for first_line, lines in chunks:
            pending.append(pool.submit(_check_chunk, layout, first_line, lines))
            if len(pending) > 2 * workers:  # bounded read-ahead: memory stays flat
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


def _leave_interrupts_to_parent() -> None:
    # Ctrl-C reaches the whole process group: the parent stops the pool, workers stay quiet.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _chunks(lines: Iterator[str], first_line: int) -> Iterator[_Chunk]:
    """The lines in chunks of whole records, each with the line it starts on.

    Only the CSV reader knows for sure where a record ends, but it needs to be asked only
    where a record starts with a line holding a quote: any other line is a record of its
    own. Such a line is given to a reader of its own, which takes the lines of its record
    and no more; every chunk so starts where the reader of the whole file would start a
    record, and a worker parsing it alone reads exactly the same records.
    """
    chunk: list[str] = []
    start = first_line
    for text in lines:
        chunk.append(text)
        if '"' in text:
            chunk.extend(_rest_of_record(text, lines))
        if len(chunk) >= CHUNK_LINES:
            yield start, chunk
            start += len(chunk)
            chunk = []
    if chunk:
        yield start, chunk


def _rest_of_record(first: str, lines: Iterator[str]) -> list[str]:
    """The lines after ``first`` that belong to the record starting with it."""
    rest: list[str] = []

    def taken() -> Iterator[str]:
        yield first
        for text in lines:
            rest.append(text)
            yield text

    # A malformed record ends where the reader gives up; the worker stops at the same place.
    with suppress(csv.Error, StopIteration):
        next(csv.reader(taken(), strict=True))
    return rest


def _check_chunk(layout: _Layout, first_line: int, lines: list[str]) -> list[_Outcome]:
    """Read and check a chunk of whole records (in a worker process for large files)."""
    return [
        (line, None, None, cells) if isinstance(cells, str) else _check_row(line, cells, layout)
        for line, cells in _records(csv.reader(lines, strict=True), first_line)
    ]


def _check_row(line: int, cells: list[str], layout: _Layout) -> _Outcome:
    if len(cells) != layout.width:
        return line, None, None, f"has {len(cells)} field(s), the header has {layout.width}"
    (
        raw_number,
        given_country,
        given_type,
        given_region,
        given_capabilities,
        monthly_fee,
        setup_fee,
        needs_provisioning,
    ) = ["" if position is None else cells[position].strip() for position in layout.positions]
    reasons: list[str] = []
    facts = _number(raw_number, reasons)
    country = _country(given_country, facts, reasons)
    number_type = _type(given_type, facts, reasons)
    region = given_region or (facts.region if facts else "")
    if not _is_text(region):
        reasons.append("region is not UTF-8 text")
    elif len(region) > MAX_REGION_LENGTH:
        reasons.append(f"region is longer than {MAX_REGION_LENGTH} characters")
    # Capabilities and fees take few distinct values in a file: each is worked out once.
    capabilities, problem = _capabilities(given_capabilities or "voice")
    if problem:
        reasons.append(problem)
    monthly, problem = _fee("monthly_fee", monthly_fee, required=True)
    if problem:
        reasons.append(problem)
    setup, problem = _fee("setup_fee", setup_fee, required=False)
    if problem:
        reasons.append(problem)
    provisioning = _BOOLEANS.get(needs_provisioning.lower() or "false")
    if provisioning is None:
        reasons.append(f"needs_provisioning {needs_provisioning!r} must be true or false")
    e164 = facts.e164 if facts else None
    if reasons or facts is None:
        return line, e164, None, "; ".join(reasons)
    return (
        line,
        e164,
        (
            facts.e164,
            country,
            number_type,
            region,
            capabilities,
            monthly,
            setup,
            bool(provisioning),
        ),
        None,
    )


def _number(raw: str, reasons: list[str]) -> NumberFacts | None:
    if not raw:
        reasons.append("e164 is required")
        return None
    try:
        facts = parse_number(raw)
    except InvalidNumber as exc:
        reasons.append(f"e164 {raw!r} {exc}")
        return None
    if not is_country_code(facts.country):
        # International services (+800, +808, +870…) belong to no country: nobody could buy
        # them, since a purchase names the number's country.
        reasons.append(f"e164 {raw!r} belongs to no country (a non-geographic number)")
        return None
    return facts


def _country(given: str, facts: NumberFacts | None, reasons: list[str]) -> str:
    code = given.upper()
    if not code:
        return facts.country if facts else ""
    if facts is not None and code != facts.country:
        reasons.append(f"country {given!r} does not match the number, which is in {facts.country}")
    elif facts is None and not is_country_code(code):
        reasons.append(f"country {given!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def _type(given: str, facts: NumberFacts | None, reasons: list[str]) -> str:
    name = given.lower()
    if name and name not in NUMBER_TYPES:
        reasons.append(f"type {given!r} is not one of {', '.join(NUMBER_TYPES)}")
        return name
    planned = facts.type if facts else None
    if name and planned and name != planned:
        reasons.append(f"type {given!r} contradicts the numbering plan, which says {planned}")
    elif not name and facts is not None and planned is None:
        reasons.append("type is required: the numbering plan cannot tell this number's type")
    return name or planned or ""


def _is_text(value: str) -> bool:
    """False for text holding undecodable bytes (lone surrogates from ``surrogateescape``)."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@lru_cache(maxsize=256)
def _capabilities(text: str) -> tuple[int, str | None]:
    """The mask the cell names, and why it is wrong (``None`` when it is not)."""
    names = [name.strip().lower() for name in _CAPABILITY_SEPARATORS.split(text)]
    names = [name for name in names if name]
    if not names:
        return 0, f"capabilities {text!r} names no capability"
    try:
        return to_mask(names), None
    except ValueError as exc:
        return 0, f"capabilities {text!r}: {exc}"


@lru_cache(maxsize=256)
def _fee(name: str, text: str, *, required: bool) -> tuple[int, str | None]:
    """The fee in cents, and why the cell is wrong (``None`` when it is not)."""
    if not text:
        return 0, f"{name} is required" if required else None
    try:
        cents = parse_cents(text)
    except ValueError as exc:
        return 0, f"{name}: {exc}"
    except DecimalException:  # an exponent too large for Decimal, e.g. 1e999999
        return 0, f"{name}: {text!r} is not an amount"
    if cents > MAX_FEE_CENTS:
        return cents, f"{name} {text!r} is more than {MAX_FEE_CENTS // 100:,}.00"
    return cents, None


def _entry(fields: _Fields, added_at: datetime) -> InventoryEntry:
    e164, country, number_type, region, capabilities, monthly, setup, provisioning = fields
    return InventoryEntry(
        e164=e164,
        country=country,
        type=number_type,
        region=region,
        capabilities=capabilities,
        monthly_fee_cents=monthly,
        setup_fee_cents=setup,
        needs_provisioning=provisioning,
        added_at=added_at,
    )


def _counted(lines: Iterable[str], progress: Callable[[int], None]) -> Iterator[str]:
    """The lines unchanged, reporting the characters read every few thousand lines."""
    consumed = 0
    for number, text in enumerate(lines, 1):
        consumed += len(text)
        if number % 2_000 == 0:
            progress(consumed)
            consumed = 0
        yield text
    progress(consumed)
