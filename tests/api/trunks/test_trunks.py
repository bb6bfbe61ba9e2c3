"""SIP trunks, their credentials and IP ACLs over HTTP (``spec/API.md`` §4), on both databases."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from tests.api.support import TIME, assert_error, assert_page_shape, list_all, running
from tests.factories import US_NUMBERS, Tenant, entry, make_tenant, stock
from voxnumbers.app import create_app
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import trunk_credentials, trunk_ip_acl
from voxnumbers.settings import Settings
from voxnumbers.trunks import service as trunks_service
from voxnumbers.trunks.sip_uri import parse_sip_uri

TRUNK_KEYS = [
    "id",
    "name",
    "auth_type",
    "termination_uri",
    "origination_uris",
    "max_channels",
    "sip_domain",
    "status",
    "created_at",
    "updated_at",
]
CREDENTIAL_KEYS = ["id", "trunk_id", "username", "created_at"]
ACL_KEYS = ["id", "trunk_id", "ip", "mask", "cidr", "description", "created_at"]
PASSWORD = "correct horse battery"
NUMBER = US_NUMBERS[0]
PRODUCTION_HASHER = trunks_service._HASHER


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id at its cheapest, so the many tests that add a credential stay fast; the test
    of what is stored puts the production hasher back."""
    monkeypatch.setattr(
        trunks_service, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
async def me(database: Database) -> Tenant:
    return await make_tenant(database, "Me")


@pytest.fixture
async def other(database: Database) -> Tenant:
    return await make_tenant(database, "Other")


async def create_trunk(client: httpx.AsyncClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"name": "edge", "auth_type": "ip", **fields}
    r = await client.post(tenant.path("/trunks"), json=body, headers=tenant.bearer)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def add_credential(
    client: httpx.AsyncClient, tenant: Tenant, trunk_id: str, username: str = "alice"
) -> httpx.Response:
    return await client.post(
        tenant.path(f"/trunks/{trunk_id}/credentials"),
        json={"username": username, "password": PASSWORD},
        headers=tenant.bearer,
    )


async def add_acl(
    client: httpx.AsyncClient, tenant: Tenant, trunk_id: str, **body: Any
) -> httpx.Response:
    return await client.post(
        tenant.path(f"/trunks/{trunk_id}/ip-acl"), json=body, headers=tenant.bearer
    )


async def route_number_to(
    client: httpx.AsyncClient, database: Database, tenant: Tenant, trunk_id: str
) -> None:
    await stock(database, entry(NUMBER))
    r = await client.post(
        tenant.path("/numbers/purchase-from-inventory"),
        json={"e164": NUMBER, "country": "US"},
        headers=tenant.bearer,
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        tenant.path(f"/numbers/{NUMBER}/assign"), json={"trunk_id": trunk_id}, headers=tenant.bearer
    )
    assert r.status_code == 200, r.text


async def number_trunk(client: httpx.AsyncClient, tenant: Tenant) -> str | None:
    r = await client.get(tenant.path(f"/numbers/{NUMBER}"), headers=tenant.bearer)
    assert r.status_code == 200, r.text
    return r.json()["trunk_id"]  # type: ignore[no-any-return]


# --- trunks ---------------------------------------------------------------------------------


async def test_create_answers_201_with_the_trunk(client, me):
    r = await client.post(
        me.path("/trunks"),
        json={
            "name": "Edge PBX",
            "auth_type": "credential",
            "termination_uri": "sip:pbx.example.com:5060;transport=tcp",
            "origination_uris": ["sip:203.0.113.7", "sips:[2001:db8::1]:5061"],
            "max_channels": 30,
        },
        headers=me.bearer,
    )
    assert r.status_code == 201, r.text
    trunk = r.json()
    assert list(trunk) == TRUNK_KEYS
    assert trunk["id"].startswith("trunk_")
    assert trunk["name"] == "Edge PBX"
    assert trunk["auth_type"] == "credential"
    assert trunk["termination_uri"] == "sip:pbx.example.com:5060;transport=tcp"
    assert trunk["origination_uris"] == ["sip:203.0.113.7", "sips:[2001:db8::1]:5061"]
    assert trunk["max_channels"] == 30
    assert trunk["status"] == "active"
    assert TIME.match(trunk["created_at"]) and trunk["updated_at"] == trunk["created_at"]


async def test_optional_fields_take_their_defaults(client, me):
    trunk = await create_trunk(client, me)
    assert trunk["termination_uri"] is None
    assert trunk["origination_uris"] == []
    assert trunk["max_channels"] == 0


async def test_sip_uris_are_stored_in_canonical_spelling(client, me):
    trunk = await create_trunk(
        client,
        me,
        termination_uri="SIP:Alice@PBX.Example.COM:05060",
        origination_uris=["sips:[2001:DB8:0:0:0:0:0:1]"],
    )
    assert trunk["termination_uri"] == "sip:Alice@pbx.example.com:5060"
    assert trunk["origination_uris"] == ["sips:[2001:db8::1]"]


async def test_sip_domain_is_the_trunks_own_host_under_the_configured_domain(client, me):
    trunk = await create_trunk(client, me)
    suffix = trunk["id"].removeprefix("trunk_")
    assert trunk["sip_domain"] == f"trunk-{suffix}.sip.voxnumbers.local"
    assert parse_sip_uri(f"sip:{trunk['sip_domain']}").host_kind == "domain"


async def test_sip_domain_follows_the_setting(database, me):
    app = create_app(Settings(log_level="warning", sip_domain="sip.example.net"), database)
    async with running(app) as client:
        trunk = await create_trunk(client, me)
        fetched = await client.get(me.path(f"/trunks/{trunk['id']}"), headers=me.bearer)
    assert trunk["sip_domain"].endswith(".sip.example.net")
    assert fetched.json()["sip_domain"] == trunk["sip_domain"]


async def test_get_answers_what_create_answered(client, me):
    trunk = await create_trunk(client, me, termination_uri="sip:pbx.example.com")
    r = await client.get(me.path(f"/trunks/{trunk['id']}"), headers=me.bearer)
    assert r.status_code == 200
    assert r.json() == trunk


@pytest.mark.parametrize("field", ["name", "auth_type"])
async def test_required_fields_are_required(client, me, field):
    body = {"name": "edge", "auth_type": "ip"}
    del body[field]
    r = await client.post(me.path("/trunks"), json=body, headers=me.bearer)
    assert_error(r, 400, field)


BAD_TRUNK_FIELDS = [
    ("name", ""),
    ("name", "   "),
    ("name", "x" * 201),
    ("name", "a\u0000b"),
    ("name", None),
    ("name", 5),
    ("auth_type", "password"),
    ("auth_type", "IP"),
    ("auth_type", None),
    ("termination_uri", "http://pbx.example.com"),
    ("termination_uri", "pbx.example.com"),
    ("termination_uri", "sip:"),
    ("termination_uri", "sip:pbx.example.com:70000"),
    ("termination_uri", "sip:alice:secret@pbx.example.com"),
    ("termination_uri", "sip:pbx.example.com?x=1"),
    ("termination_uri", "sip:pbx.example.com\u0000"),
    ("termination_uri", "sip:" + "a" * 500),
    ("termination_uri", 5),
    ("origination_uris", "sip:pbx.example.com"),
    ("origination_uris", None),
    ("origination_uris", [f"sip:gw{n}.example.com" for n in range(11)]),
    ("max_channels", -1),
    ("max_channels", 1.5),
    ("max_channels", True),
    ("max_channels", None),
    ("max_channels", 1_000_001),
    ("max_channels", 2**63),
]


@pytest.mark.parametrize(("field", "value"), BAD_TRUNK_FIELDS)
async def test_invalid_fields_are_refused_on_create_and_replace(client, me, field, value):
    trunk = await create_trunk(client, me, name="before")
    body = {"name": "edge", "auth_type": "ip", field: value}
    r = await client.post(me.path("/trunks"), json=body, headers=me.bearer)
    assert_error(r, 400, field)
    r = await client.put(me.path(f"/trunks/{trunk['id']}"), json=body, headers=me.bearer)
    assert_error(r, 400, field)
    assert [t["name"] for t in await list_all(client, me, "/trunks")] == ["before"]


@pytest.mark.parametrize(
    ("uris", "field"),
    [
        (["sip:ok.example.com", "tel:+14155551234"], "origination_uris[1]"),
        (["sip:ok.example.com", "sip:ok.example.com:0"], "origination_uris[1]"),
        ([5], "origination_uris[0]"),
    ],
)
async def test_a_bad_origination_uri_is_named_by_its_position(client, me, uris, field):
    body = {"name": "edge", "auth_type": "ip", "origination_uris": uris}
    r = await client.post(me.path("/trunks"), json=body, headers=me.bearer)
    assert_error(r, 400, field)


async def test_unknown_fields_are_refused(client, me):
    body = {"name": "edge", "auth_type": "ip", "colour": "red"}
    r = await client.post(me.path("/trunks"), json=body, headers=me.bearer)
    assert_error(r, 400, "colour")


@pytest.mark.parametrize("body", [b'{"name": ', b"[]", b"null", b""])
async def test_a_body_that_is_not_an_object_is_refused(client, me, body):
    headers = {**me.bearer, "content-type": "application/json"}
    r = await client.post(me.path("/trunks"), content=body, headers=headers)
    assert_error(r, 400)


async def test_put_replaces_the_whole_trunk(client, me):
    trunk = await create_trunk(
        client,
        me,
        termination_uri="sip:old.example.com",
        origination_uris=["sip:gw.example.com"],
        max_channels=10,
    )
    r = await client.put(
        me.path(f"/trunks/{trunk['id']}"),
        json={"name": "renamed", "auth_type": "credential"},
        headers=me.bearer,
    )
    assert r.status_code == 200, r.text
    replaced = r.json()
    assert list(replaced) == TRUNK_KEYS
    assert replaced["id"] == trunk["id"]
    assert replaced["name"] == "renamed"
    assert replaced["auth_type"] == "credential"
    assert replaced["termination_uri"] is None
    assert replaced["origination_uris"] == []
    assert replaced["max_channels"] == 0
    assert replaced["sip_domain"] == trunk["sip_domain"]
    assert replaced["created_at"] == trunk["created_at"]
    assert replaced["updated_at"] >= trunk["updated_at"]
    r = await client.get(me.path(f"/trunks/{trunk['id']}"), headers=me.bearer)
    assert r.json() == replaced


async def test_put_requires_the_required_fields(client, me):
    trunk = await create_trunk(client, me)
    r = await client.put(me.path(f"/trunks/{trunk['id']}"), json={"name": "x"}, headers=me.bearer)
    assert_error(r, 400, "auth_type")


async def test_list_pages_in_creation_order_with_exact_totals(client, me, other):
    created = [await create_trunk(client, me, name=f"t{n}") for n in range(3)]
    await create_trunk(client, other, name="not mine")
    expected = sorted(created, key=lambda t: (t["created_at"], t["id"]))
    r = await client.get(me.path("/trunks"), params={"per_page": 2}, headers=me.bearer)
    assert r.status_code == 200
    first = r.json()
    assert_page_shape(first, TRUNK_KEYS)
    assert first["pagination"] == {
        "total": 3,
        "count": 2,
        "per_page": 2,
        "current_page": 1,
        "total_pages": 2,
    }
    r = await client.get(me.path("/trunks"), params={"per_page": 2, "page": 2}, headers=me.bearer)
    second = r.json()
    assert second["pagination"]["count"] == 1
    assert first["data"] + second["data"] == expected
    r = await client.get(me.path("/trunks"), params={"page": 3, "per_page": 2}, headers=me.bearer)
    assert r.status_code == 200 and r.json()["data"] == []


async def test_empty_list(client, me):
    r = await client.get(me.path("/trunks"), headers=me.bearer)
    assert r.json() == {
        "data": [],
        "pagination": {
            "total": 0,
            "count": 0,
            "per_page": 20,
            "current_page": 1,
            "total_pages": 0,
        },
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("page=x", "page"),
        ("page=1&page=2", "page"),
        ("status=active", "status"),
    ],
)
async def test_list_refuses_bad_parameters(client, me, query, field):
    r = await client.get(me.path(f"/trunks?{query}"), headers=me.bearer)
    assert_error(r, 400, field)


