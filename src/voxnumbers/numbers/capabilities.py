"""Capabilities are stored as a bit mask and shown as a list in a fixed order."""

from __future__ import annotations

from collections.abc import Iterable

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
