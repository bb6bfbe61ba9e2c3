"""Entity tags of the API's objects and the ``If-Match`` precondition (RFC 9110 §8.8.3, §13.1.1).

**What a tag is.** The strong tag of an object is ``"`` + the first 32 hex digits (128 bits)
of the SHA-256 of its JSON, encoded exactly as the API sends it (``kit.jsonc``), + ``"``. It
changes when, and only when, the representation a ``GET`` answers changes. A tag made of
``updated_at`` and the id would not do: ``updated_at`` has second precision, so two writes
within one second would share a tag and the second writer's stale ``If-Match`` would pass.
The price of hashing the representation: a change the representation does not show (a
webhook secret replaced by another; a trunk's credentials or IP ACL) does not change the
tag, and an object changed and changed back within one second (the same ``updated_at``)
gets its old tag back. Both are what RFC 9110 asks of a tag: it identifies a representation.

**How ``If-Match`` compares.** ``*`` matches any current representation (a missing object is
still ``404``, never ``412``). Otherwise RFC 9110 requires the *strong* comparison: a tag
matches when both are strong and their opaque parts are equal, so a weak tag ``W/"…"``
never matches, not even one whose opaque part equals the current tag. Every tag this API
issues is strong. A value that is not ``*`` or a comma-separated list of entity tags (an
unquoted tag, ``w/"…"``, ``*`` among tags, a blank value) is refused (``400`` on the field
``If-Match``) rather than treated as "matches nothing".
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from voxnumbers.errors import PreconditionFailed, ValidationFailed
from voxnumbers.kit.jsonc import encode_json

IF_MATCH = "If-Match"
_HEX_DIGITS = 32
# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text
_ENTITY_TAG = re.compile(r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"')


def strong_etag(representation: Any) -> str:
    """The strong entity tag of an object as the API returns it (``"<32 hex digits>"``)."""
    digest = hashlib.sha256(encode_json(representation)).hexdigest()
    return f'"{digest[:_HEX_DIGITS]}"'


@dataclass(frozen=True, slots=True)
class IfMatch:
    """A parsed ``If-Match``: ``*`` (``any_tag``), or the entity tags listed, as sent."""

    tags: tuple[str, ...] = ()
    any_tag: bool = False

    def matches(self, current: str) -> bool:
        """Strong comparison with the current (strong) tag: a weak tag is never equal."""
        return self.any_tag or current in self.tags


def parse_if_match(value: str) -> IfMatch:
    """Parse an ``If-Match`` field value (several fields arrive joined by commas), or
    ``400`` on the field ``If-Match`` when it is not ``*`` or a list of entity tags."""
    text = value.strip(" \t")
    if text == "*":
        return IfMatch(any_tag=True)
    tags: list[str] = []
    position = 0
    while position < len(text):
        # RFC 9110 §5.6.1: empty list elements (", ,") are accepted and ignored.
        if text[position] == ",":
            position = _after_spaces(text, position + 1)
            continue
        tag = _ENTITY_TAG.match(text, position)
        if tag is None:
            raise _malformed()
        tags.append(tag.group())
        position = _after_spaces(text, tag.end())
        if position < len(text) and text[position] != ",":
            raise _malformed()
    if not tags:
        raise _malformed()
    return IfMatch(tags=tuple(tags))


def require_match(if_match: IfMatch | None, representation: Any) -> None:
    """``412`` unless the object's current representation satisfies ``If-Match``; no
    ``If-Match`` (``None``) means no precondition. Call it on the row read for update, in
    the transaction that writes it, so no other writer can come in between."""
    if if_match is not None and not if_match.matches(strong_etag(representation)):
        raise PreconditionFailed(
            "The resource has changed since it was read: If-Match does not match its "
            "current ETag (read it again, then retry)."
        )


def _after_spaces(text: str, position: int) -> int:
    """The position after any optional whitespace (OWS: spaces and tabs) at ``position``."""
    while position < len(text) and text[position] in " \t":
        position += 1
    return position


def _malformed() -> ValidationFailed:
    return ValidationFailed.on(
        IF_MATCH, 'must be * or a comma-separated list of entity tags such as "a1b2c3"'
    )
