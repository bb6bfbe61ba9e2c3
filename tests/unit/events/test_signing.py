import hashlib
import hmac

from voxnumbers.events.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    compute_signature,
    signature_headers,
    verify_signature,
)

SECRET = "whsec_0123456789abcdefghijklmnopqrstuv"
BODY = b'{"id":"evt_1","type":"number.purchased","created_at":"2026-03-15T08:20:00Z","data":{}}'
T = 1_773_562_800


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert compute_signature(BODY, SECRET, T) == expected
    headers = signature_headers(BODY, SECRET, T)
    assert headers == {SIGNATURE_HEADER: f"t={T},v1={expected}", TIMESTAMP_HEADER: str(T)}


def test_a_fresh_signature_verifies():
    header = signature_headers(BODY, SECRET, T)[SIGNATURE_HEADER]
    assert verify_signature(BODY, header, SECRET, now=T + 10)


def test_a_changed_body_wrong_secret_or_forged_timestamp_does_not_verify():
    header = signature_headers(BODY, SECRET, T)[SIGNATURE_HEADER]
    assert not verify_signature(BODY + b" ", header, SECRET, now=T)
    assert not verify_signature(BODY, header, SECRET + "x", now=T)
    forged = header.replace(f"t={T}", f"t={T + 1}")
    assert not verify_signature(BODY, forged, SECRET, now=T)


def test_an_old_signature_is_refused_unless_tolerance_is_off():
    header = signature_headers(BODY, SECRET, T)[SIGNATURE_HEADER]
    assert not verify_signature(BODY, header, SECRET, 300, now=T + 301)
    assert not verify_signature(BODY, header, SECRET, 300, now=T - 301)
    assert verify_signature(BODY, header, SECRET, None, now=T + 86_400)


def test_any_of_several_v1_signatures_may_match():
    good = compute_signature(BODY, SECRET, T)
    assert verify_signature(BODY, f"t={T}, v1={'0' * 64}, v1={good}", SECRET, now=T)


def test_malformed_headers_do_not_verify():
    good = compute_signature(BODY, SECRET, T)
    for header in (
        None,
        "",
        f"v1={good}",
        f"t={T}",
        f"t=abc,v1={good}",
        "garbage",
        f"t=-{T},v1={good}",
    ):
        assert not verify_signature(BODY, header, SECRET, None, now=T)
