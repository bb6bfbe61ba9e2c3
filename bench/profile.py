"""Where the server's CPU goes: a py-spy profile of the worker, sorted into categories.

``bench/run.py`` records the Granian worker with ``py-spy record --format raw --threads``
while wrk drives a scenario, and ``aggregate`` turns the raw stacks (one a line,
``thread (tid): name;frame;frame;... count``, root first) into shares of the event-loop
thread's samples. The categories answer "which layer is the time in":

- the inclusive rules first: a sample with ``authorize_request``, ``require_api_key`` or
  ``authenticate`` anywhere in its stack is authentication; else one with a row converter
  (``_number_of_row``, ``to_number``, ``Timestamp.process_result_value``, a comprehension
  of a repository: its own time is SQLAlchemy building the result's rows) is row
  conversion; else one with ``encode_json`` or ``JsonResponse.render`` is JSON encoding;
- then the frames from the leaf up: the first that belongs to a layer decides (the driver,
  SQLAlchemy, msgspec, the service's code, Litestar, Granian, the loop's own dispatching).
  Other modules (``copy``, ``anyio``, ``structlog``; asyncio's futures, tasks and timers)
  count for the layer that called them: a timer asyncpg sets for a statement is the driver's.
  The worker's asyncio sockets are its database connections (Granian does HTTP in Rust), so
  asyncio's socket transport is the driver's too (asyncpg parses replies in its callbacks).

Reference (d) (``bench/reference_direct.py``) is profiled with the same rules: its
``number_of`` is row conversion, the rest of ``body_of`` JSON encoding, its runners' calls
the driver, and its ASGI function's own time Granian's (the response is sent in Rust, called
from that frame, where the service's sends count for Litestar's frames).

On PostgreSQL the run moves the backends off the server's core while profiling: py-spy
counts a thread that waits for the core as busy, and a backend woken on the same core by
the worker's write takes the core at once (a third of the samples landed in the socket's
``write``, against 3% with the backends elsewhere).

Two things py-spy shows in its own way. SQLAlchemy runs its synchronous core in greenlets,
whose stacks py-spy records without the frames that called them (``Connection.execute`` at
the root): those samples count in the categories but not in a project function's inclusive
share (``detached``). A sample with no Python frame at all on the loop's thread is a
greenlet switch (seen with ``py-spy --native``): SQLAlchemy.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import VENV_BIN

RATE = 200  # samples per second
CLK_TCK = os.sysconf("SC_CLK_TCK")
TOP_FUNCTIONS = 10

DRIVER = "SQL execution in the driver"
SQLALCHEMY = "SQLAlchemy (statements, results)"
AUTHENTICATION = "authentication (the `/v1` guard)"
ROWS = "row conversion"
JSON = "JSON encoding"
SERVICE = "the service's own code, other"
LITESTAR = "Litestar routing, dependencies, responses"
LOOP = "Granian and the event loop"
OTHER = "other"
CATEGORIES = (DRIVER, SQLALCHEMY, AUTHENTICATION, ROWS, JSON, SERVICE, LITESTAR, LOOP, OTHER)

RULES = (
    "a sample under `authorize_request`, `require_api_key` or `authenticate` is authentication "
    "(the request's transaction starts with the key's lookup); else under `_number_of_row`, "
    "`to_number`, `Timestamp.process_result_value` or a repository's comprehension (its own "
    "time: SQLAlchemy building rows) or `db/direct.py`'s `_Statement.rows`, row conversion; "
    "else under `encode_json` or `JsonResponse.render`, JSON; else the first frame from the "
    "leaf that belongs to a layer decides: the driver (`db/direct.py`, which runs the hot "
    "reads on it, the sqlite3 calls of `db/inline.py`, asyncpg, asyncio's "
    "socket transport), SQLAlchemy (greenlet switches too), msgspec, the service, Litestar, "
    "Granian or the loop's own functions; other modules, asyncio's futures and timers "
    "included, count for their caller"
)

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
_THREAD = re.compile(r"^thread \((?P<id>0x[0-9a-fA-F]+|\d+)\)")
_LOOP_MARKERS = ("run_forever", "run_until_complete")
_AUTHENTICATION = {
    ("voxnumbers/accounts/guards.py", "authorize_request"),
    ("voxnumbers/accounts/guards.py", "require_api_key"),
}
_LOOP_OWN = {
    ("asyncio/base_events.py", "BaseEventLoop.run_forever"),
    ("asyncio/base_events.py", "BaseEventLoop.run_until_complete"),
    ("asyncio/base_events.py", "BaseEventLoop._run_once"),
    ("asyncio/events.py", "Handle._run"),
}
_ROW_FUNCTIONS = {
    "_number_of_row",
    "to_number",
    "Timestamp.process_result_value",
    "_datetime_of_unix_seconds",
    "_Statement.rows",
}
_JSON_FUNCTIONS = {"encode_json", "JsonResponse.render"}
# Reference (d): its row conversion, its encoding and its calls of the driver
_DIRECT = "bench/reference_direct.py"
_DIRECT_ROWS = {"number_of", "_unix", "_fee"}
_DIRECT_DRIVER = ("SqliteRunner.", "PostgresRunner.")


@dataclass(frozen=True)
class Frame:
    function: str
    file: str

    @property
    def name(self) -> str:
        return f"{self.function} ({self.file})"


@dataclass
class Aggregate:
    """The event-loop thread's samples of one raw profile, by category."""

    samples: int = 0
    categories: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))
    functions: list[tuple[str, int, int]] = field(default_factory=list)  # name, incl., self
    detached: int = 0  # samples in SQLAlchemy's greenlets (no caller frames) or frameless
    thread: int | None = None  # the loop thread's id (the OS thread id on Linux)

    def share(self, category: str) -> float:
        return self.categories[category] / self.samples if self.samples else 0.0


