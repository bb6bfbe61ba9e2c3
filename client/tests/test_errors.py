"""Errors: one exception class per envelope code, with status, message, details, request id."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fake_api import ACCOUNT_ID, API_KEY, FakeTryVox

from conftest import BASE_URL, make_client
from voxnumbers_client import (
    Client,
    ConflictError,
    ErrorDetail,
    ForbiddenError,
    InternalServerError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    PreconditionFailedError,
    RateLimitedError,
    ServiceUnavailableError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
    ValidationFailedError,
    VoxAPIError,
    VoxConnectionError,
    VoxError,
    VoxResponseError,
    VoxTimeoutError,
)

ERRORS = [
    (400, "VALIDATION_FAILED", ValidationFailedError),
    (401, "UNAUTHORIZED", UnauthorizedError),
    (403, "FORBIDDEN", ForbiddenError),
    (404, "NOT_FOUND", NotFoundError),
    (405, "METHOD_NOT_ALLOWED", MethodNotAllowedError),
    (409, "CONFLICT", ConflictError),
    (412, "PRECONDITION_FAILED", PreconditionFailedError),
    (413, "PAYLOAD_TOO_LARGE", PayloadTooLargeError),
    (415, "UNSUPPORTED_MEDIA_TYPE", UnsupportedMediaTypeError),
    (429, "RATE_LIMITED", RateLimitedError),
    (500, "INTERNAL_ERROR", InternalServerError),
    (503, "SERVICE_UNAVAILABLE", ServiceUnavailableError),
]


def answering(status: int, body: Any = None, **kwargs: Any) -> Client:
    """A client whose every request gets this one response."""

    def handler(request: httpx.Request) -> httpx.Response:
        return (
            httpx.Response(status, json=body, **kwargs)
            if body is not None
            else httpx.Response(status, **kwargs)
        )

    transport = httpx.MockTransport(handler)
    return Client(API_KEY, account_id=ACCOUNT_ID, transport=transport, max_retries=0)


def envelope(code: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": f"Sorry: {code}", **extra}}


@pytest.mark.parametrize(("status", "code", "cls"), ERRORS)
def test_each_code_raises_its_class(status: int, code: str, cls: type[VoxAPIError]) -> None:
    body = envelope(
        code, details=[{"field": "per_page", "reason": "too big"}], request_id="req_abc"
    )
    with answering(status, body) as client, pytest.raises(cls) as raised:
        client.numbers.get("+14155551234")

    error = raised.value
    assert isinstance(error, VoxAPIError) and isinstance(error, VoxError)
    assert (error.status, error.code, error.message) == (status, code, f"Sorry: {code}")
    assert error.details == (ErrorDetail("per_page", "too big"),)
    assert error.request_id == "req_abc"
    assert (cls.status, cls.code) == (status, code)
    assert "req_abc" in str(error) and "per_page: too big" in str(error)


def test_an_unknown_code_maps_by_status() -> None:
    with answering(409, envelope("NUMBER_ON_HOLD")) as client, pytest.raises(ConflictError) as e:
        client.numbers.get("+14155551234")
    assert e.value.code == "NUMBER_ON_HOLD"


def test_an_unknown_status_and_code_is_the_base_class() -> None:
    with answering(418, envelope("TEAPOT")) as client, pytest.raises(VoxAPIError) as raised:
        client.numbers.get("+14155551234")
    assert type(raised.value) is VoxAPIError
    assert (raised.value.status, raised.value.code) == (418, "TEAPOT")


def test_a_body_that_is_not_an_envelope_still_gives_status_class_and_request_id() -> None:
    client = answering(
        502, None, text="<html>Bad gateway</html>", headers={"X-Request-ID": "req_proxy"}
    )
    with client, pytest.raises(VoxAPIError) as raised:
        client.numbers.get("+14155551234")
    assert raised.value.status == 502
    assert raised.value.code == "HTTP_502"
    assert raised.value.message == "HTTP 502 Bad Gateway"
    assert raised.value.request_id == "req_proxy"


def test_request_id_falls_back_to_the_header() -> None:
    client = answering(404, envelope("NOT_FOUND"), headers={"X-Request-ID": "req_hdr"})
    with client, pytest.raises(NotFoundError) as raised:
        client.numbers.get("+14155551234")
    assert raised.value.request_id == "req_hdr"


def test_rate_limited_error_carries_retry_after() -> None:
    client = answering(429, envelope("RATE_LIMITED"), headers={"Retry-After": "7"})
    with client, pytest.raises(RateLimitedError) as raised:
        client.numbers.get("+14155551234")
    assert raised.value.retry_after == 7.0


def test_success_with_an_unreadable_body_is_a_response_error() -> None:
    with answering(200, {"e164": "+14155551234"}) as client, pytest.raises(VoxResponseError):
        client.numbers.get("+14155551234")
    with answering(200, None, text="not json") as client, pytest.raises(VoxResponseError):
        client.numbers.get("+14155551234")


# -- the same errors, produced for real by the fake API -----------------------------------


def test_not_found_from_the_fake(client: Client) -> None:
    with pytest.raises(NotFoundError) as raised:
        client.numbers.get("+15550000000")
    assert raised.value.request_id and raised.value.request_id.startswith("req_")


def test_validation_details_name_the_field(client: Client) -> None:
    with pytest.raises(ValidationFailedError) as raised:
        client.numbers.list(per_page=101)
    assert [d.field for d in raised.value.details] == ["per_page"]


def test_wrong_key_is_unauthorized(fake: FakeTryVox) -> None:
    bad = Client("tvx_sk_test_wrong", account_id=ACCOUNT_ID, transport=fake.transport)
    with bad, pytest.raises(UnauthorizedError):
        bad.numbers.list()


def test_other_account_is_forbidden(fake: FakeTryVox) -> None:
    with make_client(fake, account_id="acc_other") as other, pytest.raises(ForbiddenError):
        other.numbers.list()


def test_buying_an_owned_number_conflicts(client: Client) -> None:
    with pytest.raises(ConflictError):
        client.numbers.purchase("+14155551234", "US")


def test_an_oversized_body_is_refused(client: Client) -> None:
    with pytest.raises(PayloadTooLargeError):
        client.webhooks.create("https://example.com/" + "x" * 70_000)


def test_connection_failures_are_wrapped(fake: FakeTryVox) -> None:
    fake.disconnect_next()
    with make_client(fake, max_retries=0) as client, pytest.raises(VoxConnectionError) as raised:
        client.numbers.list()
    assert isinstance(raised.value.__cause__, httpx.ConnectError)


def test_timeouts_are_a_kind_of_connection_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    transport = httpx.MockTransport(handler)
    client = Client(
        API_KEY, account_id=ACCOUNT_ID, base_url=BASE_URL, transport=transport, max_retries=0
    )
    with client, pytest.raises(VoxTimeoutError):
        client.numbers.list()
