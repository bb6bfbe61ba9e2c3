"""``GET /v1/account/{account_id}/numbers/{e164}``: one number, in any accepted spelling
(``spec/API.md`` §1 "Numbers in paths", §2)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.support import NUMBER_KEYS, assert_error, bought, own
from tests.factories import GB_NUMBERS, US_NUMBERS, entry, make_tenant, stock
from voxnumbers.kit.clock import iso_z, utc_now

NUMBER = US_NUMBERS[0]  # +14155551200


@pytest.mark.parametrize(
    "spelling",
    [NUMBER, "%2B" + NUMBER[1:], "%2b" + NUMBER[1:], NUMBER[1:]],
    ids=["raw plus", "url-encoded plus", "lower-case escape", "without plus"],
)
async def test_every_spelling_of_a_number_gets_it(client, database, spelling):
    tenant = await make_tenant(database)
    await stock(database, entry(NUMBER))
    [purchased] = await bought(client, tenant, NUMBER)
    response = await client.get(tenant.path(f"/numbers/{spelling}"), headers=tenant.bearer)
    assert response.status_code == 200, response.text
    assert list(response.json()) == NUMBER_KEYS
    assert response.json() == purchased
    assert response.json()["e164"] == NUMBER


async def test_the_number_is_the_same_object_as_in_the_list(client, database):
    tenant = await make_tenant(database)
    for e164 in (NUMBER, GB_NUMBERS[0]):
        await own(database, tenant, e164)
    listed = (await client.get(tenant.path("/numbers"), headers=tenant.bearer)).json()["data"]
    for item in listed:
        one = await client.get(tenant.path(f"/numbers/{item['e164']}"), headers=tenant.bearer)
        assert one.json() == item


@pytest.mark.parametrize(
    "bad",
    ["abc", "+1", "+999999999999999", "1415555120", "+14155551200000", "+1415555120x", "%2B%2B1"],
)
async def test_an_invalid_number_is_400_on_field_e164(client, database, bad):
    tenant = await make_tenant(database)
    response = await client.get(tenant.path(f"/numbers/{bad}"), headers=tenant.bearer)
    assert_error(response, 400, "e164")


async def test_a_valid_number_the_account_does_not_own_is_404(client, database):
    tenant = await make_tenant(database)
    await stock(database, entry(NUMBER))
    for spelling in (NUMBER, NUMBER[1:], GB_NUMBERS[5]):
        response = await client.get(tenant.path(f"/numbers/{spelling}"), headers=tenant.bearer)
        assert_error(response, 404)


async def test_a_number_cooling_off_is_shown_as_released(client, database):
    tenant = await make_tenant(database)
    back = (utc_now() + timedelta(days=12)).replace(microsecond=0)
    await own(database, tenant, NUMBER, status="released", available_after=back)
    response = await client.get(tenant.path(f"/numbers/{NUMBER}"), headers=tenant.bearer)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "released"
    # [ext] after the number object's keys: when it was released, when it returns to sale.
    assert list(body) == [*NUMBER_KEYS, "released_at", "available_after"]
    assert body["available_after"] == iso_z(back)
    assert body["released_at"] == body["updated_at"]
