"""Entity tags and ``If-Match`` (RFC 9110 §8.8.3, §13.1.1), without a database."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxnumbers.errors import PreconditionFailed, ValidationFailed
from voxnumbers.kit.etags import IfMatch, parse_if_match, require_match, strong_etag

STRONG_TAG = re.compile(r'^"[0-9a-f]{32}"$')


class Thing(msgspec.Struct, kw_only=True):
    id: str
    name: str
    fee: Decimal
    updated_at: datetime


AT = datetime(2026, 3, 15, 8, 20, tzinfo=UTC)
THING = Thing(id="trunk_abc", name="edge", fee=Decimal("1.25"), updated_at=AT)


# --- tags ---------------------------------------------------------------------------------------


def test_a_tag_is_strong_and_hashes_the_json_the_api_sends():
    tag = strong_etag(THING)
    assert STRONG_TAG.match(tag)
    sent = b'{"id":"trunk_abc","name":"edge","fee":1.25,"updated_at":"2026-03-15T08:20:00Z"}'
    assert tag == f'"{hashlib.sha256(sent).hexdigest()[:32]}"'


def test_equal_representations_share_a_tag():
    same = Thing(id="trunk_abc", name="edge", fee=Decimal("1.25"), updated_at=AT)
    assert strong_etag(same) == strong_etag(THING)


@pytest.mark.parametrize(
    "changed",
    [
        msgspec.structs.replace(THING, name="edge2"),
        msgspec.structs.replace(THING, fee=Decimal("1.26")),
        msgspec.structs.replace(THING, id="trunk_abd"),
    ],
)
def test_any_change_of_the_representation_changes_the_tag_even_within_one_second(changed):
    assert changed.updated_at == THING.updated_at
    assert strong_etag(changed) != strong_etag(THING)


# --- parsing If-Match -------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["*", " *", "*\t"])
def test_a_star_matches_any_tag(value):
    parsed = parse_if_match(value)
    assert parsed == IfMatch(any_tag=True)
    assert parsed.matches(strong_etag(THING))


@pytest.mark.parametrize(
    ("value", "tags"),
    [
        ('"abc"', ('"abc"',)),
        ('""', ('""',)),
        ('"a", "b"', ('"a"', '"b"')),
        ('"a",\t"b" ,"c"', ('"a"', '"b"', '"c"')),
        (', "a",, "b",', ('"a"', '"b"')),  # empty list elements are ignored (RFC 9110 §5.6.1)
        ('W/"weak", "strong"', ('W/"weak"', '"strong"')),
        ('"comma,inside"', ('"comma,inside"',)),
        ('"x\xe9"', ('"x\xe9"',)),  # obs-text, as a latin-1 decoded header carries it
    ],
)
def test_a_list_of_entity_tags_is_parsed_as_sent(value, tags):
    assert parse_if_match(value) == IfMatch(tags=tags)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "  ",
        ",",
        " , ,",
        "abc",
        "**",
        '*, "a"',
        '"a", *',
        '"unterminated',
        'unopened"',
        'w/"lowercase-weak"',
        'W/ "space"',
        "W/unquoted",
        '"a" "b"',
        '"a";"b"',
        '"in"side"',
        '"sp ace"',
        '"ctl\x01"',
    ],
)
def test_anything_else_is_refused_on_the_if_match_field(value):
    with pytest.raises(ValidationFailed) as refused:
        parse_if_match(value)
    assert [d.field for d in refused.value.details] == ["If-Match"]


_ETAGC = st.characters(codec="latin-1").filter(
    lambda ch: ch == "!" or "#" <= ch <= "~" or ch >= "\x80"
)
_TAGS = st.lists(
    st.tuples(st.booleans(), st.text(_ETAGC, max_size=20)).map(
        lambda t: ("W/" if t[0] else "") + f'"{t[1]}"'
    ),
    min_size=1,
    max_size=8,
)


@given(tags=_TAGS, separator=st.sampled_from([",", ", ", " ,\t", ",,"]))
def test_any_list_of_tags_round_trips(tags, separator):
    assert parse_if_match(separator.join(tags)).tags == tuple(tags)


# --- comparing -------------------------------------------------------------------------------


def test_the_comparison_is_strong():
    current = strong_etag(THING)
    assert parse_if_match(current).matches(current)
    assert parse_if_match(f'"other", {current}').matches(current)
    assert not parse_if_match(f"W/{current}").matches(current)
    assert not parse_if_match('"other"').matches(current)


def test_require_match_passes_the_current_tag_a_star_and_no_precondition():
    require_match(None, THING)
    require_match(parse_if_match("*"), THING)
    require_match(parse_if_match(strong_etag(THING)), THING)


@pytest.mark.parametrize("value", ['"stale"', "W/{tag}"])
def test_require_match_refuses_anything_else_with_412(value):
    if_match = parse_if_match(value.format(tag=strong_etag(THING)))
    with pytest.raises(PreconditionFailed) as refused:
        require_match(if_match, THING)
    assert (refused.value.status, refused.value.code) == (412, "PRECONDITION_FAILED")
