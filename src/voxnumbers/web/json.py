"""JSON in and out: the application's response class (``kit.jsonc.encode_json``), and the
checks a request body passes before it is decoded."""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec
from litestar import Response
from litestar.serialization import default_serializer

from voxnumbers.errors import FieldProblem, ValidationFailed
from voxnumbers.kit.jsonc import encode_json

# No request of this API nests deeper than 3; this leaves room and keeps every JSON decoder
# far from the interpreter's recursion limit (which a 64 KiB body of ``[`` would reach).
MAX_NESTING = 32
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_A_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))


class JsonResponse(Response[Any]):
    """Every JSON response of the API, so money reads ``1.25`` and ``0.00``."""

    def render(self, content: Any, media_type: str, enc_hook: Any = default_serializer) -> bytes:
        if isinstance(content, bytes):
            return content
        if media_type.startswith("application/json"):
            return encode_json(content)
        return super().render(content, media_type, enc_hook)


def malformed_json(reason: str = "malformed JSON") -> ValidationFailed:
    """``400`` on the field ``body``: the body is not JSON this API can read."""
    return ValidationFailed("The request body is not valid JSON.", [FieldProblem("body", reason)])


def check_json_body(raw: bytes, data_type: Any = None) -> None:
    """``400`` for a body the decoder would misread or choke on: bytes that are not UTF-8,
    nesting deeper than ``MAX_NESTING``, ``NaN`` or ``Infinity``, an object that names a
    member twice (RFC 8259 leaves open which one counts, so a proxy and this service could
    act on different requests), or NUL in text. Other malformed JSON is refused the same way.

    With the handler's ``data_type``: ``400`` on the field where a string stands for
    another JSON type (``"max_channels": "10"``), which the framework's lenient decoding
    would otherwise read as that type."""
    if _nesting(raw) > MAX_NESTING:
        raise malformed_json(f"nests deeper than {MAX_NESTING} levels")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise malformed_json("is not UTF-8") from None
    try:
        json.loads(
            text,
            object_pairs_hook=_check_members,
            parse_int=_ignored,
            parse_float=_ignored,
            parse_constant=_not_json,
        )
    except _RefusedMember as refused:
        raise ValidationFailed.on(refused.name, refused.reason) from None
    except ValueError:
        raise malformed_json() from None
    if data_type is not None:
        _refuse_strings_for_other_types(raw, data_type)


# msgspec's words for it, e.g. "Expected `int`, got `str` - at `$.max_channels`".
_STRING_FOR_ANOTHER_TYPE = re.compile(
    r"^(?P<reason>Expected `[^`]+`, got `str`) - at `\$\.(?P<field>[^.\[`]+)"
)


def _refuse_strings_for_other_types(raw: bytes, data_type: Any) -> None:
    try:
        msgspec.json.decode(raw, type=data_type, strict=True)
    except msgspec.ValidationError as exc:  # (a DecodeError too: it comes first)
        match = _STRING_FOR_ANOTHER_TYPE.match(str(exc))
        if match:
            field = match["field"]
            raise ValidationFailed(
                f"Invalid value for {field}.", [FieldProblem(field, match["reason"])]
            ) from None
        # Anything else is refused by the framework's own decoding, as it words it.
    except msgspec.DecodeError:  # e.g. "\ud800": a lone surrogate is no character at all
        raise malformed_json() from None


def _nesting(raw: bytes) -> int:
    """How deep arrays and objects nest (brackets inside strings do not count)."""
    depth = deepest = 0
    for bracket in _STRING.sub(b"", raw).translate(None, _NOT_A_BRACKET):
        depth += 1 if bracket in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


class _RefusedMember(ValueError):
    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name)
        self.name, self.reason = name, reason


def _check_members(pairs: list[tuple[str, Any]]) -> None:
    """Each object of the body: refuse a repeated name, and NUL in any text of a member
    (no text column can hold it: PostgreSQL refuses it outright)."""
    names = set()
    for name, value in pairs:
        if name in names:
            raise _RefusedMember(name, "is given more than once")
        names.add(name)
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise _RefusedMember(name, "must not contain NUL (\\u0000)")


def _ignored(_: str) -> None:
    """Numbers are the decoder's business (and ``int()`` of 5,000 digits would raise)."""


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")
