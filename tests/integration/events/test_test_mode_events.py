"""Events and webhooks of the two worlds (``spec/API.md`` §10): each world's webhook
endpoints get its events only, and every payload says which world it came from."""

from __future__ import annotations

import json

from tests.api.support import app_on, buy, running
from tests.factories import US_NUMBERS, add_test_key, entry, make_tenant, stock
from tests.integration.events.helpers import add_endpoint
from tests.integration.events.receiver import Receiver, always
from voxnumbers.events.delivery import run_once
from voxnumbers.kit.worlds import world_of


async def test_each_world_is_delivered_its_own_events_with_livemode(database):
    live = await make_tenant(database, "Two worlds")
    test = await add_test_key(database, live)
    await stock(database, entry(US_NUMBERS[0]))
    with Receiver(always(200)) as live_receiver, Receiver(always(200)) as test_receiver:
        async with running(app_on(database)) as client:
            for tenant, receiver in ((live, live_receiver), (test, test_receiver)):
                created = await client.post(
                    tenant.path("/webhooks"), json={"url": receiver.url}, headers=tenant.bearer
                )
                assert created.status_code == 201, created.text
            assert (await buy(client, live, US_NUMBERS[0])).status_code == 201
            assert (await buy(client, test, US_NUMBERS[1])).status_code == 201
            live_events = (await client.get(live.path("/events"), headers=live.bearer)).json()
            test_events = (await client.get(test.path("/events"), headers=test.bearer)).json()
            live_hooks = (await client.get(live.path("/webhooks"), headers=live.bearer)).json()
            test_hooks = (await client.get(test.path("/webhooks"), headers=test.bearer)).json()
        assert await run_once(database) == 2
        [to_live] = live_receiver.snapshot()
        [to_test] = test_receiver.snapshot()
    assert [(e["e164"], e["livemode"]) for e in live_events["data"]] == [(US_NUMBERS[0], True)]
    assert [(e["e164"], e["livemode"]) for e in test_events["data"]] == [(US_NUMBERS[1], False)]
    assert [h["url"] for h in live_hooks["data"]] == [live_receiver.url]
    assert [h["url"] for h in test_hooks["data"]] == [test_receiver.url]
    live_payload, test_payload = json.loads(to_live.body), json.loads(to_test.body)
    assert (live_payload["data"]["number"]["e164"], live_payload["livemode"]) == (
        US_NUMBERS[0],
        True,
    )
    assert (test_payload["data"]["number"]["e164"], test_payload["livemode"]) == (
        US_NUMBERS[1],
        False,
    )
    assert live_payload["id"] == live_events["data"][0]["id"]
    assert test_payload["id"] == test_events["data"][0]["id"]


async def test_a_test_worlds_endpoint_gets_nothing_of_the_live_world(database):
    live = await make_tenant(database, "Two worlds")
    with Receiver(always(200)) as receiver:
        await add_endpoint(database, world_of(live.account_id, live=False), receiver.url)
        await stock(database, entry(US_NUMBERS[0]))
        async with running(app_on(database)) as client:
            assert (await buy(client, live, US_NUMBERS[0])).status_code == 201
        assert await run_once(database) == 0
        assert receiver.snapshot() == []