async def test_delete_answers_the_final_state_and_the_trunk_is_gone(client, me, database):
    trunk = await create_trunk(client, me)
    assert (await add_credential(client, me, trunk["id"])).status_code == 201
    assert (await add_acl(client, me, trunk["id"], ip="203.0.113.7")).status_code == 201
    r = await client.delete(me.path(f"/trunks/{trunk['id']}"), headers=me.bearer)
    assert r.status_code == 200, r.text
    assert r.json() == {**trunk, "status": "deleted"}
    assert_error(await client.get(me.path(f"/trunks/{trunk['id']}"), headers=me.bearer), 404)
    assert await list_all(client, me, "/trunks") == []
    async with database.transaction(write=False) as conn:
        for table in (trunk_credentials, trunk_ip_acl):
            query = select(func.count()).select_from(table).where(table.c.trunk_id == trunk["id"])
            assert (await conn.execute(query)).scalar_one() == 0
    r = await client.delete(me.path(f"/trunks/{trunk['id']}"), headers=me.bearer)
    assert_error(r, 404)


async def test_delete_is_refused_while_numbers_route_to_the_trunk(client, me, database):
    trunk = await create_trunk(client, me)
    await route_number_to(client, database, me, trunk["id"])
    r = await client.delete(me.path(f"/trunks/{trunk['id']}"), headers=me.bearer)
    assert_error(r, 409)
    r = await client.delete(me.path(f"/trunks/{trunk['id']}?force=false"), headers=me.bearer)
    assert_error(r, 409)
    assert (await client.get(me.path(f"/trunks/{trunk['id']}"), headers=me.bearer)).json() == trunk
    assert await number_trunk(client, me) == trunk["id"]


