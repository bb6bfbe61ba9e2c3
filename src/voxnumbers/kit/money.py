"""Money is stored as integer cents and leaves the API as a two-decimal JSON number."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

CURRENCY = "USD"


def cents_to_decimal(cents: int) -> Decimal:
    """``125`` -> ``Decimal('1.25')``; encoded as the JSON number ``1.25`` (``0`` -> ``0.00``)."""
    return Decimal(cents).scaleb(-2)


def parse_cents(text: str) -> int:
    """``"1.25"`` -> ``125``. Raises ``ValueError`` for anything but a non-negative amount
    with at most two decimals."""
    try:
        amount = Decimal(text.strip())
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} is not an amount") from exc
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{text!r} is not a non-negative amount")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{text!r} has more than two decimals")
    return int(cents)
