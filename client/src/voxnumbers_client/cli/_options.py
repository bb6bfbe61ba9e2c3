"""Options shared by several commands, declared once."""

from __future__ import annotations

from typing import Annotated, Any

import typer

PageOption = Annotated[
    int | None, typer.Option("--page", min=1, help="Page to show (from 1).", show_default=False)
]
PerPageOption = Annotated[
    int | None,
    typer.Option("--per-page", min=1, max=100, help="Items per page (1-100, API default 20)."),
]
AllOption = Annotated[bool, typer.Option("--all", help="Fetch every page (progress on stderr).")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Unassign the numbers routed here first.")
]
IdempotencyKeyOption = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key",
        help="Reuse a key to make retrying this exact command safe (default: a new key).",
        show_default=False,
    ),
]
CapabilityOption = Annotated[
    list[str] | None,
    typer.Option("--capability", help="voice, sms or mms; repeat to require several."),
]


def given(**values: Any) -> dict[str, Any]:
    """The keyword arguments that were actually given (``None`` and empty lists dropped)."""
    return {key: value for key, value in values.items() if value not in (None, [])}


def paging(page: int | None, per_page: int | None, all_pages: bool) -> dict[str, Any]:
    """Paging keywords; ``--all`` asks for full pages to need fewer requests."""
    if all_pages and per_page is None:
        per_page = 100
    return given(page=page, per_page=per_page)


def confirm(question: str, yes: bool) -> None:
    """Ask before a destructive change unless ``--yes``; "no" exits with code 1."""
    if not yes:
        typer.confirm(question, abort=True, err=True)