async def test_force_delete_unassigns_the_numbers_in_the_same_step(client, me, database):
    trunk = await create_trunk(client, me)
    await route_number_to(client, database, me, trunk["id"])
    r = await client.delete(me.path(f"/trunks/{trunk['id']}?force=true"), headers=me.bearer)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "deleted"
    assert await number_trunk(client, me) is None
    assert_error(await client.get(me.path(f"/trunks/{trunk['id']}"), headers=me.bearer), 404)


async def test_deleting_a_trunk_while_a_number_is_routed_to_it_is_all_or_nothing(
    client, me, database
):
    """A delete racing an assign: either the assign wins (the delete is refused) or the
    delete wins (the assign is refused); never both, never a 500."""
    await route_number_to(client, database, me, (await create_trunk(client, me))["id"])
    for _ in range(8):
        trunk = await create_trunk(client, me)
        assign, remove = await asyncio.gather(
            client.post(
                me.path(f"/numbers/{NUMBER}/assign"),
                json={"trunk_id": trunk["id"]},
                headers=me.bearer,
            ),
            client.delete(me.path(f"/trunks/{trunk['id']}"), headers=me.bearer),
        )
        if remove.status_code == 200:
            assert_error(assign, 400, "trunk_id")
            assert await number_trunk(client, me) != trunk["id"]
        else:
            assert assign.status_code == 200, assign.text
            assert_error(remove, 409)
            assert await number_trunk(client, me) == trunk["id"]


