"""Webhook signatures, as TryVox signs them.

``X-TryVox-Signature: t=<unix>,v1=<hex>`` where the hex is the HMAC-SHA256, keyed with the
endpoint's secret (the whole ``whsec_…`` string, UTF-8), of ``"<t>.<raw body>"``; the same
``t`` is also sent alone as ``X-TryVox-Timestamp``. Signing the timestamp with the body lets
a receiver refuse replays of an old delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-TryVox-Signature"
TIMESTAMP_HEADER = "X-TryVox-Timestamp"
DEFAULT_TOLERANCE_SECONDS = 300


def compute_signature(body: bytes, secret: str, timestamp: int) -> str:
    """The hex ``v1`` signature of ``body`` sent at ``timestamp`` (Unix seconds)."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_headers(
    body: bytes, secret: str, timestamp: int, *older_secrets: str
) -> dict[str, str]:
    """The two headers a delivery of ``body`` carries: one ``v1`` per secret, the current
    one first (``t=…,v1=<new>,v1=<old>`` while a rotated secret is still honoured)."""
    signatures = ",".join(
        f"v1={compute_signature(body, each, timestamp)}" for each in (secret, *older_secrets)
    )
    return {
        SIGNATURE_HEADER: f"t={timestamp},{signatures}",
        TIMESTAMP_HEADER: str(timestamp),
    }


def verify_signature(
    body: bytes,
    header: str | None,
    secret: str,
    tolerance: float | None = DEFAULT_TOLERANCE_SECONDS,
    *,
    now: float | None = None,
) -> bool:
    """Whether ``header`` is a valid signature of ``body`` with ``secret``.

    ``tolerance`` (seconds) bounds how far ``t`` may be from ``now`` (default: the clock), so
    a captured delivery cannot be replayed later; ``None`` skips that check. Every ``v1`` in
    the header is tried, each compared in constant time.
    """
    parsed = _parse(header)
    if parsed is None:
        return False
    timestamp, candidates = parsed
    current = time.time() if now is None else now
    if tolerance is not None and abs(current - timestamp) > tolerance:
        return False
    expected = compute_signature(body, secret, timestamp)
    matches = [hmac.compare_digest(expected, candidate) for candidate in candidates]
    return any(matches)


def _parse(header: str | None) -> tuple[int, list[str]] | None:
    if not header:
        return None
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value.strip().lower())
    if timestamp is None or not candidates:
        return None
    return timestamp, candidates
