"""What the benchmark's scripts share: where things live, the two databases, the state file."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
STATE_FILE = BENCH / ".state.json"
VENV_BIN = Path(sys.executable).parent

DATABASES = ("sqlite", "postgresql")
POSTGRES_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# Prefix of the benchmark databases' names (``voxbench_2000000``): another one keeps runs of
# several checkouts on one PostgreSQL server apart.
POSTGRES_DATABASE = os.environ.get("BENCH_POSTGRES_DATABASE", "voxbench")

# The server (and everything measured as "the server") runs on this core; wrk on the other.
SERVER_CORE = 1
LOAD_CORE = 0


@dataclass(frozen=True)
class Target:
    """One benchmark database: its plain URL (as ``VOX_DATABASE_URL`` takes it)."""

    kind: str  # "sqlite" or "postgresql"
    url: str

    @property
    def sqlite_path(self) -> Path:
        assert self.kind == "sqlite"
        return Path(self.url.removeprefix("sqlite:///"))

    @property
    def async_url(self) -> str:
        """The SQLAlchemy URL with the async driver (what ``db.engine.Database`` takes)."""
        if self.kind == "sqlite":
            return self.url.replace("sqlite://", "sqlite+aiosqlite://", 1)
        return self.url.replace("postgresql://", "postgresql+asyncpg://", 1)

    @property
    def database_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    def sibling(self, suffix: str) -> Target:
        """Another database beside this one (a copy for the import scenario)."""
        if self.kind == "sqlite":
            path = self.sqlite_path
            return Target("sqlite", f"sqlite:///{path.with_name(path.stem + suffix + '.sqlite3')}")
        return Target("postgresql", f"{self.url}{suffix}")


def target(kind: str, numbers: int) -> Target:
    """The benchmark database of this kind for a data set of ``numbers`` owned numbers."""
    if kind == "sqlite":
        return Target("sqlite", f"sqlite:///{OUT / f'bench-{numbers}.sqlite3'}")
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return Target("postgresql", f"{base}/{POSTGRES_DATABASE}_{numbers}")


def load_state() -> dict[str, Any]:
    if STATE_FILE.exists():
        return json.loads(STATE_FILE.read_text())
    return {}


def state_of(kind: str, numbers: int) -> dict[str, Any] | None:
    """What was generated into the database of ``kind`` for this size, if anything."""
    return load_state().get(kind, {}).get(str(numbers))


def save_state(kind: str, numbers: int, entry: dict[str, Any]) -> None:
    """Record what was generated into the database of ``kind`` (keys included: the file is
    git-ignored and only ever holds keys of throw-away benchmark databases)."""
    state = load_state()
    state.setdefault(kind, {})[str(numbers)] = entry
    STATE_FILE.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    STATE_FILE.chmod(0o600)


def replace_section(results: Path, start: str, end: str, lines: list[str]) -> None:
    """Write ``lines`` (which begin with the ``start`` marker and end with ``end``) into the
    report in place of the section between those markers, or at its end if it has none."""
    text = results.read_text() if results.exists() else ""
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + "\n".join(lines) + after
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
    results.write_text(text)
