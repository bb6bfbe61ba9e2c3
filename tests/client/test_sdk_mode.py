"""The SDK says which world a key acts in (``spec/API.md`` §10), and events say theirs."""

from __future__ import annotations

import httpx

from tests.client.support import BASE_URL, AppThread
from tests.factories import US_NUMBERS, add_test_key, entry, make_tenant, stock
from voxnumbers.db.engine import Database
from voxnumbers.settings import Settings
from voxnumbers_client import AsyncClient, Client


def test_the_mode_follows_the_keys_prefix() -> None:
    never = httpx.MockTransport(lambda request: httpx.Response(500))
    test = Client("tvx_sk_test_" + "a" * 32, account_id="acc_1", transport=never)
    live = Client("tvx_sk_live_" + "a" * 32, account_id="acc_1", transport=never)
    async_test = AsyncClient("tvx_sk_test_" + "a" * 32, account_id="acc_1")
    assert (test.mode, test.livemode) == ("test", False)
    assert (live.mode, live.livemode) == ("live", True)
    assert async_test.mode == "test"
    assert "mode=test" in repr(test)


async def test_events_carry_livemode(database: Database, database_url: str) -> None:
    live = await make_tenant(database, "Two worlds")
    test = await add_test_key(database, live)
    await stock(database, entry(US_NUMBERS[0]))
    with AppThread(database_url, Settings(log_level="warning", run_worker=False)) as server:
        for tenant, e164, livemode in ((live, US_NUMBERS[0], True), (test, US_NUMBERS[1], False)):
            with Client(
                tenant.key,
                account_id=tenant.account_id,
                base_url=BASE_URL,
                transport=server.transport(),
            ) as client:
                client.numbers.purchase(e164, country="US")
                [event] = list(client.events.list())
                assert (event.e164, event.livemode) == (e164, livemode)
                assert client.livemode is livemode
