"""The event types a number's life produces, and the end of a bulk job."""

from __future__ import annotations

from typing import Literal

EventType = Literal[
    "number.purchased",
    "number.activated",
    "number.routing_changed",
    "number.suspended",
    "number.reinstated",
    "number.released",
    "number.release_cancelled",
    "number.returned_to_inventory",
    "job.finished",
]

EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]
