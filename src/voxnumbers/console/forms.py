"""Query strings and form bodies of console pages, read into the same typed structs the API
decodes its JSON into, so every field rule (lengths, ranges, choices) is checked once, by
the struct, and a bad field is the API's ``400`` naming it.

HTML forms send every field, empty ones included: an empty field means "not given". A field
whose type is a list takes every value given (checkboxes), and a textarea's lines.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import msgspec
from msgspec import inspect

from voxnumbers.errors import FieldProblem, ValidationFailed

T = TypeVar("T", bound=msgspec.Struct)

# Names a console form carries besides the struct's fields.
CSRF_FIELD = "csrf"
_IGNORED = frozenset({CSRF_FIELD})
_AT_FIELD = re.compile(r" - at `\$\.(?P<field>\w+)[^`]*`$")
_MISSING = re.compile(r"^Object missing required field `(?P<field>\w+)`")


def read_form(values: Mapping[str, Sequence[str]], into: type[T]) -> T:
    """``values`` (every value of every name, as a multi-dict gives them) as an ``into``."""
    known, list_fields = _fields(into)
    data: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for name, given in values.items():
        if name in _IGNORED:
            continue
        if name not in known:
            problems.append(FieldProblem(name, "is not a field of this form"))
            continue
        present = [value.strip() for value in given if value.strip()]
        if name in list_fields:
            data[name] = [line.strip() for value in present for line in value.splitlines()]
            data[name] = [line for line in data[name] if line]
        elif len(present) > 1:
            problems.append(FieldProblem(name, "must be given at most once"))
        elif present:
            data[name] = present[0]
    if problems:
        raise ValidationFailed("Invalid form fields.", problems)
    try:
        return msgspec.convert(data, into, strict=False)
    except msgspec.ValidationError as exc:
        raise _validation_failed(str(exc)) from None


def _validation_failed(message: str) -> ValidationFailed:
    if match := _MISSING.match(message):
        return ValidationFailed.on(match["field"], "is required")
    if match := _AT_FIELD.search(message):
        reason = message[: match.start()]
        return ValidationFailed.on(match["field"], reason)
    return ValidationFailed(message)


@functools.cache
def _fields(struct: type[msgspec.Struct]) -> tuple[frozenset[str], frozenset[str]]:
    """The names of a struct's fields, and of those that are lists (cached: inspecting a
    struct costs more than the rest of a request)."""
    names, lists = set(), set()
    for field in inspect.type_info(struct).fields:  # type: ignore[attr-defined]
        names.add(field.encode_name)
        kinds = field.type.types if isinstance(field.type, inspect.UnionType) else (field.type,)
        kinds = tuple(k.type if isinstance(k, inspect.Metadata) else k for k in kinds)
        if any(isinstance(kind, inspect.ListType) for kind in kinds):
            lists.add(field.encode_name)
    return frozenset(names), frozenset(lists)
