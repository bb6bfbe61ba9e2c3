"""Options shared by several commands, declared once; list flags derived from the SDK."""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar

import typer

from voxnumbers_client._params import Doc

F = TypeVar("F", bound=Callable[..., Any])

AllOption = Annotated[bool, typer.Option("--all", help="Fetch every page (progress on stderr).")]
LimitOption = Annotated[
    int | None,
    typer.Option(
        "--limit",
        min=0,
        help="Walk the pages (as --all) but stop after this many items.",
        show_default=False,
    ),
]
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


def api_options(description: type) -> Callable[[F], F]:
    """Give a command one flag per keyword of ``description``, a ``TypedDict`` of the SDK's
    (``NumberListParams``…) whose keywords carry a :class:`~voxnumbers_client._params.Doc`.

    The flag is the keyword with dashes (``--created-after``), plus the ``Doc``'s aliases;
    the command gets the keywords that were given as its ``params`` argument, ready for the
    SDK method. The SDK and ``vox`` thus accept the same names and cannot drift apart.
    """
    hints = typing.get_type_hints(description, include_extras=True)

    def decorate(command: F) -> F:
        signature = inspect.signature(command, eval_str=True)
        kept = [p for p in signature.parameters.values() if p.name != "params"]
        added = [
            inspect.Parameter(
                _param_name(key),
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=_flag_annotation(key, hint),
            )
            for key, hint in hints.items()
        ]
        # Options after the positional ones, and before the command's own flags.
        positional = [p for p in kept if p.default is inspect.Parameter.empty]
        rest = [p for p in kept if p.default is not inspect.Parameter.empty]
        parameters = [
            *positional,
            *(p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in [*added, *rest]),
        ]

        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            params = given(**{key: kwargs.pop(_param_name(key)) for key in hints})
            return command(*args, params=params, **kwargs)

        run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters}
        del run.__wrapped__  # Typer must read the new signature, not the command's
        return run  # type: ignore[return-value]

    return decorate


def _param_name(key: str) -> str:
    return f"api_{key}"


def _flag_annotation(key: str, hint: Any) -> Any:
    """The Typer annotation of the flag for keyword ``key`` of type ``hint``."""
    kind, *extras = typing.get_args(hint)
    doc = next((extra for extra in extras if isinstance(extra, Doc)), None)
    if doc is None:
        raise TypeError(f"keyword {key!r} has no Doc")
    flag = "--" + key.replace("_", "-")
    names = [flag, *doc.aliases]
    options: dict[str, Any] = {"help": doc.help, "show_default": False}
    value_type: Any
    if kind is bool:
        value_type = bool
        names = [f"{flag}/{doc.off_flag or '--no-' + key.replace('_', '-')}"]
    elif kind is int:
        value_type = int
        options.update(min=doc.min, max=doc.max)
    elif kind is datetime:
        value_type = str  # the server reads ISO 8601 and names the field when it cannot
        options["metavar"] = "TIME"
    elif _is_repeatable(kind):
        value_type = list[str]
    else:
        value_type = str
    return Annotated[value_type | None, typer.Option(*names, **options)]


def _is_repeatable(kind: Any) -> bool:
    """``str | Sequence[str]``: the keyword may be given several times."""
    if not (isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union):
        return False
    return any(typing.get_origin(arg) is Sequence for arg in typing.get_args(kind))


def given(**values: Any) -> dict[str, Any]:
    """The keyword arguments that were actually given (``None`` and empty lists dropped)."""
    return {key: value for key, value in values.items() if value not in (None, [])}


def walking(params: dict[str, Any], all_pages: bool, limit: int | None) -> dict[str, Any]:
    """``params`` of a list command; a walk (``--all``, ``--limit``) asks for full pages
    (no more than the limit needs)."""
    if (all_pages or limit is not None) and "per_page" not in params:
        return {**params, "per_page": max(1, min(100, 100 if limit is None else limit))}
    return params


def confirm(question: str, yes: bool) -> None:
    """Ask before a destructive change unless ``--yes``; "no", or no answer at all (input
    that is not a terminal and has ended), exits with code 1 and says what to do."""
    if yes:
        return
    try:
        answer = typer.confirm(question, default=False, err=True)
    except typer.Abort:  # end of input: a script, a pipe, `< /dev/null`
        typer.echo(err=True)  # end the question's line
        typer.echo(
            "Error: no answer to the question above (input is not a terminal); "
            "pass --yes to go ahead without being asked.",
            err=True,
        )
        raise typer.Exit(1) from None
    if not answer:
        typer.echo("Nothing was changed.", err=True)
        raise typer.Exit(1)
