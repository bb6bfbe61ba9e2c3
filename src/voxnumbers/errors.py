"""Domain errors. Each carries a stable code and HTTP status; ``http.errors`` renders them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One entry of the error envelope's ``details``."""

    field: str
    reason: str


class ApiError(Exception):
    """Base of every error the API answers with; subclasses fix ``code`` and ``status``."""

    code = "INTERNAL_ERROR"
    status = 500
    default_message = "An unexpected error occurred."

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


class ValidationFailed(ApiError):
    code, status, default_message = "VALIDATION_FAILED", 400, "The request is not valid."

    @classmethod
    def on(cls, field: str, reason: str, message: str | None = None) -> ValidationFailed:
        """A validation error about a single field."""
        return cls(
            message or f"Invalid value for '{field}': {reason}", [FieldProblem(field, reason)]
        )


class Unauthorized(ApiError):
    code, status = "UNAUTHORIZED", 401
    default_message = "A valid API key is required (Authorization: Bearer tvx_sk_...)."


class Forbidden(ApiError):
    code, status = "FORBIDDEN", 403
    default_message = "This API key cannot access that account."


class NotFound(ApiError):
    code, status, default_message = "NOT_FOUND", 404, "The requested resource was not found."


class MethodNotAllowed(ApiError):
    code, status = "METHOD_NOT_ALLOWED", 405
    default_message = "This method is not allowed on this resource."


class Conflict(ApiError):
    code, status = "CONFLICT", 409
    default_message = "The request conflicts with the current state of the resource."


class PreconditionFailed(ApiError):
    code, status = "PRECONDITION_FAILED", 412
    default_message = "The resource has changed since it was read (If-Match)."


class PayloadTooLarge(ApiError):
    code, status, default_message = "PAYLOAD_TOO_LARGE", 413, "The request body is too large."


class UnsupportedMediaType(ApiError):
    code, status = "UNSUPPORTED_MEDIA_TYPE", 415
    default_message = "Request bodies must be JSON (Content-Type: application/json)."


class RateLimited(ApiError):
    code, status, default_message = "RATE_LIMITED", 429, "Too many requests; retry later."


class InternalError(ApiError):
    code, status, default_message = "INTERNAL_ERROR", 500, "An unexpected error occurred."


class ServiceUnavailable(ApiError):
    code, status = "SERVICE_UNAVAILABLE", 503
    default_message = "The service is temporarily unavailable; retry later."


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