def parse_frame(text: str) -> Frame:
    match = _FRAME.match(text)
    if match is None:
        return Frame(text, "")
    return Frame(match["function"], match["file"])


def _parse(line: str) -> tuple[str, list[Frame], int] | None:
    """(thread label, frames root first, count) of one raw line, None for a blank one."""
    stack, _, count = line.rstrip("\n").rpartition(" ")
    if not count.isdigit():
        return None
    texts = stack.split(";") if stack else []
    label = ""
    if texts and _THREAD.match(texts[0]):
        label = texts.pop(0)
    return label, [parse_frame(t) for t in texts if t], int(count)


def _is_loop_marker(frame: Frame) -> bool:
    return frame.function.endswith(_LOOP_MARKERS) and frame.file.startswith("asyncio/")


def _is_loop_stack(frames: list[Frame]) -> bool:
    return any(_is_loop_marker(f) for f in frames)


def _above_loop(frames: list[Frame]) -> list[Frame]:
    """The frames the loop runs (without the worker's start-up frames under the loop)."""
    for index in range(len(frames) - 1, -1, -1):
        if _is_loop_marker(frames[index]):
            return frames[index:]
    return frames


def _layer(frame: Frame) -> str | None:
    """The layer a frame belongs to, None for a module that works for its caller."""
    file, function = frame.file, frame.function
    if file in ("voxnumbers/db/inline.py", "voxnumbers/db/direct.py") or file.startswith(
        ("sqlite3/", "aiosqlite/", "asyncpg/")
    ):
        return DRIVER
    if file == "asyncio/selector_events.py" and function.startswith("_SelectorSocketTransport."):
        return DRIVER  # Granian does HTTP in Rust: the worker's asyncio sockets are databases'
    if file.startswith(("sqlalchemy/", "greenlet/")):
        return SQLALCHEMY
    if file.startswith("msgspec/"):
        return JSON
    if file == _DIRECT:
        if function.startswith(_DIRECT_DRIVER):
            return DRIVER
        if function == "body_of":
            return JSON
        # The ASGI function's own time is Granian's receive and send (Rust, called from it)
        return LOOP if function == "make_app.<locals>.app" else SERVICE
    if file.startswith("voxnumbers/"):
        return SERVICE
    if file.startswith("litestar/"):
        return LITESTAR
    if file.startswith(("granian/", "uvloop/")) or (file, function) in _LOOP_OWN:
        return LOOP
    return None  # asyncio's other functions (futures, timers, tasks) work for their caller


def _is_row_conversion(frame: Frame) -> bool:
    if frame.file == _DIRECT:
        return frame.function in _DIRECT_ROWS
    if not frame.file.startswith("voxnumbers/"):
        return False
    if frame.function in _ROW_FUNCTIONS:
        return True
    return frame.file.endswith("repository.py") and frame.function.endswith(
        (".<listcomp>", ".<genexpr>")
    )


