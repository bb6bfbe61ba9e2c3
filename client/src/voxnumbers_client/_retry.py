"""When and how long to wait before trying a request again (pure; the clients do the I/O).

Retried: ``429``, ``503`` and the gateway errors ``502``/``504``, plus network failures and
timeouts. Never retried: any other status. Retrying writes is safe because every POST and
DELETE carries one ``Idempotency-Key`` for all of its attempts, and the API replays the first
answer instead of repeating the side effect.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

logger = logging.getLogger("voxnumbers_client")

RETRY_STATUSES = frozenset({429, 502, 503, 504})
_RETRY_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter, honouring ``Retry-After``.

    ``max_retries`` is the number of extra attempts (0 disables retries). A ``Retry-After``
    longer than ``max_retry_after`` is not waited out: the error is raised instead, with
    its ``retry_after`` set, so the caller decides.
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def delay_after_response(self, attempt: int, response: httpx.Response) -> float | None:
        """Seconds to wait before retrying after ``response``, or ``None`` to stop."""
        if attempt >= self.max_retries or response.status_code not in RETRY_STATUSES:
            return None
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is not None and retry_after > self.max_retry_after:
            return None
        delay = self.backoff(attempt) if retry_after is None else retry_after
        _log(response.request, f"HTTP {response.status_code}", delay)
        return delay

    def delay_after_error(
        self, attempt: int, request: httpx.Request, error: httpx.TransportError
    ) -> float | None:
        """Seconds to wait before retrying after a transport ``error``, or ``None`` to stop."""
        if attempt >= self.max_retries or not isinstance(error, _RETRY_ERRORS):
            return None
        delay = self.backoff(attempt)
        _log(request, type(error).__name__, delay)
        return delay

    def backoff(self, attempt: int) -> float:
        """Half of the exponential step fixed, half random ("equal jitter")."""
        step = min(self.max_delay, self.initial_delay * 2.0**attempt)
        return step / 2 + random.uniform(0, step / 2)


def _log(request: httpx.Request, reason: str, delay: float) -> None:
    logger.info("Retrying %s %s after %s in %.2fs", request.method, request.url, reason, delay)
