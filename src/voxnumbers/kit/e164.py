"""E.164 parsing and the facts a number carries (country, type, region), via phonenumbers."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers.phonenumberutil import region_code_for_number

from voxnumbers.errors import ValidationFailed

_DIGITS = re.compile(r"^\+?[0-9]{2,15}$")

NUMBER_TYPES = ("local", "toll_free", "mobile")

_TYPE_NAMES = {
    PhoneNumberType.FIXED_LINE: "local",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "local",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
}


class InvalidNumber(ValueError):
    """The text is not a valid E.164 phone number."""


@dataclass(frozen=True, slots=True)
class NumberFacts:
    """What the numbering plan says about a number."""

    e164: str
    country: str
    type: str | None
    region: str


def normalize_e164(text: str) -> str:
    """Canonical ``+14155551234`` for ``+14155551234``, ``14155551234`` (the plus is optional,
    as it often arrives without one in paths). Raises ``InvalidNumber`` otherwise, white
    space included: a path or a field with a number and a space is not that number."""
    return _parse(text)[0]


def number_facts(e164: str) -> NumberFacts:
    """Country, type and region of a valid E.164 number (type ``None`` when the plan cannot
    tell it apart from the three types the API knows)."""
    parsed = phonenumbers.parse(e164, None)
    return _facts(e164, parsed, phonenumbers.number_type(parsed))


def country_of(e164: str) -> str:
    """``number_facts(e164).country`` without the geocoder: its data, loaded on first use,
    takes about 100 MB of a process's memory, which a server has no need for."""
    return region_code_for_number(phonenumbers.parse(e164, None)) or ""


def parse_number(text: str) -> NumberFacts:
    """``number_facts(normalize_e164(text))`` with one parse instead of three: about twice as
    fast, for bulk work (CSV imports, demo data), where cells may be padded with white space.
    Raises ``InvalidNumber``."""
    return _facts(*_parse(text.strip()))


def _parse(text: str) -> tuple[str, phonenumbers.PhoneNumber, int]:
    candidate = text
    if not _DIGITS.fullmatch(candidate) or not candidate.isascii():
        raise InvalidNumber("must be an E.164 number: '+' then 8 to 15 digits")
    if not candidate.startswith("+"):
        candidate = "+" + candidate
    try:
        parsed = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber("is not a phone number") from exc
    # number_type is UNKNOWN exactly when is_valid_number is False (both match the number
    # against the plan of the region it belongs to): one call answers both questions.
    kind = phonenumbers.number_type(parsed)
    if kind == PhoneNumberType.UNKNOWN:
        raise InvalidNumber("is not a valid number in any numbering plan")
    canonical = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if canonical != candidate:
        raise InvalidNumber("is not in canonical E.164 form")
    return canonical, parsed, kind


def _facts(e164: str, parsed: phonenumbers.PhoneNumber, kind: int) -> NumberFacts:
    country = region_code_for_number(parsed) or ""
    # Imported here: loading the geocoder's data costs about a second, which every `vox`
    # command would otherwise pay at start-up.
    from phonenumbers import geocoder

    # What geocoder.description_for_number does, minus its second number_type call.
    if kind == PhoneNumberType.UNKNOWN:
        place = ""
    elif phonenumbers.is_number_type_geographical(kind, parsed.country_code or 0):
        place = geocoder.description_for_valid_number(parsed, "en", region=country)
    else:
        place = geocoder.country_name_for_number(parsed, "en", region=country)
    region = _nanp_region(place) if parsed.country_code == 1 else place
    return NumberFacts(e164=e164, country=country, type=_TYPE_NAMES.get(kind), region=region)


def is_country_code(code: str) -> bool:
    """True for an ISO 3166-1 alpha-2 code that has a telephone numbering plan."""
    return len(code) == 2 and code.isascii() and code.upper() in phonenumbers.SUPPORTED_REGIONS


def _nanp_region(place: str) -> str:
    """North American descriptions read "San Francisco, CA" or, for most numbers, just
    "California": the region is the state's (or province's) two-letter code either way."""
    name = place.rsplit(",", 1)[-1].strip()
    return _NANP_REGION_CODES.get(name, name)


# Two-letter codes of the US states and territories and the Canadian provinces, with the
# names phonenumbers' geocoder gives them (alternatives after "|").
_NANP_REGIONS = """
AL Alabama; AK Alaska; AZ Arizona; AR Arkansas; CA California; CO Colorado; CT Connecticut
DE Delaware; DC Washington D.C.|District of Columbia; FL Florida; GA Georgia; HI Hawaii
ID Idaho; IL Illinois; IN Indiana; IA Iowa; KS Kansas; KY Kentucky; LA Louisiana; ME Maine
MD Maryland; MA Massachusetts; MI Michigan; MN Minnesota; MS Mississippi; MO Missouri
MT Montana; NE Nebraska; NV Nevada; NH New Hampshire; NJ New Jersey; NM New Mexico
NY New York; NC North Carolina; ND North Dakota; OH Ohio; OK Oklahoma; OR Oregon
PA Pennsylvania; RI Rhode Island; SC South Carolina; SD South Dakota; TN Tennessee; TX Texas
UT Utah; VT Vermont; VA Virginia; WA Washington|Washington State; WV West Virginia
WI Wisconsin; WY Wyoming; PR Puerto Rico; GU Guam; VI U.S. Virgin Islands
MP Northern Mariana Islands; AS American Samoa; AB Alberta; BC British Columbia|British Colombia
MB Manitoba; NB New Brunswick; NL Newfoundland and Labrador; NS Nova Scotia; ON Ontario
PE Prince Edward Island; QC Quebec; SK Saskatchewan; NT Northwest Territories; NU Nunavut
YT Yukon
"""
_NANP_REGION_CODES = {
    name: code
    for entry in _NANP_REGIONS.replace("\n", ";").split(";")
    if entry.strip()
    for code, _, names in [entry.strip().partition(" ")]
    for name in names.split("|")
}


def parse_e164(raw: str, field: str = "e164") -> str:
    """A number from a path, query or body in any accepted spelling, or ``400`` naming
    ``field``."""
    try:
        return normalize_e164(raw)
    except InvalidNumber as exc:
        raise ValidationFailed.on(field, str(exc)) from exc


def parse_e164_query(raw: str, field: str = "e164") -> str:
    """``parse_e164`` of a query parameter, where a ``+`` sent unencoded arrives as a space
    (form encoding): one leading space followed by a digit is read as that ``+``. Any other
    white space is refused, as everywhere."""
    if raw.startswith(" ") and raw[1:2].isdigit():
        raw = "+" + raw[1:]
    return parse_e164(raw, field)


def digits_filter(contains: str | None, field: str = "contains") -> str | None:
    """Digits a number must contain (a leading ``+`` is ignored, and so is a leading space:
    an unencoded ``+`` of a query string), or ``400`` on ``field``."""
    if contains is None:
        return None
    digits = contains[1:] if contains[:1] in ("+", " ") else contains
    if not (1 <= len(digits) <= 15 and digits.isascii() and digits.isdigit()):
        raise ValidationFailed.on(field, "must be 1 to 15 digits")
    return digits