def categorize(frames: list[Frame]) -> str:
    """The category of one sample of the event-loop thread (frames root first)."""
    if not frames:
        return SQLALCHEMY  # a greenlet switch: no Python frame is current
    if any(
        (f.file, f.function) in _AUTHENTICATION
        or (f.function == "authenticate" and f.file.startswith("voxnumbers/"))
        for f in frames
    ):
        return AUTHENTICATION
    if any(_is_row_conversion(f) for f in frames):
        return ROWS
    if any(f.function in _JSON_FUNCTIONS and f.file.startswith("voxnumbers/") for f in frames):
        return JSON
    for frame in reversed(frames):
        layer = _layer(frame)
        if layer is not None:
            return layer
    return OTHER


def aggregate(lines: Iterable[str], top: int = TOP_FUNCTIONS) -> Aggregate:
    """Categories and the project's heaviest functions, over the event-loop thread.

    The loop's thread is the one whose stacks run the asyncio loop; all its samples count,
    those in SQLAlchemy's greenlets too. Without thread labels (``--threads`` not given)
    only the stacks that show the loop count."""
    parsed = [p for p in map(_parse, lines) if p is not None]
    on_loop: Counter[str] = Counter()
    for label, frames, count in parsed:
        if _is_loop_stack(frames):
            on_loop[label] += count
    result = Aggregate()
    if not on_loop:
        return result
    loop_label = on_loop.most_common(1)[0][0]
    if loop_label:
        match = _THREAD.match(loop_label)
        assert match is not None
        result.thread = int(match["id"], 0)
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for label, frames, count in parsed:
        if label != loop_label or (not loop_label and not _is_loop_stack(frames)):
            continue
        result.samples += count
        if not _is_loop_stack(frames):
            result.detached += count
        frames = _above_loop(frames)
        result.categories[categorize(frames)] += count
        for name in {f.name for f in frames if f.file.startswith("voxnumbers/")}:
            inclusive[name] += count
        if frames and frames[-1].file.startswith("voxnumbers/"):
            own[frames[-1].name] += count
    ranked = sorted(inclusive.items(), key=lambda item: (-item[1], item[0]))[:top]
    result.functions = [(name, count, own[name]) for name, count in ranked]
    return result


# -- py-spy ------------------------------------------------------------------------------


def py_spy() -> str | None:
    """The py-spy executable: the project's virtualenv's, else one on the PATH."""
    local = VENV_BIN / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def record(pid: int, seconds: int, output: Path, rate: int = RATE) -> str:
    """Sample the process for ``seconds`` into ``output`` (raw format, one stack per line
    with its thread); the error py-spy reported, or "" when it wrote the profile."""
    executable = py_spy()
    if executable is None:
        return "py-spy is not installed"
    command = [
        executable,
        "record",
        *("--pid", str(pid), "--duration", str(seconds), "--rate", str(rate)),
        *("--format", "raw", "--threads", "--output", str(output)),
    ]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.unlink(missing_ok=True)
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if done.returncode != 0 or not output.exists():
        return (done.stdout + done.stderr).strip()[-500:] or f"py-spy exited {done.returncode}"
    return ""


def thread_cpu(pids: Iterable[int]) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each thread of the processes."""
    found: dict[int, float] = {}
    for pid in pids:
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                stat = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found[int(task.name)] = (int(stat[11]) + int(stat[12])) / CLK_TCK
    return found


@dataclass
class ServerProfile:
    """What the report shows of one profile (kept in the results JSON for ``--render``)."""

    scenario: str  # the scenario's key
    seconds: int
    rate: int
    raw: str  # the raw profile, relative to the repository
    samples: int = 0
    categories: dict[str, int] = field(default_factory=dict)
    functions: list[list[Any]] = field(default_factory=list)  # [name, inclusive, self]
    detached: int = 0
    loop_cpu_share: float | None = None  # the loop thread's part of the server's CPU
    rps: float | None = None  # requests/s while profiling
    note: str = ""  # how it was taken (PostgreSQL backends moved) or why it failed
    error: str = ""
    server: str = "service"  # or "direct": reference (d), profiled beside the service

    @classmethod
    def of(cls, raw: dict[str, Any]) -> ServerProfile:
        return cls(**raw)
