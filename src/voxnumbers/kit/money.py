"""Money is stored as integer cents and leaves the API as a two-decimal JSON number."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Final

from litestar.params import KwargDefinition

CURRENCY: Final = "USD"

# An amount in a response: a ``Decimal`` sent as a JSON number with two decimals. The schema
# says ``number`` (by default a Decimal is documented as a string, which it is not here).
Money = Annotated[
    Decimal,
    KwargDefinition(schema_extra={"type": "number"}, description="Amount in USD, two decimals."),
]


@lru_cache(maxsize=4096)
def cents_to_decimal(cents: int) -> Decimal:
    """``125`` -> ``Decimal('1.25')``; encoded as the JSON number ``1.25`` (``0`` -> ``0.00``).
    Remembered: fees take few distinct values, and a ``Decimal`` is immutable."""
    return Decimal(cents).scaleb(-2)


def parse_cents(text: str) -> int:
    """``"1.25"`` -> ``125``. Raises ``ValueError`` for anything but a non-negative amount
    with at most two decimals."""
    cleaned = text.strip()
    if cleaned.startswith("-"):
        raise ValueError(f"{text!r} is not a non-negative amount")
    # Plain decimal notation only: no exponents ("1e999999" would overflow), no "1_000".
    if not cleaned or any(ch not in "0123456789." for ch in cleaned) or cleaned.count(".") > 1:
        raise ValueError(f"{text!r} is not an amount like 1.25")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} is not an amount like 1.25") from exc
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{text!r} has more than two decimals")
    return int(cents)
