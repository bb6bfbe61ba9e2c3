"""The verification snippet in docs/webhooks.md works against what the worker sends."""

import re
import time
from pathlib import Path

from voxnumbers.events.signing import SIGNATURE_HEADER, signature_headers, verify_signature

DOC = Path(__file__).parents[3] / "docs" / "webhooks.md"


def _snippet_verify():
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(code, namespace)
    return namespace["verify_signature"]


def test_the_documented_snippet_verifies_real_signatures_and_refuses_bad_ones():
    verify = _snippet_verify()
    secret = "whsec_0d2m7xq9k3c5v8b1n4z6t0p2r7s9w3y5"
    body = b'{"id":"evt_1","type":"number.released","created_at":"2026-03-15T08:20:00Z","data":{}}'
    header = signature_headers(body, secret, int(time.time()))[SIGNATURE_HEADER]
    old = signature_headers(body, secret, int(time.time()) - 3600)[SIGNATURE_HEADER]

    assert verify(body, header, secret)
    assert not verify(body + b" ", header, secret)
    assert not verify(body, header, secret + "x")
    assert not verify(body, old, secret)
    assert not verify(body, "t=1,v1=", secret)


def test_the_documented_example_delivery_verifies():
    text = DOC.read_text()
    signature = re.search(r"X-TryVox-Signature: (t=\d+,v1=[0-9a-f]{64})", text).group(1)
    body = re.search(r"^(\{\"id\":\"evt_.*\})$", text, re.M).group(1).encode()
    secret = re.search(r'"secret": "(whsec_\w+)"', text).group(1)
    assert verify_signature(body, signature, secret, None)