async def test_force_must_be_a_boolean(client, me):
    trunk = await create_trunk(client, me)
    r = await client.delete(me.path(f"/trunks/{trunk['id']}?force=maybe"), headers=me.bearer)
    assert_error(r, 400, "force")
    assert (
        await client.get(me.path(f"/trunks/{trunk['id']}"), headers=me.bearer)
    ).status_code == 200


# --- credentials ----------------------------------------------------------------------------


async def test_credential_is_created_without_ever_returning_the_password(
    client, me, database, monkeypatch
):
    monkeypatch.setattr(trunks_service, "_HASHER", PRODUCTION_HASHER)
    trunk = await create_trunk(client, me, auth_type="credential")
    r = await add_credential(client, me, trunk["id"], "alice.pbx-1")
    assert r.status_code == 201, r.text
    credential = r.json()
    assert list(credential) == CREDENTIAL_KEYS
    assert credential["id"].startswith("cred_")
    assert credential["trunk_id"] == trunk["id"]
    assert credential["username"] == "alice.pbx-1"
    assert TIME.match(credential["created_at"])
    listed = await client.get(me.path(f"/trunks/{trunk['id']}/credentials"), headers=me.bearer)
    assert listed.json()["data"] == [credential]
    for response in (r, listed):
        assert PASSWORD not in response.text and "argon2" not in response.text
    async with database.transaction(write=False) as conn:
        query = select(trunk_credentials.c.password_hash).where(
            trunk_credentials.c.id == credential["id"]
        )
        stored = (await conn.execute(query)).scalar_one()
    # Argon2id at no less than OWASP's minimum cost (19 MiB, 2 passes).
    assert stored.startswith("$argon2id$v=19$")
    cost = dict(part.split("=") for part in stored.split("$")[3].split(","))
    assert int(cost["m"]) >= 19 * 1024 and int(cost["t"]) >= 2
    assert trunks_service.verify_password(stored, PASSWORD)
    assert not trunks_service.verify_password(stored, PASSWORD + "!")


