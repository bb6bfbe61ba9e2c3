"""Money is integer cents inside and a two-decimal JSON number outside."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxnumbers.kit.jsonc import encode_json
from voxnumbers.kit.money import CURRENCY, cents_to_decimal, parse_cents


@pytest.mark.parametrize(
    ("cents", "json"),
    [
        (0, b"0.00"),
        (5, b"0.05"),
        (125, b"1.25"),
        (250, b"2.50"),
        (100, b"1.00"),
        (123456, b"1234.56"),
    ],
)
def test_cents_become_two_decimal_json_numbers(cents, json):
    assert encode_json(cents_to_decimal(cents)) == json
    assert encode_json({"fee": cents_to_decimal(cents)}) == b'{"fee":' + json + b"}"


@given(st.integers(min_value=0, max_value=10**12))
def test_cents_round_trip_exactly(cents):
    amount = cents_to_decimal(cents)
    assert amount.as_tuple().exponent == -2
    assert parse_cents(str(amount)) == cents
    assert Decimal(encode_json(amount).decode()) == amount


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1.25", 125),
        ("0", 0),
        ("0.00", 0),
        (" 2.5 ", 250),
        ("10", 1000),
        ("1.50", 150),
        ("1.500", 150),
    ],
)
def test_amounts_are_parsed_to_cents(text, cents):
    assert parse_cents(text) == cents


@pytest.mark.parametrize(
    "text", ["", "abc", "1.255", "0.001", "-1", "-0.01", "NaN", "Infinity", "1,25", "1.2.3", "$1"]
)
def test_anything_but_a_non_negative_two_decimal_amount_is_refused(text):
    with pytest.raises(ValueError):
        parse_cents(text)


def test_the_currency_is_always_usd():
    assert CURRENCY == "USD"
