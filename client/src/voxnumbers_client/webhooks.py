"""Verify that a webhook delivery really comes from the API, and read its event.

Deliveries carry ``X-TryVox-Signature: t=<unix time>,v1=<hex>``, where the hex is the
HMAC-SHA256 of ``"<t>.<raw body>"`` keyed with the endpoint's secret. Verify against the raw
bytes of the body, before any JSON parsing::

    from voxnumbers_client import webhooks

    if not webhooks.verify_signature(request.body, request.headers["X-TryVox-Signature"], secret):
        return 400
"""

from __future__ import annotations

import hashlib
import hmac
import time

from voxnumbers_client import _json
from voxnumbers_client._errors import VoxError
from voxnumbers_client._models import Event

SIGNATURE_HEADER = "X-TryVox-Signature"
TIMESTAMP_HEADER = "X-TryVox-Timestamp"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureVerificationError(VoxError):
    """The signature header is missing, malformed, stale, or does not match the body."""


def compute_signature(payload: bytes | str, secret: str, timestamp: int) -> str:
    """The hex ``v1`` signature of ``payload`` sent at ``timestamp`` (unix seconds)."""
    body = payload.encode() if isinstance(payload, str) else payload
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """A complete ``X-TryVox-Signature`` value, e.g. to sign deliveries in your own tests."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={compute_signature(payload, secret, t)}"


def verify_signature_or_raise(
    payload: bytes | str,
    header: str | None,
    secret: str,
    tolerance_seconds: float | None = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Check a delivery's signature; raise :class:`SignatureVerificationError` saying why not.

    ``tolerance_seconds`` bounds how old (or how far in the future) ``t`` may be, against
    replays; ``None`` turns that check off. ``now`` (unix seconds) defaults to the clock.
    Every ``v1`` in the header is tried, so a secret being rotated still verifies.
    """
    timestamp, signatures = _parse_header(header)
    current = time.time() if now is None else now
    if tolerance_seconds is not None and abs(current - timestamp) > tolerance_seconds:
        raise SignatureVerificationError(
            f"Signature timestamp {timestamp} is outside the {tolerance_seconds}s tolerance."
        )
    expected = compute_signature(payload, secret, timestamp)
    # Compare every candidate, without stopping early, in constant time each.
    matches = [hmac.compare_digest(expected, candidate) for candidate in signatures]
    if not any(matches):
        raise SignatureVerificationError("No signature matches the payload and secret.")


def verify_signature(
    payload: bytes | str,
    header: str | None,
    secret: str,
    tolerance_seconds: float | None = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """Whether the delivery's signature is valid (see :func:`verify_signature_or_raise`)."""
    try:
        verify_signature_or_raise(payload, header, secret, tolerance_seconds, now)
    except SignatureVerificationError:
        return False
    return True


def construct_event(
    payload: bytes | str,
    header: str | None,
    secret: str,
    tolerance_seconds: float | None = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> Event:
    """Verify the delivery, then parse its body into an :class:`~voxnumbers_client.Event`."""
    verify_signature_or_raise(payload, header, secret, tolerance_seconds, now)
    try:
        return Event.from_json(_json.loads(payload))
    except ValueError as exc:
        raise SignatureVerificationError(f"The signed payload is not an event: {exc}") from exc


def _parse_header(header: str | None) -> tuple[int, list[str]]:
    if not header:
        raise SignatureVerificationError(f"No {SIGNATURE_HEADER} header.")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value.strip().lower())
    if timestamp is None or not signatures:
        raise SignatureVerificationError(
            f"Malformed {SIGNATURE_HEADER} header: expected 't=<unix>,v1=<hex>'."
        )
    return timestamp, signatures


__all__ = [
    "DEFAULT_TOLERANCE_SECONDS",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "SignatureVerificationError",
    "compute_signature",
    "construct_event",
    "signature_header",
    "verify_signature",
    "verify_signature_or_raise",
]
