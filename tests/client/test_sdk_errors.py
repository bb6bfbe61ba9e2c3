"""Every error class of the SDK raised from a real answer of the server, sync and async.

405, 412 and 415 cannot be provoked through the SDK's public methods (every method uses an
existing route and sends JSON; the SDK has no ``If-Match`` option), so they go through the
request layer underneath, which every public method uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from tests.client.conftest import OpenVox
from tests.client.support import BASE_URL, Vox
from tests.factories import US_NUMBERS, Tenant, entry, make_tenant, stock
from voxnumbers.db.engine import Database
from voxnumbers.numbers import service as numbers_service
from voxnumbers_client import (
    ConflictError,
    ForbiddenError,
    InternalServerError,
    MethodNotAllowedError,
    NotFoundError,
    Number,
    NumberRouting,
    PayloadTooLargeError,
    PreconditionFailedError,
    RateLimitedError,
    ServiceUnavailableError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
    ValidationFailedError,
    VoxAPIError,
)
from voxnumbers_client._request import APIRequest, account_path

NUMBER = US_NUMBERS[0]


async def raised(vox: Vox, call: Callable[[], Any], error: type[VoxAPIError]) -> VoxAPIError:
    """The error ``call()`` raised: of class ``error``, and telling what the answer said.
    (A thunk: the blocking client raises as soon as the method is called.)"""
    with pytest.raises(error) as caught:
        await vox(call())
    exc = caught.value
    response = vox.wire.last.response
    envelope = response.json()["error"]
    assert (exc.status, exc.code) == (response.status_code, envelope["code"])
    assert (exc.status, exc.code) == (error.status, error.code)
    assert exc.message == envelope["message"] and exc.message
    assert exc.request_id == response.headers["x-request-id"] == envelope["request_id"]
    assert exc.request_id in str(exc)
    assert [(d.field, d.reason) for d in exc.details] == [
        (d["field"], d["reason"]) for d in envelope.get("details", [])
    ]
    return exc


async def client_as(vox: Vox, key: str, account_id: str) -> Any:
    """Another client of the same flavour on the same app."""
    return type(vox.client)(key, account_id=account_id, base_url=BASE_URL, transport=vox.wire)


async def test_400_validation_failed_names_the_field(vox: Vox) -> None:
    exc = await raised(vox, lambda: vox.client.numbers.list(per_page=0), ValidationFailedError)
    assert [d.field for d in exc.details] == ["per_page"]
    exc = await raised(
        vox, lambda: vox.client.trunks.create("PBX", "carrier-pigeon"), ValidationFailedError
    )
    assert [d.field for d in exc.details] == ["auth_type"]


async def test_401_unauthorized(vox: Vox) -> None:
    stranger = await client_as(vox, "tvx_sk_test_" + "x" * 32, vox.tenant.account_id)
    try:
        await raised(vox, lambda: stranger.numbers.get(NUMBER), UnauthorizedError)
    finally:
        await vox(stranger.close())


async def test_403_forbidden_for_another_account(vox: Vox, database: Database) -> None:
    other: Tenant = await make_tenant(database, "Other")
    lost = await client_as(vox, vox.tenant.key, other.account_id)
    try:
        await raised(vox, lambda: lost.trunks.list(), ForbiddenError)
    finally:
        await vox(lost.close())


async def test_404_not_found(vox: Vox) -> None:
    await raised(vox, lambda: vox.client.numbers.get(NUMBER), NotFoundError)
    await raised(vox, lambda: vox.client.webhooks.delete("whk_nothing"), NotFoundError)


async def test_409_conflict(vox: Vox, database: Database) -> None:
    await stock(database, entry(NUMBER), entry(US_NUMBERS[1]))
    await vox(vox.client.numbers.purchase(NUMBER, "US", idempotency_key="order-1"))
    await raised(vox, lambda: vox.client.numbers.purchase(NUMBER, "US"), ConflictError)
    exc = await raised(
        vox,
        lambda: vox.client.numbers.purchase(US_NUMBERS[1], "US", idempotency_key="order-1"),
        ConflictError,
    )
    assert [d.field for d in exc.details] == ["Idempotency-Key"]


async def test_413_payload_too_large(vox: Vox) -> None:
    huge = "https://example.com/" + "a" * 70_000
    await raised(
        vox, lambda: vox.client.applications.create("IVR", answer_url=huge), PayloadTooLargeError
    )


async def test_405_and_415_through_the_request_layer(vox: Vox) -> None:
    path = account_path(vox.tenant.account_id, "numbers", NUMBER)
    patch = APIRequest("PATCH", path, Number.from_json, body={"status": "active"})
    await raised(vox, lambda: vox.client._request(patch), MethodNotAllowedError)
    path = account_path(vox.tenant.account_id, "numbers", "purchase-from-inventory")
    as_text = APIRequest(
        "POST",
        path,
        Number.from_json,
        body={"e164": NUMBER, "country": "US"},
        headers=(("Content-Type", "text/plain"),),
    )
    await raised(vox, lambda: vox.client._request(as_text), UnsupportedMediaTypeError)


async def test_412_through_the_request_layer(vox: Vox, database: Database) -> None:
    await stock(database, entry(NUMBER))
    await vox(vox.client.numbers.purchase(NUMBER, "US"))
    trunk = await vox(vox.client.trunks.create("PBX", "ip"))
    path = account_path(vox.tenant.account_id, "numbers", NUMBER, "assign")
    stale = APIRequest(
        "POST",
        path,
        NumberRouting.from_json,
        body={"trunk_id": trunk.id},
        headers=(("If-Match", '"0123456789abcdef0123456789abcdef"'),),
    )
    await raised(vox, lambda: vox.client._request(stale), PreconditionFailedError)
    assert (await vox(vox.client.numbers.get(NUMBER))).trunk_id is None


async def test_429_rate_limited_after_the_retries(connect: OpenVox, sleeps: list[float]) -> None:
    async with connect(rate_limit_per_minute=1, rate_limit_burst=1) as vox:
        await vox(vox.client.trunks.list())
        exc = await raised(vox, lambda: vox.client.trunks.list(), RateLimitedError)
        assert exc.retry_after is not None and 1 <= exc.retry_after <= 60
        assert exc.retry_after == float(vox.wire.last.response.headers["retry-after"])
        assert len(vox.wire.exchanges) == 1 + 3  # the first, then one call and two retries
        assert sleeps == [exc.retry_after] * 2


async def test_500_internal_error_is_not_retried(
    vox: Vox, monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(numbers_service, "get_number", broken)
    exc = await raised(vox, lambda: vox.client.numbers.get(NUMBER), InternalServerError)
    assert "a bug" not in str(exc)
    assert len(vox.wire.exchanges) == 1 and sleeps == []


async def test_503_service_unavailable_after_the_retries(
    vox: Vox, monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    async def database_gone(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database went away"))

    monkeypatch.setattr(numbers_service, "get_number", database_gone)
    exc = await raised(vox, lambda: vox.client.numbers.get(NUMBER), ServiceUnavailableError)
    assert exc.retry_after == 1.0
    assert len(vox.wire.exchanges) == 3 and sleeps == [1.0, 1.0]
