"""The words every feature shares about a phone number: its statuses, types and
capabilities, and how a number and a country are read from a request (E.164).

Any feature may import this module; it imports no feature. What one feature needs from
another beyond these words goes through that feature's ``service`` (docs/architecture.md).
Capabilities are stored as a bit mask and shown as a list in a fixed order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from voxnumbers.errors import ValidationFailed
from voxnumbers.kit.e164 import (
    InvalidNumber,
    country_of,
    digits_filter,
    is_country_code,
    normalize_e164,
    parse_e164,
)

__all__ = [
    "CAPABILITIES",
    "Capability",
    "InvalidNumber",
    "NumberStatus",
    "NumberType",
    "country_filter",
    "country_of",
    "digits_filter",
    "normalize_e164",
    "parse_e164",
    "to_list",
    "to_mask",
]

NumberStatus = Literal["active", "pending", "suspended", "released"]
NumberType = Literal["local", "toll_free", "mobile"]
Capability = Literal["voice", "sms", "mms"]

CAPABILITIES = ("voice", "sms", "mms")
_BITS = {name: 1 << i for i, name in enumerate(CAPABILITIES)}
_LISTS = tuple(
    [name for name in CAPABILITIES if mask & _BITS[name]] for mask in range(1 << len(CAPABILITIES))
)


def to_mask(names: Iterable[str]) -> int:
    """``["sms", "voice"]`` -> ``3``. Raises ``ValueError`` for an unknown capability."""
    mask = 0
    for name in names:
        if name not in _BITS:
            raise ValueError(
                f"unknown capability {name!r}; expected one of {', '.join(CAPABILITIES)}"
            )
        mask |= _BITS[name]
    return mask


def to_list(mask: int) -> list[str]:
    """``3`` -> ``["voice", "sms"]`` (always in the order voice, sms, mms)."""
    return list(_LISTS[mask])


def country_filter(country: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 filter, case-insensitive; ``400`` on anything else."""
    if country is None:
        return None
    code = country.strip().upper()
    if not is_country_code(code):
        raise ValidationFailed.on("country", "must be an ISO 3166-1 alpha-2 country code, e.g. US")
    return code