async def test_passwords_are_hashed_off_the_event_loop(client, me, monkeypatch):
    loop_thread = threading.get_ident()
    hashed_on: list[int] = []
    real = trunks_service._HASHER

    class Recording:
        def hash(self, password: str) -> str:
            hashed_on.append(threading.get_ident())
            return real.hash(password)

    monkeypatch.setattr(trunks_service, "_HASHER", Recording())
    trunk = await create_trunk(client, me)
    assert (await add_credential(client, me, trunk["id"])).status_code == 201
    assert hashed_on and loop_thread not in hashed_on


async def test_a_username_is_unique_per_trunk(client, me):
    first = await create_trunk(client, me, name="first")
    second = await create_trunk(client, me, name="second")
    assert (await add_credential(client, me, first["id"], "alice")).status_code == 201
    assert_error(await add_credential(client, me, first["id"], "alice"), 409)
    assert (await add_credential(client, me, first["id"], "Alice")).status_code == 201
    assert (await add_credential(client, me, second["id"], "alice")).status_code == 201
    assert len(await list_all(client, me, f"/trunks/{first['id']}/credentials")) == 2


async def test_of_concurrent_credentials_with_one_username_exactly_one_is_created(client, me):
    trunk = await create_trunk(client, me)
    answers = await asyncio.gather(*(add_credential(client, me, trunk["id"]) for _ in range(5)))
    assert sorted(r.status_code for r in answers) == [201, 409, 409, 409, 409]
    for refused in (r for r in answers if r.status_code == 409):
        assert_error(refused, 409)
    assert len(await list_all(client, me, f"/trunks/{trunk['id']}/credentials")) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD}, "username"),
        ({"username": "", "password": PASSWORD}, "username"),
        ({"username": "a" * 101, "password": PASSWORD}, "username"),
        ({"username": "al ice", "password": PASSWORD}, "username"),
        ({"username": "alice@pbx", "password": PASSWORD}, "username"),
        ({"username": "älice", "password": PASSWORD}, "username"),
        ({"username": "alice\u0000", "password": PASSWORD}, "username"),
        ({"username": 5, "password": PASSWORD}, "username"),
        ({"username": "alice"}, "password"),
        ({"username": "alice", "password": "short-11chr"}, "password"),
        ({"username": "alice", "password": "x" * 129}, "password"),
        ({"username": "alice", "password": 123456789012}, "password"),
        ({"username": "alice", "password": None}, "password"),
        ({"username": "alice", "password": PASSWORD, "realm": "x"}, "realm"),
    ],
)
async def test_invalid_credentials_are_refused(client, me, body, field):
    trunk = await create_trunk(client, me)
    r = await client.post(
        me.path(f"/trunks/{trunk['id']}/credentials"), json=body, headers=me.bearer
    )
    error = assert_error(r, 400, field)
    if isinstance(body.get("password"), str):
        assert body["password"] not in r.text
    assert error
    assert await list_all(client, me, f"/trunks/{trunk['id']}/credentials") == []


