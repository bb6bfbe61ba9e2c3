"""Domain errors. Each carries a stable code and HTTP status; ``http.errors`` renders them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One entry of the error envelope's ``details``."""

    field: str
    reason: str


# Each error code: its HTTP status and the message it answers with when none is given.
STATUS_AND_MESSAGE: dict[str, tuple[int, str]] = {
    "VALIDATION_FAILED": (400, "The request is not valid."),
    "UNAUTHORIZED": (401, "A valid API key is required (Authorization: Bearer tvx_sk_...)."),
    "FORBIDDEN": (403, "This API key cannot access that account."),
    "NOT_FOUND": (404, "The requested resource was not found."),
    "METHOD_NOT_ALLOWED": (405, "This method is not allowed on this resource."),
    "CONFLICT": (409, "The request conflicts with the current state of the resource."),
    "PRECONDITION_FAILED": (412, "The resource has changed since it was read (If-Match)."),
    "PAYLOAD_TOO_LARGE": (413, "The request body is too large."),
    "UNSUPPORTED_MEDIA_TYPE": (
        415,
        "Request bodies must be JSON (Content-Type: application/json).",
    ),
    "RATE_LIMITED": (429, "Too many requests; retry later."),
    "INTERNAL_ERROR": (500, "An unexpected error occurred."),
    "SERVICE_UNAVAILABLE": (503, "The service is temporarily unavailable; retry later."),
}


class ApiError(Exception):
    """Base of every error the API answers with; subclasses fix ``code`` and ``status``
    (``class NotFound(ApiError, code="NOT_FOUND")``)."""

    code = "INTERNAL_ERROR"
    status = 500
    default_message = "An unexpected error occurred."

    def __init_subclass__(cls, *, code: str) -> None:
        """A subclass names its code in its header; its status and message are the code's
        in ``STATUS_AND_MESSAGE``."""
        super().__init_subclass__()
        cls.code = code
        cls.status, cls.default_message = STATUS_AND_MESSAGE[code]

    def __init__(
        self,
        message: str | None = None,
        details: Sequence[FieldProblem] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = list(details)
        self.headers = headers or {}
        super().__init__(self.message)


class ValidationFailed(ApiError, code="VALIDATION_FAILED"):
    """The request's body, query or path is not what the API takes."""

    @classmethod
    def on(cls, field: str, reason: str, message: str | None = None) -> ValidationFailed:
        """A validation error about a single field."""
        return cls(
            message or f"Invalid value for '{field}': {reason}", [FieldProblem(field, reason)]
        )


class Unauthorized(ApiError, code="UNAUTHORIZED"):
    """No valid credential came with the request."""


class Forbidden(ApiError, code="FORBIDDEN"):
    """The credential is valid but may not reach what it asked for."""


class NotFound(ApiError, code="NOT_FOUND"):
    """No such resource (or not the caller's to see)."""


class MethodNotAllowed(ApiError, code="METHOD_NOT_ALLOWED"):
    """The path exists, not with this method."""


class Conflict(ApiError, code="CONFLICT"):
    """The resource's state does not allow the change."""


class PreconditionFailed(ApiError, code="PRECONDITION_FAILED"):
    """An ``If-Match`` names none of the resource's current tags."""


class PayloadTooLarge(ApiError, code="PAYLOAD_TOO_LARGE"):
    """The body is over the size the API reads."""


class UnsupportedMediaType(ApiError, code="UNSUPPORTED_MEDIA_TYPE"):
    """The body is not JSON."""


class RateLimited(ApiError, code="RATE_LIMITED"):
    """The caller is over its rate limit."""


class InternalError(ApiError, code="INTERNAL_ERROR"):
    """Something failed that the caller could not have caused."""


class ServiceUnavailable(ApiError, code="SERVICE_UNAVAILABLE"):
    """The service cannot answer now (the database is out of reach)."""


ERRORS_BY_STATUS: dict[int, type[ApiError]] = {
    cls.status: cls
    for cls in (
        ValidationFailed,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        Conflict,
        PreconditionFailed,
        PayloadTooLarge,
        UnsupportedMediaType,
        RateLimited,
        InternalError,
        ServiceUnavailable,
    )
}
