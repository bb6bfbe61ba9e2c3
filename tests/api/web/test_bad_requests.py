"""Bad requests of every kind get the right status and exactly the error envelope
(``spec/API.md`` §1, §3.1, §3.2), with ``details`` naming the field where there is one."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pytest

from tests.api.support import assert_error
from tests.factories import US_NUMBERS, Tenant, entry, make_tenant, stock
from voxnumbers.accounts import service as accounts

NUMBER = US_NUMBERS[0]
PURCHASE = "/numbers/purchase-from-inventory"
GOOD_BODY = f'{{"e164": "{NUMBER}", "country": "US"}}'


@dataclass(frozen=True)
class World:
    """The callers a bad request can come from."""

    me: Tenant
    other: Tenant
    revoked_key: str

    def authorization(self, kind: str) -> dict[str, str]:
        me = self.me
        basic = base64.b64encode(f"{self.other.account_id}:{me.key}".encode()).decode()
        return {
            "bearer": me.bearer,
            "none": {},
            "bearer-without-key": {"Authorization": "Bearer"},
            "bearer-not-a-key": {"Authorization": "Bearer hunter2"},
            "unknown-key": {"Authorization": "Bearer tvx_sk_live_" + "x" * 40},
            "revoked-key": {"Authorization": f"Bearer {self.revoked_key}"},
            "basic-other-account": {"Authorization": f"Basic {basic}"},
            "basic-not-base64": {"Authorization": "Basic %%%not-base64%%%"},
            "unknown-scheme": {"Authorization": f"Token {me.key}"},
        }[kind]


@dataclass(frozen=True)
class Bad:
    """One bad request and the answer it must get."""

    name: str
    status: int
    path: str = "/numbers"
    method: str = "GET"
    field: str | None = None
    auth: str = "bearer"
    body: bytes | None = None
    content_type: str = "application/json"
    account: str = "me"  # whose account the path names: me, other, nobody


CASES = [
    # --- list: pagination (§3.1: never silently clamp) ---
    Bad("page=0", 400, "/numbers?page=0", field="page"),
    Bad("page=-1", 400, "/numbers?page=-1", field="page"),
    Bad("page=abc", 400, "/numbers?page=abc", field="page"),
    Bad("page=1.5", 400, "/numbers?page=1.5", field="page"),
    Bad("page empty", 400, "/numbers?page=", field="page"),
    Bad("per_page=0", 400, "/numbers?per_page=0", field="per_page"),
    Bad("per_page=101", 400, "/numbers?per_page=101", field="per_page"),
    Bad("per_page=-5", 400, "/numbers?per_page=-5", field="per_page"),
    Bad("per_page=x", 400, "/numbers?per_page=x", field="per_page"),
    # --- list: filters ---
    Bad("country=USA", 400, "/numbers?country=USA", field="country"),
    Bad("country=U1", 400, "/numbers?country=U1", field="country"),
    Bad("country=ZZ", 400, "/numbers?country=ZZ", field="country"),
    Bad("country empty", 400, "/numbers?country=", field="country"),
    Bad("status=deleted", 400, "/numbers?status=deleted", field="status"),
    # Statuses are case-sensitive enum values, unlike country codes.
    Bad("status=ACTIVE", 400, "/numbers?status=ACTIVE", field="status"),
    Bad("repeated page", 400, "/numbers?page=1&page=2", field="page"),
    Bad("repeated country", 400, "/numbers?country=US&country=GB", field="country"),
    Bad("unknown parameter", 400, "/numbers?colour=blue", field="colour"),
    Bad("unknown parameter of another route", 400, "/numbers?format=csv", field="format"),
    # --- one number: the path's e164 ---
    Bad("e164 abc", 400, "/numbers/abc", field="e164"),
    Bad("e164 +1", 400, "/numbers/+1", field="e164"),
    Bad("e164 too long", 400, "/numbers/+999999999999999", field="e164"),
    Bad("e164 too short for its plan", 400, "/numbers/+1415555123", field="e164"),
    Bad("e164 with spaces", 400, "/numbers/+1%20415%20555%201200", field="e164"),
    Bad("get with query parameter", 400, f"/numbers/{NUMBER}?page=1", field="page"),
    # --- inventory search ---
    Bad("inventory capability=fax", 400, "/inventory/numbers?capability=fax", field="capability"),
    Bad("inventory type=landline", 400, "/inventory/numbers?type=landline", field="type"),
    Bad("inventory contains=abc", 400, "/inventory/numbers?contains=abc", field="contains"),
    Bad("inventory per_page=101", 400, "/inventory/numbers?per_page=101", field="per_page"),
    Bad("inventory page=0", 400, "/inventory/numbers?page=0", field="page"),
    Bad(
        "inventory repeated country",
        400,
        "/inventory/numbers?country=US&country=GB",
        field="country",
    ),
    Bad("inventory country=USA", 400, "/inventory/numbers?country=USA", field="country"),
    Bad(
        "inventory status (a list filter)", 400, "/inventory/numbers?status=active", field="status"
    ),
    # --- purchase: the body ---
    Bad("malformed JSON", 400, PURCHASE, "POST", "body", body=b'{"e164": '),
    Bad("JSON array", 400, PURCHASE, "POST", "body", body=b"[]"),
    Bad("JSON string", 400, PURCHASE, "POST", "body", body=b'"+14155551200"'),
    Bad("JSON null", 400, PURCHASE, "POST", "body", body=b"null"),
    Bad("empty body", 400, PURCHASE, "POST", "body", body=b""),
    Bad("e164 a number", 400, PURCHASE, "POST", "e164", body=b'{"e164": 123, "country": "US"}'),
    Bad("country a list", 400, PURCHASE, "POST", "country", body=b'{"e164": "x", "country": []}'),
    Bad(
        "missing country", 400, PURCHASE, "POST", "country", body=f'{{"e164": "{NUMBER}"}}'.encode()
    ),
    Bad("missing e164", 400, PURCHASE, "POST", "e164", body=b'{"country": "US"}'),
    Bad(
        "unknown field",
        400,
        PURCHASE,
        "POST",
        "colour",
        body=f'{{"e164": "{NUMBER}", "country": "US", "colour": "red"}}'.encode(),
    ),
    Bad("invalid e164", 400, PURCHASE, "POST", "e164", body=b'{"e164": "abc", "country": "US"}'),
    Bad(
        "invalid country",
        400,
        PURCHASE,
        "POST",
        "country",
        body=f'{{"e164": "{NUMBER}", "country": "XX"}}'.encode(),
    ),
    Bad(
        "text/plain body", 415, PURCHASE, "POST", body=GOOD_BODY.encode(), content_type="text/plain"
    ),
    Bad(
        "form body",
        415,
        PURCHASE,
        "POST",
        body=b"e164=%2B14155551200&country=US",
        content_type="application/x-www-form-urlencoded",
    ),
    Bad(
        "body over 64 KiB",
        413,
        PURCHASE,
        "POST",
        body=b'{"e164": "' + b"1" * 70_000 + b'", "country": "US"}',
    ),
    # --- routing ---
    Bad("unknown route under the account", 404, "/numbers/+14155551200/colour"),
    Bad("unknown route", 404, "/trumpets"),
    Bad("PUT on the list", 405, "/numbers", "PUT", body=b"{}"),
    Bad("PATCH on the list", 405, "/numbers", "PATCH", body=b"{}"),
    Bad("GET on purchase", 405, PURCHASE, "GET"),
    Bad("POST on the list", 405, "/numbers", "POST", body=GOOD_BODY.encode()),
    # --- who you are (401) and whose account it is (403) ---
    Bad("no Authorization", 401, auth="none"),
    Bad("Bearer without a key", 401, auth="bearer-without-key"),
    Bad("Bearer with a malformed key", 401, auth="bearer-not-a-key"),
    Bad("unknown key", 401, auth="unknown-key"),
    Bad("revoked key", 401, auth="revoked-key"),
    Bad("Basic with another account id", 401, auth="basic-other-account"),
    Bad("Basic not base64", 401, auth="basic-not-base64"),
    Bad("unknown scheme", 401, auth="unknown-scheme"),
    Bad("unknown key, other account's path", 401, auth="unknown-key", account="other"),
    Bad("another account's path", 403, account="other"),
    Bad("an account that does not exist", 403, account="nobody"),
    Bad("another account's number", 403, f"/numbers/{NUMBER}", account="other"),
    Bad("another account's inventory", 403, "/inventory/numbers", account="other"),
    Bad(
        "purchase on another account",
        403,
        PURCHASE,
        "POST",
        body=GOOD_BODY.encode(),
        account="other",
    ),
    Bad("bad query on another account (403 first)", 403, "/numbers?page=0", account="nobody"),
]


@pytest.fixture
async def world(database) -> World:
    me = await make_tenant(database, "Me")
    other = await make_tenant(database, "Other")
    async with database.transaction() as conn:
        spare = await accounts.issue_key(conn, me.account_id)
        await accounts.revoke_key(conn, spare.key.id)
    await stock(database, entry(NUMBER))
    return World(me=me, other=other, revoked_key=spare.secret)


def test_the_table_is_long_enough():
    assert len(CASES) >= 30
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_bad_request_gets_the_envelope(client, database, world: World, case: Bad):
    account_id = {
        "me": world.me.account_id,
        "other": world.other.account_id,
        "nobody": "acc_doesnotexist0000",
    }[case.account]
    headers = world.authorization(case.auth)
    if case.body is not None:
        headers["Content-Type"] = case.content_type
    response = await client.request(
        case.method, f"/v1/account/{account_id}{case.path}", headers=headers, content=case.body
    )
    assert_error(response, case.status, case.field)
    if case.status == 405:
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert allowed and case.method not in allowed


async def test_nothing_was_bought_by_bad_purchases(client, database, world: World):
    """A refused purchase changes nothing: the number is still for sale."""
    for case in CASES:
        if case.path == PURCHASE and case.method == "POST":
            headers = {**world.authorization(case.auth), "Content-Type": case.content_type}
            await client.post(
                world.me.path(case.path) if case.account == "me" else world.other.path(case.path),
                headers=headers,
                content=case.body,
            )
    listed = await client.get(world.me.path("/numbers"), headers=world.me.bearer)
    assert listed.json()["pagination"]["total"] == 0
    search = await client.get(world.me.path("/inventory/numbers"), headers=world.me.bearer)
    assert [n["e164"] for n in search.json()["data"]] == [NUMBER]