async def test_password_limits_are_inclusive(client, me):
    trunk = await create_trunk(client, me)
    for username, password in (("twelve", "x" * 12), ("long", "y" * 128)):
        r = await client.post(
            me.path(f"/trunks/{trunk['id']}/credentials"),
            json={"username": username, "password": password},
            headers=me.bearer,
        )
        assert r.status_code == 201, r.text


async def test_credentials_list_pages(client, me):
    trunk = await create_trunk(client, me)
    for name in ("a", "b", "c"):
        assert (await add_credential(client, me, trunk["id"], name)).status_code == 201
    r = await client.get(
        me.path(f"/trunks/{trunk['id']}/credentials"), params={"per_page": 2}, headers=me.bearer
    )
    body = r.json()
    assert_page_shape(body, CREDENTIAL_KEYS)
    assert body["pagination"]["total"] == 3 and body["pagination"]["total_pages"] == 2
    everything = await list_all(client, me, f"/trunks/{trunk['id']}/credentials")
    assert sorted(c["username"] for c in everything) == ["a", "b", "c"]


async def test_deleting_a_credential_answers_it_and_removes_it(client, me):
    trunk = await create_trunk(client, me)
    credential = (await add_credential(client, me, trunk["id"])).json()
    path = me.path(f"/trunks/{trunk['id']}/credentials/{credential['id']}")
    r = await client.delete(path, headers=me.bearer)
    assert r.status_code == 200 and r.json() == credential
    assert await list_all(client, me, f"/trunks/{trunk['id']}/credentials") == []
    assert_error(await client.delete(path, headers=me.bearer), 404)
    assert (await add_credential(client, me, trunk["id"])).status_code == 201


async def test_a_credential_is_only_found_under_its_own_trunk(client, me):
    first = await create_trunk(client, me, name="first")
    second = await create_trunk(client, me, name="second")
    credential = (await add_credential(client, me, first["id"])).json()
    r = await client.delete(
        me.path(f"/trunks/{second['id']}/credentials/{credential['id']}"), headers=me.bearer
    )
    assert_error(r, 404)
    assert len(await list_all(client, me, f"/trunks/{first['id']}/credentials")) == 1


# --- IP ACL ---------------------------------------------------------------------------------


async def test_acl_entry_answers_201_with_its_network(client, me):
    trunk = await create_trunk(client, me)
    r = await add_acl(client, me, trunk["id"], ip="203.0.113.7", mask=24, description="office")
    assert r.status_code == 201, r.text
    acl = r.json()
    assert list(acl) == ACL_KEYS
    assert acl["id"].startswith("acl_")
    assert acl["trunk_id"] == trunk["id"]
    assert (acl["ip"], acl["mask"], acl["cidr"]) == ("203.0.113.7", 24, "203.0.113.0/24")
    assert acl["description"] == "office"
    assert TIME.match(acl["created_at"])


