"""E.164 parsing and the facts a number carries (country, type, region), via phonenumbers."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType, geocoder
from phonenumbers.phonenumberutil import region_code_for_number

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
    as it often arrives without one in paths). Raises ``InvalidNumber`` otherwise."""
    candidate = text.strip()
    if not _DIGITS.match(candidate) or not candidate.isascii():
        raise InvalidNumber("must be an E.164 number: '+' then 8 to 15 digits")
    if not candidate.startswith("+"):
        candidate = "+" + candidate
    try:
        parsed = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber("is not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidNumber("is not a valid number in any numbering plan")
    canonical = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if canonical != candidate:
        raise InvalidNumber("is not in canonical E.164 form")
    return canonical


def number_facts(e164: str) -> NumberFacts:
    """Country, type and region of a valid E.164 number (type ``None`` when the plan cannot
    tell it apart from the three types the API knows)."""
    parsed = phonenumbers.parse(e164, None)
    country = region_code_for_number(parsed) or ""
    kind = _TYPE_NAMES.get(phonenumbers.number_type(parsed))
    place = geocoder.description_for_number(parsed, "en", region=country)
    # North American descriptions read "San Francisco, CA": the region is the state.
    region = place.rsplit(",", 1)[-1].strip() if parsed.country_code == 1 else place
    return NumberFacts(e164=e164, country=country, type=kind, region=region)


def is_country_code(code: str) -> bool:
    """True for an ISO 3166-1 alpha-2 code that has a telephone numbering plan."""
    return len(code) == 2 and code.isascii() and code.upper() in phonenumbers.SUPPORTED_REGIONS
