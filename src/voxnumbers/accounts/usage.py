"""``last_used_at`` of API keys without a database write on every request.

Requests only note the time in memory; a background task writes the notes in one batch
every ``VOX_KEY_USAGE_FLUSH_SECONDS`` and once more at shutdown.
"""

from __future__ import annotations

from datetime import datetime

from voxnumbers.kit.clock import utc_now


class KeyUsage:
    """In-memory last-use times of keys, waiting to be written."""

    def __init__(self) -> None:
        self._pending: dict[str, datetime] = {}

    def seen(self, key_id: str) -> None:
        self._pending[key_id] = utc_now()

    def take(self) -> dict[str, datetime]:
        """The pending notes, which the caller now owns and must write or ``restore``."""
        pending, self._pending = self._pending, {}
        return pending

    def restore(self, notes: dict[str, datetime]) -> None:
        """Put back notes that could not be written, keeping newer ones."""
        for key_id, at in notes.items():
            self._pending.setdefault(key_id, at)