@pytest.mark.parametrize(
    ("ip", "ip_out", "mask", "cidr"),
    [
        ("198.51.100.10", "198.51.100.10", 32, "198.51.100.10/32"),
        ("2001:DB8::1", "2001:db8::1", 128, "2001:db8::1/128"),
    ],
)
async def test_mask_defaults_to_the_whole_address(client, me, ip, ip_out, mask, cidr):
    trunk = await create_trunk(client, me)
    acl = (await add_acl(client, me, trunk["id"], ip=ip)).json()
    assert (acl["ip"], acl["mask"], acl["cidr"], acl["description"]) == (ip_out, mask, cidr, "")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ip": "203.0.113.7", "mask": 33}, "mask"),
        ({"ip": "203.0.113.7", "mask": -1}, "mask"),
        ({"ip": "2001:db8::1", "mask": 129}, "mask"),
        ({"ip": "203.0.113.7", "mask": 24.5}, "mask"),
        ({"ip": "999.0.113.7"}, "ip"),
        ({"ip": "203.0.113.0/24"}, "ip"),
        ({"ip": "pbx.example.com"}, "ip"),
        ({"ip": "fe80::1%eth0"}, "ip"),
        ({"ip": ""}, "ip"),
        ({"ip": 3405803783}, "ip"),
        ({"mask": 24}, "ip"),
        ({"ip": "203.0.113.7", "description": "x" * 201}, "description"),
        ({"ip": "203.0.113.7", "description": "bad\u0000"}, "description"),
        ({"ip": "203.0.113.7", "port": 5060}, "port"),
    ],
)
async def test_invalid_acl_entries_are_refused(client, me, body, field):
    trunk = await create_trunk(client, me)
    assert_error(await add_acl(client, me, trunk["id"], **body), 400, field)
    assert await list_all(client, me, f"/trunks/{trunk['id']}/ip-acl") == []


async def test_the_same_network_twice_is_a_conflict(client, me):
    trunk = await create_trunk(client, me)
    assert (await add_acl(client, me, trunk["id"], ip="203.0.113.7", mask=24)).status_code == 201
    assert_error(await add_acl(client, me, trunk["id"], ip="203.0.113.9", mask=24), 409)
    assert (await add_acl(client, me, trunk["id"], ip="203.0.113.9")).status_code == 201
    assert len(await list_all(client, me, f"/trunks/{trunk['id']}/ip-acl")) == 2


async def test_acl_list_pages_and_delete_answers_the_entry(client, me):
    trunk = await create_trunk(client, me)
    entries = [(await add_acl(client, me, trunk["id"], ip=f"192.0.2.{n}")).json() for n in range(3)]
    r = await client.get(
        me.path(f"/trunks/{trunk['id']}/ip-acl"), params={"per_page": 2}, headers=me.bearer
    )
    assert_page_shape(r.json(), ACL_KEYS)
    assert r.json()["pagination"]["total"] == 3
    path = me.path(f"/trunks/{trunk['id']}/ip-acl/{entries[0]['id']}")
    r = await client.delete(path, headers=me.bearer)
    assert r.status_code == 200 and r.json() == entries[0]
    remaining = await list_all(client, me, f"/trunks/{trunk['id']}/ip-acl")
    assert sorted(e["id"] for e in remaining) == sorted(e["id"] for e in entries[1:])
    assert_error(await client.delete(path, headers=me.bearer), 404)


# --- not found and other accounts -----------------------------------------------------------


def trunk_routes(trunk_id: str, cred_id: str, acl_id: str) -> list[tuple[str, str, Any]]:
    """Every route that names a trunk: (method, path under the account, JSON body)."""
    base = f"/trunks/{trunk_id}"
    return [
        ("GET", base, None),
        ("PUT", base, {"name": "taken over", "auth_type": "ip"}),
        ("DELETE", f"{base}?force=true", None),
        ("POST", f"{base}/credentials", {"username": "mallory", "password": PASSWORD}),
        ("GET", f"{base}/credentials", None),
        ("DELETE", f"{base}/credentials/{cred_id}", None),
        ("POST", f"{base}/ip-acl", {"ip": "192.0.2.66"}),
        ("GET", f"{base}/ip-acl", None),
        ("DELETE", f"{base}/ip-acl/{acl_id}", None),
    ]


