"""The status machine of an owned number, as pure functions.

::

    (inventory) --buy--> pending --activate--> active <--reinstate-- suspended
         ^     \\--buy (no provisioning)-----> active --suspend-----> suspended
         |                                     active, suspended --release--> released
         +--return (after cooling-off)-- released --cancel_release (in window)--> active

Routing (assign/unassign) is allowed in every status but ``released``.
"""

from __future__ import annotations

from typing import Literal

Action = Literal["activate", "suspend", "reinstate", "release", "cancel_release", "return", "route"]

# action -> {from status: to status}
TRANSITIONS: dict[str, dict[str, str]] = {
    "activate": {"pending": "active"},
    "suspend": {"active": "suspended"},
    "reinstate": {"suspended": "active"},
    "release": {"active": "released", "suspended": "released"},
    "cancel_release": {"released": "active"},
    "return": {"released": "inventory"},
    "route": {"pending": "pending", "active": "active", "suspended": "suspended"},
}

STATUSES = ("pending", "active", "suspended", "released")

_WHY_NOT = {
    "activate": "only a pending number can be activated",
    "suspend": "only an active number can be suspended",
    "reinstate": "only a suspended number can be reinstated",
    "release": "only an active or suspended number can be released",
    "cancel_release": "only a released number can have its release cancelled",
    "return": "only a released number can return to inventory",
    "route": "a released number cannot be routed",
}


class InvalidTransition(ValueError):
    """The action is not allowed from the number's current status."""

    def __init__(self, action: str, status: str) -> None:
        self.action = action
        self.status = status
        article = "an" if status[0] in "aeiou" else "a"
        verb = action.replace("_", " ")
        super().__init__(f"cannot {verb} {article} {status} number: {_WHY_NOT[action]}")


def next_status(status: str, action: Action) -> str:
    """The status after ``action``; raises ``InvalidTransition`` if it is not allowed."""
    try:
        return TRANSITIONS[action][status]
    except KeyError:
        raise InvalidTransition(action, status) from None


def can(status: str, action: Action) -> bool:
    return status in TRANSITIONS[action]
