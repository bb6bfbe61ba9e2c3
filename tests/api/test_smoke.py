from tests.factories import US_NUMBERS, entry, make_tenant, stock


async def test_buy_then_list(client, database):
    tenant = await make_tenant(database)
    await stock(database, *(entry(n) for n in US_NUMBERS[:3]))
    r = await client.post(
        tenant.path("/numbers/purchase-from-inventory"),
        json={"e164": US_NUMBERS[0], "country": "US"},
        headers=tenant.bearer,
    )
    print(r.status_code, r.text)
    assert r.status_code == 201
    r = await client.get(tenant.path("/numbers"), headers=tenant.bearer)
    print(r.text)
    assert r.json()["pagination"]["total"] == 1
