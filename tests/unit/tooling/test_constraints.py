"""``constraints.txt`` pins every requirement of both distributions, and every install uses it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line!r}"
            pins[normalized(name)] = version
    return pins


def requirement_names(path: Path) -> set[str]:
    project = tomllib.loads(path.read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    names = {normalized(re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0]) for r in requirements}
    return names - {"voxnumbers-client"}  # the sibling distribution, installed from client/


def test_every_requirement_is_pinned() -> None:
    pins = pinned()
    wanted = requirement_names(ROOT / "pyproject.toml") | requirement_names(
        ROOT / "client" / "pyproject.toml"
    )
    assert wanted - set(pins) == set()


def test_every_install_uses_the_constraints() -> None:
    assert '-c "$CONSTRAINTS"' in (ROOT / "dev").read_text()
    assert "pip install -c constraints.txt" in (ROOT / "Dockerfile").read_text()
    assert "!constraints.txt" in (ROOT / ".dockerignore").read_text()
    assert "./dev test" in (ROOT / ".ci" / "run").read_text()
