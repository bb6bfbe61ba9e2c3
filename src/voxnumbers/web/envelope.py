"""The one place errors become responses: the envelope of ``spec/API.md`` §1.

Domain errors (``voxnumbers.errors``) render as themselves; the framework's own errors are
mapped onto the same codes; anything unexpected is logged with its traceback and answered
``500 INTERNAL_ERROR`` with nothing but the request id.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.types import Message
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from voxnumbers.db.errors import DatabaseUnavailable, is_retryable, is_unavailable
from voxnumbers.errors import (
    ERRORS_BY_STATUS,
    ApiError,
    FieldProblem,
    InternalError,
    ServiceUnavailable,
    ValidationFailed,
)
from voxnumbers.kit.jsonc import encode_json
from voxnumbers.web.json import malformed_json
from voxnumbers.web.requestid import request_id_of

log = structlog.get_logger("voxnumbers.errors")


class ErrorDetail(msgspec.Struct):
    field: str
    reason: str


class ErrorBody(msgspec.Struct):
    code: str
    message: str
    request_id: str
    details: list[ErrorDetail] | msgspec.UnsetType = msgspec.UNSET


class ErrorEnvelope(msgspec.Struct):
    """``{"error": {"code", "message", "details"?, "request_id"}}``."""

    error: ErrorBody


def _envelope(error: ApiError, request_id: str) -> bytes:
    body = ErrorBody(code=error.code, message=error.message, request_id=request_id)
    if error.details:
        body.details = [ErrorDetail(field=d.field, reason=d.reason) for d in error.details]
    return encode_json(ErrorEnvelope(error=body))


def error_response(error: ApiError, request_id: str) -> Response[bytes]:
    headers = {"X-Request-ID": request_id, **error.headers}
    return Response(
        content=_envelope(error, request_id),
        status_code=error.status,
        media_type="application/json",
        headers=headers,
    )


def error_messages(error: ApiError, request_id: str) -> list[Message]:
    """The same response as ASGI messages, for middleware that answers on its own (after
    a failed commit, or an exception that escaped the application)."""
    body = _envelope(error, request_id)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode()),
        *((name.lower().encode(), value.encode()) for name, value in error.headers.items()),
    ]
    return [
        {"type": "http.response.start", "status": error.status, "headers": headers},
        {"type": "http.response.body", "body": body, "more_body": False},
    ]


def handle_api_error(request: Request[Any, Any, Any], exc: ApiError) -> Response[bytes]:
    return error_response(exc, request_id_of(request.scope))


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    return error_response(api_error_from_framework(exc), request_id_of(request.scope))


def handle_database_error(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[bytes]:
    """Lost connections, a server shutting down or starting up, statement timeouts are
    ``503`` (retry); anything else from the database is a bug (``500``)."""
    if is_unavailable(exc):
        return handle_database_unavailable(request, exc)
    return handle_unexpected(request, exc)


def handle_database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """``503`` with ``Retry-After``; the log names the driver's error, the body nothing."""
    cause = exc.__cause__ if isinstance(exc, DatabaseUnavailable) and exc.__cause__ else exc
    request_id = request_id_of(request.scope)
    if is_retryable(cause):  # a deadlock or the like: web.unitofwork runs the request again
        log.info(
            "transaction given up by the database",
            request_id=request_id,
            error=_sqlstate_of(cause),
        )
    else:
        log.warning(
            "database unavailable",
            request_id=request_id,
            error=type(cause).__name__,
            path=request.url.path,
        )
    return error_response(ServiceUnavailable(headers={"Retry-After": "1"}), request_id)


def _sqlstate_of(error: BaseException) -> str:
    return str(getattr(getattr(error, "orig", None), "sqlstate", None) or type(error).__name__)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    request_id = request_id_of(request.scope)
    log.error(
        "unhandled exception",
        request_id=request_id,
        exc_info=exc,
        path=request.url.path,
        method=request.method,
    )
    return error_response(InternalError(), request_id)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ApiError: handle_api_error,
    HTTPException: handle_http_exception,
    DatabaseUnavailable: handle_database_unavailable,
    PoolTimeout: handle_database_unavailable,
    DBAPIError: handle_database_error,
    # A request's only network I/O is its database: a socket error or a timeout there (the
    # driver raises them untranslated, e.g. an unresponsive server past the command timeout).
    OSError: handle_database_unavailable,
    Exception: handle_unexpected,
}


def api_error_from_framework(exc: HTTPException) -> ApiError:
    """The domain error matching one of the framework's (routing, parsing, body size…)."""
    status = exc.status_code
    if isinstance(exc, ValidationException) or status == 400:
        return _validation_error(exc)
    error_class = ERRORS_BY_STATUS.get(status, InternalError if status >= 500 else ValidationFailed)
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() == "allow"}
    return error_class(headers=headers)


def _validation_error(exc: HTTPException) -> ValidationFailed:
    problems = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if isinstance(item, dict) and "key" in item:
            problems.append(_problem(item))
    if problems:
        names = ", ".join(sorted({p.field for p in problems}))
        return ValidationFailed(f"Invalid value for {names}.", problems)
    if _caused_by_json_decoding(exc):
        return malformed_json()
    return ValidationFailed("The request is not valid.")


# msgspec's messages about the body as a whole, and the field each one is about.
_MISSING_FIELD = re.compile(r"^Object missing required field `(?P<field>[^`]+)`")
_UNKNOWN_FIELD = re.compile(r"^Object contains unknown field `(?P<field>[^`]+)`")


def _problem(item: dict[str, Any]) -> FieldProblem:
    """The field a framework validation message is about: the body's own field where the
    message names one (``data`` is the handler's parameter, not a field of the request)."""
    key, reason = str(item["key"]), _reason(item)
    if item.get("source") != "body" or key != "data":
        return FieldProblem(field=key, reason=reason)
    if match := _MISSING_FIELD.match(reason):
        return FieldProblem(match["field"], "is required")
    if match := _UNKNOWN_FIELD.match(reason):
        return FieldProblem(match["field"], "is not a field of this request")
    return FieldProblem("body", "must be a JSON object")


def _caused_by_json_decoding(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    for _ in range(10):  # a chain is short; never loop on a cyclic one
        if cause is None:
            break
        if isinstance(cause, SerializationException | msgspec.DecodeError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _reason(item: dict[str, Any]) -> str:
    message = str(item.get("message", "is invalid"))
    # msgspec says "Expected `int`, got `str`"; drop the path suffix it may add.
    return message.split(" - at `", 1)[0]
