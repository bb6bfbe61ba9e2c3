"""How busy the process is with requests, for background work that gives way to them."""

from __future__ import annotations


class RequestActivity:
    """A count of the requests the process has answered. Background work (a bulk job's
    batches) reads it before and after a stretch of its own work to learn whether requests
    were being served beside it."""

    def __init__(self) -> None:
        self.answered = 0

    def note(self) -> None:
        """One more request answered."""
        self.answered += 1
