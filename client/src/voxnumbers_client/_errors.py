"""Exceptions: one class per error code of the API, all under :class:`VoxAPIError`.

Every failure the SDK reports is a :class:`VoxError`: the API answered with an error
(:class:`VoxAPIError` and its subclasses), the API could not be reached
(:class:`VoxConnectionError`), its answer could not be understood
(:class:`VoxResponseError`), or the client was not configured (:class:`VoxConfigError`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from voxnumbers_client import _json
from voxnumbers_client._retry import parse_retry_after


class VoxError(Exception):
    """Base of every exception raised by this SDK."""


class VoxConfigError(VoxError):
    """The client is missing a setting (API key, account id) or was given a bad one."""


class VoxConnectionError(VoxError):
    """The API could not be reached (DNS, refused or reset connection, TLS, timeout)."""


class VoxTimeoutError(VoxConnectionError):
    """The API did not answer within the client's timeout."""


class VoxResponseError(VoxError):
    """The API answered with a success status but a body this SDK cannot read."""


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One entry of an error's ``details``: which field was wrong, and why."""

    field: str
    reason: str


class VoxAPIError(VoxError):
    """The API answered with an error envelope.

    ``status`` is the HTTP status, ``code`` the envelope's stable code (``NOT_FOUND``),
    ``message`` its human sentence, ``details`` the per-field problems and ``request_id``
    the id to quote when asking for support. ``retry_after`` holds the ``Retry-After``
    header in seconds, when the API sent one.
    """

    #: The HTTP status this class stands for (``0`` on the base class).
    status: int = 0
    #: The envelope code this class stands for (empty on the base class).
    code: str = ""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Sequence[ErrorDetail] = (),
        request_id: str | None = None,
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = tuple(details)
        self.request_id = request_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = f"HTTP {self.status} {self.code}"
        if self.request_id:
            where += f", request {self.request_id}"
        problems = "".join(f"; {d.field}: {d.reason}" for d in self.details)
        return f"{self.message}{problems} ({where})"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, code={self.code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


class ValidationFailedError(VoxAPIError):
    """400 ``VALIDATION_FAILED``: a parameter or body field is invalid (see ``details``)."""

    status, code = 400, "VALIDATION_FAILED"


class UnauthorizedError(VoxAPIError):
    """401 ``UNAUTHORIZED``: the API key is missing, unknown or revoked."""

    status, code = 401, "UNAUTHORIZED"


class ForbiddenError(VoxAPIError):
    """403 ``FORBIDDEN``: the API key does not belong to the account in the path."""

    status, code = 403, "FORBIDDEN"


class NotFoundError(VoxAPIError):
    """404 ``NOT_FOUND``: no such object in this account."""

    status, code = 404, "NOT_FOUND"


class MethodNotAllowedError(VoxAPIError):
    """405 ``METHOD_NOT_ALLOWED``: the path exists but not with this method."""

    status, code = 405, "METHOD_NOT_ALLOWED"


class ConflictError(VoxAPIError):
    """409 ``CONFLICT``: the object's state forbids the change (number taken, still routed…)."""

    status, code = 409, "CONFLICT"


class PreconditionFailedError(VoxAPIError):
    """412 ``PRECONDITION_FAILED``: the object changed since it was read (``If-Match``)."""

    status, code = 412, "PRECONDITION_FAILED"


class PayloadTooLargeError(VoxAPIError):
    """413 ``PAYLOAD_TOO_LARGE``: the request body is over 64 KiB."""

    status, code = 413, "PAYLOAD_TOO_LARGE"


class UnsupportedMediaTypeError(VoxAPIError):
    """415 ``UNSUPPORTED_MEDIA_TYPE``: the request body is not JSON."""

    status, code = 415, "UNSUPPORTED_MEDIA_TYPE"


class RateLimitedError(VoxAPIError):
    """429 ``RATE_LIMITED``: too many requests; wait ``retry_after`` seconds."""

    status, code = 429, "RATE_LIMITED"


class InternalServerError(VoxAPIError):
    """500 ``INTERNAL_ERROR``: the server failed; quote ``request_id`` when reporting it."""

    status, code = 500, "INTERNAL_ERROR"


class ServiceUnavailableError(VoxAPIError):
    """503 ``SERVICE_UNAVAILABLE``: the service is temporarily down; try again later."""

    status, code = 503, "SERVICE_UNAVAILABLE"


ERROR_CLASSES: tuple[type[VoxAPIError], ...] = (
    ValidationFailedError,
    UnauthorizedError,
    ForbiddenError,
    NotFoundError,
    MethodNotAllowedError,
    ConflictError,
    PreconditionFailedError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
    RateLimitedError,
    InternalServerError,
    ServiceUnavailableError,
)
_BY_CODE = {cls.code: cls for cls in ERROR_CLASSES}
_BY_STATUS = {cls.status: cls for cls in ERROR_CLASSES}


def error_from_response(response: httpx.Response) -> VoxAPIError:
    """The exception for an error response (its body must have been read).

    The class follows the envelope's ``code``; an unknown code (or a body that is not an
    envelope, as a proxy in front of the API may send) falls back to the HTTP status.
    """
    status = response.status_code
    envelope = _envelope(response)
    code = _text(envelope.get("code")) or _default_code(status)
    message = _text(envelope.get("message")) or _fallback_message(response)
    details = [
        ErrorDetail(field=_text(d.get("field")) or "", reason=_text(d.get("reason")) or "")
        for d in envelope.get("details") or ()
        if isinstance(d, Mapping)
    ]
    request_id = _text(envelope.get("request_id")) or response.headers.get("X-Request-ID")
    cls = _BY_CODE.get(code) or _BY_STATUS.get(status) or VoxAPIError
    return cls(
        status,
        code,
        message,
        details,
        request_id,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )


def _envelope(response: httpx.Response) -> Mapping[str, Any]:
    try:
        body = _json.loads(response.content)
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, Mapping) else None
    return error if isinstance(error, Mapping) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _default_code(status: int) -> str:
    known = _BY_STATUS.get(status)
    return known.code if known else f"HTTP_{status}"


def _fallback_message(response: httpx.Response) -> str:
    text = response.text.strip()
    if text and len(text) <= 200 and "<" not in text:
        return text
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()


def connection_error(exc: httpx.TransportError) -> VoxConnectionError:
    """Wrap a transport failure of httpx in the SDK's own exception."""
    if isinstance(exc, httpx.TimeoutException):
        return VoxTimeoutError(f"The API did not answer in time: {exc}")
    return VoxConnectionError(f"Could not reach the API: {exc or type(exc).__name__}")
