"""Webhook signatures: ``t=<unix>,v1=<HMAC-SHA256 of "<t>.<body>">``."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from voxnumbers_client import Event, webhooks
from voxnumbers_client.webhooks import SignatureVerificationError

SECRET = "whsec_test"
NOW = 1_767_225_600
PAYLOAD = json.dumps(
    {
        "id": "evt_000001",
        "type": "number.released",
        "e164": "+14155551234",
        "data": {"status": "released", "monthly_fee": 1.25},
        "created_at": "2026-01-01T00:00:00Z",
    }
).encode()


def header_for(payload: bytes, timestamp: int = NOW, secret: str = SECRET) -> str:
    """Signed independently of the SDK, as the server would."""
    digest = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def test_a_valid_signature_verifies() -> None:
    assert webhooks.verify_signature(PAYLOAD, header_for(PAYLOAD), SECRET, now=NOW + 10)
    webhooks.verify_signature_or_raise(PAYLOAD, header_for(PAYLOAD), SECRET, now=NOW)


def test_a_tampered_body_fails() -> None:
    tampered = PAYLOAD.replace(b"1.25", b"0.01")
    assert not webhooks.verify_signature(tampered, header_for(PAYLOAD), SECRET, now=NOW)
    with pytest.raises(SignatureVerificationError, match="No signature matches"):
        webhooks.verify_signature_or_raise(tampered, header_for(PAYLOAD), SECRET, now=NOW)


def test_the_wrong_secret_fails() -> None:
    assert not webhooks.verify_signature(PAYLOAD, header_for(PAYLOAD), "whsec_other", now=NOW)


def test_a_stale_or_future_timestamp_fails() -> None:
    header = header_for(PAYLOAD)
    assert not webhooks.verify_signature(PAYLOAD, header, SECRET, now=NOW + 301)
    assert not webhooks.verify_signature(PAYLOAD, header, SECRET, now=NOW - 301)
    assert webhooks.verify_signature(PAYLOAD, header, SECRET, now=NOW + 300)
    with pytest.raises(SignatureVerificationError, match="tolerance"):
        webhooks.verify_signature_or_raise(PAYLOAD, header, SECRET, now=NOW + 3600)


def test_tolerance_can_be_widened_or_turned_off() -> None:
    header = header_for(PAYLOAD)
    assert webhooks.verify_signature(
        PAYLOAD, header, SECRET, tolerance_seconds=7200, now=NOW + 3600
    )
    assert webhooks.verify_signature(PAYLOAD, header, SECRET, tolerance_seconds=None, now=0)


def test_the_timestamp_is_part_of_what_is_signed() -> None:
    _, signature = header_for(PAYLOAD).split(",")
    assert not webhooks.verify_signature(PAYLOAD, f"t={NOW + 1},{signature}", SECRET, now=NOW)


@pytest.mark.parametrize("header", [None, "", "garbage", f"t={NOW}", "v1=abc", "t=soon,v1=abc"])
def test_malformed_headers_fail(header: str | None) -> None:
    assert not webhooks.verify_signature(PAYLOAD, header, SECRET, now=NOW)


def test_any_of_several_signatures_may_match() -> None:
    header = header_for(PAYLOAD, secret="whsec_old") + "," + header_for(PAYLOAD).split(",")[1]
    assert webhooks.verify_signature(PAYLOAD, header, SECRET, now=NOW)


def test_signature_header_round_trips() -> None:
    header = webhooks.signature_header(PAYLOAD, SECRET, timestamp=NOW)
    assert header == header_for(PAYLOAD)
    assert webhooks.verify_signature(PAYLOAD, webhooks.signature_header(PAYLOAD, SECRET), SECRET)


def test_construct_event_verifies_then_parses() -> None:
    event = webhooks.construct_event(PAYLOAD, header_for(PAYLOAD), SECRET, now=NOW)
    assert isinstance(event, Event)
    assert (event.id, event.type, event.e164) == ("evt_000001", "number.released", "+14155551234")
    with pytest.raises(SignatureVerificationError):
        webhooks.construct_event(PAYLOAD + b" ", header_for(PAYLOAD), SECRET, now=NOW)
