"""The inventory of test mode (``spec/API.md`` §10): generated, never the live inventory.

Each account's test world sees its own numbers for sale, generated from a hash of the public
account id: the same every time for an account, different between accounts, every one valid
in its numbering plan. Nothing is stored; a number leaves a test world's inventory when the
test world owns it.

Twilio's magic test numbers behave as they do there: ``+15005550000`` is unavailable
(``409``), ``+15005550001`` is invalid (``400`` on ``e164``), ``+15005550006`` is always
available.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType

from voxnumbers.inventory.schemas import InventoryEntry
from voxnumbers.vocabulary import InvalidNumber, normalize_e164, to_mask

MAGIC_UNAVAILABLE = "+15005550000"
MAGIC_INVALID = "+15005550001"
MAGIC_AVAILABLE = "+15005550006"

# Fees of a test number that is not one of the generated ones (any valid number may be
# bought in test mode).
DEFAULT_MONTHLY_FEE_CENTS = 100
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_VOICE_SMS = to_mask(["voice", "sms"])

_TYPES = {
    PhoneNumberType.FIXED_LINE: "local",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "local",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
}


@dataclass(frozen=True, slots=True)
class _Offer:
    country: str
    type: str
    prefixes: tuple[tuple[str, str], ...]  # (national digits the number starts with, region)
    length: int  # national significant number length
    count: int
    monthly_fee_cents: int


_OFFERS = (
    _Offer(
        "US",
        "local",
        (("415", "CA"), ("212", "NY"), ("312", "IL"), ("206", "WA"), ("512", "TX")),
        10,
        25,
        115,
    ),
    _Offer("US", "toll_free", (("800", "United States"), ("888", "United States")), 10, 5, 200),
    _Offer("GB", "local", (("20", "London"), ("161", "Manchester")), 10, 6, 150),
    _Offer("GB", "mobile", (("7700", "United Kingdom"),), 10, 4, 350),
)


def generated_inventory(public_account_id: str) -> tuple[InventoryEntry, ...]:
    """The numbers a test world may buy (before taking out those it owns), by ``e164``."""
    return _generated(hashlib.sha256(public_account_id.encode()).hexdigest())


@lru_cache(maxsize=256)
def _generated(seed: str) -> tuple[InventoryEntry, ...]:
    draw = random.Random(seed)  # stable test data, not a secret
    found: dict[str, InventoryEntry] = {}
    for offer in _OFFERS:
        made = 0
        for _ in range(offer.count * 100):
            if made == offer.count:
                break
            prefix, region = offer.prefixes[draw.randrange(len(offer.prefixes))]
            national = prefix + "".join(
                str(draw.randrange(10)) for _ in range(offer.length - len(prefix))
            )
            e164 = _valid(offer, national)
            if e164 is None or e164 in found or e164.startswith("+1500"):
                continue
            found[e164] = InventoryEntry(
                e164=e164,
                country=offer.country,
                type=offer.type,
                region=region,
                capabilities=_VOICE_SMS,
                monthly_fee_cents=offer.monthly_fee_cents,
                setup_fee_cents=0,
                needs_provisioning=False,
                added_at=_EPOCH,
            )
            made += 1
    return tuple(sorted(found.values(), key=lambda entry: entry.e164))


def _valid(offer: _Offer, national: str) -> str | None:
    code = phonenumbers.country_code_for_region(offer.country)
    try:
        e164 = normalize_e164(f"+{code}{national}")
    except InvalidNumber:
        return None
    if phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) != offer.country:
        return None
    return e164 if type_of(e164) == offer.type else None


def type_of(e164: str) -> str:
    """The API's type of a valid number (``local`` where the plan says something else)."""
    return _TYPES.get(phonenumbers.number_type(phonenumbers.parse(e164, None)), "local")


def purchase_entry(public_account_id: str, e164: str, country: str) -> InventoryEntry:
    """What buying ``e164`` in the test world gets: the generated entry when it is one, else
    an entry made from the numbering plan (any valid number can be bought in test mode)."""
    for entry in generated_inventory(public_account_id):
        if entry.e164 == e164:
            return entry
    return InventoryEntry(
        e164=e164,
        country=country,
        type=type_of(e164),
        region="",
        capabilities=_VOICE_SMS,
        monthly_fee_cents=DEFAULT_MONTHLY_FEE_CENTS,
        setup_fee_cents=0,
        needs_provisioning=False,
        added_at=_EPOCH,
    )
