"""How busy the process is with requests, for background work that gives way to them."""

from __future__ import annotations


class RequestActivity:
    """The time the process has spent answering requests, summed over them. Background work
    (a bulk job's batches) reads it before and after a stretch of its own work to learn how
    busy with requests the process was meanwhile: a status poll now and then adds a few
    milliseconds, clients that keep the process busy as much as the stretch lasted, or
    more."""

    def __init__(self) -> None:
        self.busy_seconds = 0.0

    def note(self, seconds: float) -> None:
        """One more request answered, after ``seconds``."""
        self.busy_seconds += seconds
