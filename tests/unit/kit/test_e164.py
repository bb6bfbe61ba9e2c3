"""E.164 parsing: every accepted spelling of a number, nothing else; facts from the plan."""

from __future__ import annotations

import subprocess
import sys

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers import geocoder

from voxnumbers.errors import ValidationFailed
from voxnumbers.kit.e164 import (
    InvalidNumber,
    country_of,
    digits_filter,
    is_country_code,
    normalize_e164,
    number_facts,
    parse_number,
)


@pytest.mark.parametrize("spelling", ["+14155551234", "14155551234"])
def test_accepted_spellings_give_the_canonical_number(spelling):
    assert normalize_e164(spelling) == "+14155551234"


@pytest.mark.parametrize(
    "spelling",
    [" +14155551234 ", "+14155551234\n", " 14155551234", "+14155551234 ", "\t+14155551234"],
)
def test_white_space_around_a_number_is_refused(spelling):
    """A path ending in ``%20`` is not the number without it."""
    with pytest.raises(InvalidNumber):
        normalize_e164(spelling)


def test_bulk_imports_still_trim_their_cells():
    assert parse_number(" +14155551234 ").e164 == "+14155551234"


@pytest.mark.parametrize(
    ("text", "digits"), [("415", "415"), ("+415", "415"), (" 415", "415"), ("0", "0")]
)
def test_a_digits_filter_takes_one_leading_plus(text, digits):
    assert digits_filter(text) == digits


@pytest.mark.parametrize("text", ["415 ", "++415", "4 15", "", "4" * 16, "\uff14"])
def test_a_digits_filter_refuses_anything_else(text):
    with pytest.raises(ValidationFailed):
        digits_filter(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "+",
        "+1",
        "abc",
        "+1 415 555 1234",
        "+1-415-555-1234",
        "(415) 555-1234",
        "+1415555123",  # too short for the North American plan
        "+141555512345",  # too long
        "+999999999999999",  # no such country
        "+014155551234",  # a leading zero is not a country code
        "++14155551234",
        "+14155551234x",
        "".join(chr(0xFF10 + int(d)) for d in "14155551234"),  # full-width digits
        "+4402079460100",  # national trunk prefix kept: not canonical
        "+1" + "4" * 20,
    ],
)
def test_anything_else_is_invalid(text):
    with pytest.raises(InvalidNumber):
        normalize_e164(text)


@given(st.text(max_size=20))
def test_normalize_either_returns_a_canonical_number_or_raises(text):
    try:
        canonical = normalize_e164(text)
    except InvalidNumber:
        return
    assert canonical.startswith("+") and canonical[1:].isdigit()
    assert normalize_e164(canonical) == canonical
    assert phonenumbers.is_valid_number(phonenumbers.parse(canonical))


@pytest.mark.parametrize(
    ("e164", "country", "number_type"),
    [
        ("+14155551234", "US", "local"),
        ("+18005550100", "US", "toll_free"),
        ("+442079460100", "GB", "local"),
        ("+919876543210", "IN", "mobile"),
        ("+4915112345678", "DE", "mobile"),
        ("+14165550100", "CA", "local"),
    ],
)
def test_facts_come_from_the_numbering_plan(e164, country, number_type):
    facts = number_facts(e164)
    assert (facts.e164, facts.country, facts.type) == (e164, country, number_type)
    assert country_of(e164) == country


def test_a_country_is_found_without_loading_the_geocoder():
    """A server asks only for countries (purchases): the geocoder's data is 100 MB."""
    check = (
        "import sys; from voxnumbers.kit.e164 import country_of; "
        "assert country_of('+442079460100') == 'GB'; "
        "assert 'phonenumbers.geocoder' not in sys.modules, 'geocoder loaded'"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("e164", "region"),
    [
        ("+14155551234", "CA"),  # described "San Francisco, CA"
        ("+12095550100", "CA"),  # described "California"
        ("+12015550123", "NJ"),
        ("+12025550100", "DC"),
        ("+12065550100", "WA"),  # "Washington State"
        ("+12125550100", "NY"),
        ("+14165550100", "ON"),
        ("+16045550100", "BC"),
        ("+442079460100", "London"),
    ],
)
def test_regions_are_named_alike_for_every_number_of_a_state(e164, region):
    """North American regions are always the state or province code, as in the seed
    (``"region": "CA"``), however the geocoder happens to describe the number."""
    assert number_facts(e164).region == region


def test_every_us_area_code_gets_a_two_letter_region():
    odd = {}
    for area_code in range(201, 990):
        parsed = phonenumbers.parse(f"+1{area_code}5550100")
        if phonenumbers.region_code_for_number(parsed) != "US":
            continue
        if not phonenumbers.is_valid_number(parsed):
            continue
        region = number_facts(f"+1{area_code}5550100").region
        described = geocoder.description_for_number(parsed, "en")
        if described and not (len(region) == 2 and region.isupper()):
            odd[area_code] = region
    assert odd == {}


@pytest.mark.parametrize("code", ["US", "us", "Gb", "IN", "DE"])
def test_country_codes_are_case_insensitive(code):
    assert is_country_code(code)


@pytest.mark.parametrize("code", ["", "U", "USA", "ZZ", "UK", "U1", "1", "ÜS", "XX"])
def test_other_country_codes_are_refused(code):
    assert not is_country_code(code)
