"""Secrets never reach a log line, whoever writes it (``voxnumbers.logs``)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from voxnumbers.logs import mask_secrets

KEY = "tvx_sk_live_" + "Ab3" * 10


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"GET /v1/account/{KEY}/numbers", "GET /v1/account/tvx_sk_[redacted]/numbers"),
        (f"?page=1&key={KEY}&x=1", "?page=1&key=tvx_sk_[redacted]&x=1"),
        ("tvx_sk_test_abcdef", "tvx_sk_[redacted]"),
        ("TVX_SK_LIVE_abcdef", "TVX_SK_[redacted]"),
        ("secret whsec_abc123", "secret whsec_[redacted]"),
        (f"Authorization: Bearer {KEY}", "Authorization: Bearer [redacted]"),
        ("authorization: Basic YWNjXzE6c2s=", "authorization: Basic [redacted]"),
        ("postgresql://vox:hunter2@db:5432/vox", "postgresql://vox:[redacted]@db:5432/vox"),
        ("nothing to hide: acc_123, +14155550100", "nothing to hide: acc_123, +14155550100"),
    ],
)
def test_secrets_are_masked(text: str, masked: str) -> None:
    assert mask_secrets(text) == masked


def test_every_line_of_the_process_is_masked() -> None:
    """structlog lines (values, exception text) and the standard library's (a server or a
    driver quoting a request), as the process writes them to stderr."""
    program = f"""
import logging, structlog
from voxnumbers.logs import configure_logging
configure_logging("info")
structlog.get_logger("x").warning("a line", path="/v1/account/{KEY}/numbers", n=3)
try:
    raise RuntimeError("failed for {KEY}")
except RuntimeError:
    structlog.get_logger("x").exception("unhandled exception")
logging.getLogger("granian").warning("GET /v1/account/{KEY}/numbers?api_key={KEY}")
"""
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    lines = done.stderr.strip().splitlines()
    assert KEY[len("tvx_sk_") :] not in done.stderr + done.stdout
    assert '"path": "/v1/account/tvx_sk_[redacted]/numbers"' in lines[0]
    assert "RuntimeError: failed for tvx_sk_[redacted]" in done.stderr
    assert lines[-1] == "GET /v1/account/tvx_sk_[redacted]/numbers?api_key=tvx_sk_[redacted]"