ROUTE_NAMES = [f"{m} {p.split('?')[0]}" for m, p, _ in trunk_routes("T", "C", "A")]


async def trunk_with_children(client: httpx.AsyncClient, tenant: Tenant) -> tuple[str, str, str]:
    trunk = await create_trunk(client, tenant)
    cred = (await add_credential(client, tenant, trunk["id"])).json()
    acl = (await add_acl(client, tenant, trunk["id"], ip="203.0.113.7")).json()
    return trunk["id"], cred["id"], acl["id"]


async def assert_untouched(client: httpx.AsyncClient, tenant: Tenant, ids: tuple[str, ...]) -> None:
    trunk_id, cred_id, acl_id = ids
    r = await client.get(tenant.path(f"/trunks/{trunk_id}"), headers=tenant.bearer)
    assert r.status_code == 200 and r.json()["name"] == "edge"
    creds = await list_all(client, tenant, f"/trunks/{trunk_id}/credentials")
    acl = await list_all(client, tenant, f"/trunks/{trunk_id}/ip-acl")
    assert [c["id"] for c in creds] == [cred_id] and [a["id"] for a in acl] == [acl_id]


@pytest.mark.parametrize("route", range(len(ROUTE_NAMES)), ids=ROUTE_NAMES)
async def test_another_accounts_key_is_forbidden_on_this_accounts_paths(client, me, other, route):
    ids = await trunk_with_children(client, me)
    method, path, body = trunk_routes(*ids)[route]
    r = await client.request(method, me.path(path), json=body, headers=other.bearer)
    assert_error(r, 403)
    await assert_untouched(client, me, ids)


@pytest.mark.parametrize("route", range(len(ROUTE_NAMES)), ids=ROUTE_NAMES)
async def test_another_accounts_trunk_is_not_found_on_my_paths(client, me, other, route):
    ids = await trunk_with_children(client, me)
    await trunk_with_children(client, other)
    method, path, body = trunk_routes(*ids)[route]
    r = await client.request(method, other.path(path), json=body, headers=other.bearer)
    missing = await client.request(
        method,
        other.path(trunk_routes("trunk_0000000000000000", "cred_0", "acl_0")[route][1]),
        json=body,
        headers=other.bearer,
    )
    assert_error(r, 404)
    assert_error(missing, 404)
    assert r.json()["error"]["message"] == missing.json()["error"]["message"]
    await assert_untouched(client, me, ids)


@pytest.mark.parametrize("route", range(len(ROUTE_NAMES)), ids=ROUTE_NAMES)
@pytest.mark.parametrize("bad_id", ["nope", "trunk_%00", "trunk_" + "x" * 300, "TRUNK_ABC"])
async def test_ids_that_cannot_exist_are_not_found(client, me, route, bad_id):
    ids = await trunk_with_children(client, me)
    method, path, body = trunk_routes(bad_id, bad_id, bad_id)[route]
    r = await client.request(method, me.path(path), json=body, headers=me.bearer)
    assert_error(r, 404)
    await assert_untouched(client, me, ids)


@pytest.mark.parametrize("child", ["credentials", "ip-acl"])
@pytest.mark.parametrize(
    "bad_id", ["cred_0000000000000000", "acl_0000000000000000", "x%00", "a" * 300]
)
async def test_children_that_cannot_be_found_are_not_found(client, me, child, bad_id):
    ids = await trunk_with_children(client, me)
    r = await client.delete(me.path(f"/trunks/{ids[0]}/{child}/{bad_id}"), headers=me.bearer)
    assert_error(r, 404)
    await assert_untouched(client, me, ids)


@pytest.mark.parametrize("path", ["/trunks", "/trunks/trunk_0000000000000000"])
async def test_no_key_is_unauthorized(client, me, path):
    assert_error(await client.get(me.path(path)), 401)
