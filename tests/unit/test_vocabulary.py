"""The shared vocabulary: capabilities as a mask and a list, and the country filter."""

from __future__ import annotations

import pytest

from voxnumbers.errors import FieldProblem, ValidationFailed
from voxnumbers.vocabulary import CAPABILITIES, country_filter, to_list, to_mask


@pytest.mark.parametrize(
    ("names", "mask"),
    [([], 0), (["voice"], 1), (["sms", "voice"], 3), (["mms", "sms", "voice", "sms"], 7)],
)
def test_capabilities_become_a_mask(names, mask):
    assert to_mask(names) == mask


def test_a_mask_lists_capabilities_in_a_fixed_order():
    assert [to_list(mask) for mask in range(8)] == [
        [],
        ["voice"],
        ["sms"],
        ["voice", "sms"],
        ["mms"],
        ["voice", "mms"],
        ["sms", "mms"],
        ["voice", "sms", "mms"],
    ]
    assert to_list(to_mask(CAPABILITIES)) == list(CAPABILITIES)


def test_an_unknown_capability_is_refused():
    with pytest.raises(ValueError, match="unknown capability 'fax'"):
        to_mask(["voice", "fax"])


@pytest.mark.parametrize(("given", "code"), [(None, None), ("us", "US"), (" gb ", "GB")])
def test_a_country_filter_is_a_case_insensitive_alpha2_code(given, code):
    assert country_filter(given) == code


@pytest.mark.parametrize("given", ["", "USA", "ZZ", "u", "1A"])
def test_a_country_filter_refuses_anything_else(given):
    with pytest.raises(ValidationFailed) as refused:
        country_filter(given)
    assert refused.value.details == [
        FieldProblem("country", "must be an ISO 3166-1 alpha-2 country code, e.g. US")
    ]
