"""Retries of the SDK against the real server, sync and async: a purchase whose answer was
lost is replayed, not repeated; 503 and 429 are waited out as the server asks."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from tests.api.support import event_count, for_sale, owners_of
from tests.client.conftest import FakeClock, OpenVox
from tests.client.support import Vox
from tests.factories import US_NUMBERS, entry, stock
from voxnumbers.db.engine import Database
from voxnumbers.kit.ratelimit import Quota, RateLimiter
from voxnumbers.numbers import service as numbers_service

NUMBER = US_NUMBERS[0]


def statuses(vox: Vox) -> list[int]:
    return [exchange.response.status_code for exchange in vox.wire.exchanges]


async def test_a_purchase_whose_answer_was_lost_is_replayed_not_repeated(
    vox: Vox, database: Database, sleeps: list[float]
) -> None:
    await stock(database, entry(NUMBER))
    vox.wire.lose_answers = 1  # the server buys, then the connection breaks

    number = await vox(vox.client.numbers.purchase(NUMBER, "US"))

    first, retry = vox.wire.exchanges
    assert first.request.headers["idempotency-key"] == retry.request.headers["idempotency-key"]
    assert first.response.status_code == retry.response.status_code == 201
    assert "idempotent-replayed" not in first.response.headers
    assert retry.response.headers["idempotent-replayed"] == "true"
    assert retry.response.content == first.response.content
    assert number.e164 == NUMBER and number.status == "active"
    assert len(sleeps) == 1 and 0.25 <= sleeps[0] <= 0.5  # the first backoff step

    purchases = await vox.items(vox.client.events.list(type="number.purchased"))
    assert [event.e164 for event in purchases] == [NUMBER]
    assert await event_count(database, NUMBER) == 1
    assert await owners_of(database, NUMBER) == [vox.tenant.account_id]
    assert not await for_sale(database, NUMBER)
    assert NUMBER not in {n.e164 for n in await vox.items(vox.client.inventory.search())}


async def test_a_503_then_success(
    vox: Vox, database: Database, monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    await stock(database, entry(NUMBER))
    await vox(vox.client.numbers.purchase(NUMBER, "US"))
    real_get_number = numbers_service.get_number
    failures = [OperationalError("SELECT 1", {}, ConnectionResetError("database restarting"))]

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return await real_get_number(*args, **kwargs)

    monkeypatch.setattr(numbers_service, "get_number", flaky)
    vox.wire.exchanges.clear()

    number = await vox(vox.client.numbers.get(NUMBER))

    assert number.e164 == NUMBER
    assert statuses(vox) == [503, 200]
    assert vox.wire.exchanges[0].response.headers["retry-after"] == "1"
    assert sleeps == [1.0]


async def test_a_429_waits_as_long_as_retry_after_says(connect: OpenVox, clock: FakeClock) -> None:
    # 20 a minute, one at a time: a second request must wait 3 s, longer than any first
    # backoff step (at most 0.5 s), so only Retry-After explains the wait.
    async with connect(rate_limit_per_minute=20, rate_limit_burst=1) as vox:
        vox.app.state.rate_limits.limiter = RateLimiter(Quota(20, 1), clock=clock)
        await vox(vox.client.trunks.list())
        page = await vox(vox.client.trunks.list())

    assert page.data == []
    assert statuses(vox) == [200, 429, 200]
    assert vox.wire.exchanges[1].response.headers["retry-after"] == "3"
    assert clock.waited == [3.0]
