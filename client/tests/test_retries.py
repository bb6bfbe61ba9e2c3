"""Retries: backoff on 429/503/network errors, Retry-After, and one idempotency key per call."""

from __future__ import annotations

import pytest
from fake_api import FakeTryVox

from conftest import make_async_client, make_client
from voxnumbers_client import (
    Client,
    ConflictError,
    InternalServerError,
    RateLimitedError,
    ServiceUnavailableError,
    ValidationFailedError,
)
from voxnumbers_client._retry import RetryPolicy, parse_retry_after


def test_a_503_is_retried_with_backoff(
    client: Client, fake: FakeTryVox, sleeps: list[float]
) -> None:
    fake.fail_next(503, "SERVICE_UNAVAILABLE")

    assert client.numbers.get("+14155551234").e164 == "+14155551234"
    assert len(fake.requests) == 2
    assert len(sleeps) == 1 and 0.25 <= sleeps[0] <= 0.5


def test_retry_after_is_honoured(client: Client, fake: FakeTryVox, sleeps: list[float]) -> None:
    fake.fail_next(429, "RATE_LIMITED", retry_after="3")

    client.numbers.list()

    assert sleeps == [3.0]
    assert len(fake.requests) == 2


def test_a_retry_after_longer_than_a_minute_is_not_waited_out(
    client: Client, fake: FakeTryVox, sleeps: list[float]
) -> None:
    fake.fail_next(429, "RATE_LIMITED", retry_after="120")

    with pytest.raises(RateLimitedError) as raised:
        client.numbers.list()
    assert raised.value.retry_after == 120.0
    assert sleeps == [] and len(fake.requests) == 1


def test_a_connection_error_is_retried(
    client: Client, fake: FakeTryVox, sleeps: list[float]
) -> None:
    fake.disconnect_next()

    assert client.numbers.list().pagination.total == 47
    assert len(fake.requests) == 2 and len(sleeps) == 1


def test_backoff_grows_and_gives_up_after_max_retries(
    client: Client, fake: FakeTryVox, sleeps: list[float]
) -> None:
    fake.fail_next(503, "SERVICE_UNAVAILABLE", times=3)

    with pytest.raises(ServiceUnavailableError):
        client.numbers.list()
    assert len(fake.requests) == 3
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0


def test_max_retries_zero_disables_retries(fake: FakeTryVox, sleeps: list[float]) -> None:
    fake.fail_next(503, "SERVICE_UNAVAILABLE")
    with make_client(fake, max_retries=0) as client, pytest.raises(ServiceUnavailableError):
        client.numbers.list()
    assert len(fake.requests) == 1 and sleeps == []


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (400, "VALIDATION_FAILED", ValidationFailedError),
        (409, "CONFLICT", ConflictError),
        (500, "INTERNAL_ERROR", InternalServerError),
    ],
)
def test_other_errors_are_not_retried(
    client: Client, fake: FakeTryVox, status: int, code: str, error: type[Exception]
) -> None:
    fake.fail_next(status, code)
    with pytest.raises(error):
        client.numbers.purchase("+16465553000", "US")
    assert len(fake.requests) == 1


def test_a_retried_purchase_sends_the_same_idempotency_key(
    client: Client, fake: FakeTryVox
) -> None:
    fake.fail_next(503, "SERVICE_UNAVAILABLE")
    fake.disconnect_next()

    client.numbers.purchase("+16465553000", "US")

    keys = [r.headers["Idempotency-Key"] for r in fake.requests]
    assert len(keys) == 3 and len(set(keys)) == 1


def test_a_purchase_whose_answer_was_lost_is_bought_once(client: Client, fake: FakeTryVox) -> None:
    """The server bought the number but the answer never arrived: the retry must not buy
    again (which would answer 409), it gets the first answer replayed."""
    fake.lose_next_response()
    inventory_before = len(fake.inventory)

    number = client.numbers.purchase("+16465553000", "US")

    assert number.e164 == "+16465553000"
    assert len(fake.inventory) == inventory_before - 1
    assert [e["type"] for e in fake.events] == ["number.purchased"]
    assert len(fake.requests) == 2


def test_every_logical_call_gets_its_own_key(client: Client, fake: FakeTryVox) -> None:
    client.numbers.purchase("+16465553000", "US")
    client.numbers.purchase("+16465553001", "US")
    first, second = (r.headers["Idempotency-Key"] for r in fake.requests)
    assert first != second


def test_gets_carry_no_idempotency_key(client: Client, fake: FakeTryVox) -> None:
    client.numbers.get("+14155551234")
    assert "Idempotency-Key" not in fake.requests[0].headers


async def test_async_retries_reuse_the_key_and_honour_retry_after(
    fake: FakeTryVox, sleeps: list[float]
) -> None:
    fake.fail_next(429, "RATE_LIMITED", retry_after="2")
    fake.disconnect_next()

    async with make_async_client(fake) as client:
        number = await client.numbers.purchase("+16465553000", "US")

    assert number.status == "active"
    assert len({r.headers["Idempotency-Key"] for r in fake.requests}) == 1
    assert len(fake.requests) == 3
    assert sleeps[0] == 2.0


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480.0) == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412600.0) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_is_capped() -> None:
    policy = RetryPolicy(max_retries=10, initial_delay=0.5, max_delay=8.0)
    assert all(4.0 <= policy.backoff(attempt) <= 8.0 for attempt in range(4, 10))
