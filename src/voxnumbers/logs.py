"""JSON logs via structlog: one object per line, request ids, never secrets."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


# Secrets that may reach a log line by mistake (a key pasted into a path, a query or an
# exception's text, a header quoted by a library), each with what is kept of it.
_SECRETS = re.compile(
    r"(?P<keep>tvx_sk_|whsec_)[A-Za-z0-9_]*"  # API keys (live, test, any), webhook secrets
    r"|(?P<scheme>\b(?:Bearer|Basic)\s+)[^\s\"',;]+"  # Authorization header values
    r"|(?P<user>://[^/\s:@]*:)[^/\s@]+(?=@)",  # the password of a URL's user info
    re.IGNORECASE,
)


def mask_secrets(text: str) -> str:
    """``text`` with every secret it contains replaced by ``[redacted]``."""
    return _SECRETS.sub(_masked, text)


def _masked(match: re.Match[str]) -> str:
    return (match["keep"] or match["scheme"] or match["user"]) + "[redacted]"


def _mask_event(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
    """structlog processor: mask secrets in every value of the line (exception text
    included: it runs after ``format_exc_info``), whatever the code that logged it."""
    return {key: _mask_value(value) for key, value in event.items()}


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, dict):
        return {key: _mask_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_value(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return mask_secrets(str(value))


class _MaskingFormatter(logging.Formatter):
    """The standard library's records (server, drivers, libraries), masked the same way."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))


def configure_logging(level: str = "info") -> None:
    """Route structlog and the standard library's logging to JSON lines on stderr, with
    every secret masked (``mask_secrets``)."""
    numeric = _LEVELS.get(level.lower(), logging.INFO)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _mask_event,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(
        level=max(numeric, logging.WARNING), stream=sys.stderr, format="%(message)s"
    )
    for handler in logging.getLogger().handlers:
        if type(handler.formatter) is logging.Formatter:
            handler.setFormatter(_MaskingFormatter(handler.formatter._fmt))


class _StderrLogger:
    """Writes each line to whatever ``sys.stderr`` is at the time of writing (test runners
    and servers may swap it after the application was created)."""

    def msg(self, message: str) -> None:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


def _stderr_logger(*_args: object) -> _StderrLogger:
    return _StderrLogger()
