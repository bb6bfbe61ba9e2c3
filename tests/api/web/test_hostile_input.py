"""Hostile input of every kind is refused with the error envelope, never a ``500``
(``spec/API.md`` §1: "No other body shape ever leaves the server"), on both databases.

Every refusal is checked with ``assert_error``: exactly ``{"error": {code, message,
details?, request_id}}``, ``request_id`` equal to the ``X-Request-ID`` header, nothing that
looks like a stack trace, SQL or a driver's name.

What the API does with input it could read either way, decided here:

- a JSON body on ``DELETE`` (which takes none) is **accepted and ignored**: the answer is the
  one the same request gets without a body. Like any request body it must be JSON (``415``
  otherwise) and at most 64 KiB (``413``);
- an object that names a member twice is refused (``400`` on that member), since RFC 8259
  leaves open which one counts and a proxy could read the other;
- free-text filters (``region``, ``trunk_id``, ``application_id`` of the list) are compared,
  never interpreted: an SQL-looking value is a value that matches nothing (``200`` with no
  data), not an error.

Paths are built from the service's own ``/openapi.json``, so a new route or parameter is
covered by the SQL-injection and repeated-parameter tests without editing them.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import func, inspect, select

from tests.api.support import app_on, assert_error, fields_of
from tests.factories import US_NUMBERS, Tenant, entry, make_tenant, stock
from tests.fuzz.bridge import serving
from voxnumbers.accounts import service as accounts_service
from voxnumbers.admin import service as admin
from voxnumbers.admin.schemas import UPLOAD_MAX_BYTES
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import accounts, api_keys, applications, metadata, numbers, trunks
from voxnumbers.jobs.schemas import MAX_BODY_BYTES as BULK_MAX_BODY_BYTES

LIMIT = 64 * 1024  # Settings.max_body_bytes by default (API.md §1)
BULK_LIMIT = BULK_MAX_BODY_BYTES  # POST …/numbers/bulk's own (API.md §9)
OWNED, FOR_SALE = US_NUMBERS[0], US_NUMBERS[1]


def respelled(e164: str, zero: int, plus: str = "+") -> str:
    """``e164`` with its digits taken from the Unicode block whose zero is ``zero``."""
    return plus + "".join(chr(zero + int(digit)) for digit in e164[1:])


SUPERSCRIPT = str.maketrans(
    "0123456789", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
)
FOREIGN_DIGITS = {
    "Arabic-Indic": respelled(FOR_SALE, 0x0660),
    "fullwidth": respelled(FOR_SALE, 0xFF10, plus="\uff0b"),
    "fullwidth digits, ASCII plus": respelled(FOR_SALE, 0xFF10),
    "Devanagari": respelled(FOR_SALE, 0x0966),
    "some fullwidth": FOR_SALE[:-4] + respelled("+" + FOR_SALE[-4:], 0xFF10)[1:],
    "superscript": FOR_SALE.translate(SUPERSCRIPT),
}
SQL_INJECTIONS = ["' OR 1=1 --", "1; DROP TABLE numbers", '" OR ""="', "1' UNION SELECT 1 --"]
_PARAMETER = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class World:
    """One account with one of everything, and the app that serves it."""

    me: Tenant
    ids: dict[str, str]
    http: httpx.AsyncClient
    asgi: Any  # the app as ASGI servers call it (lifespan state included)
    operator: dict[str, str]  # the admin API's Authorization header

    @property
    def json_headers(self) -> dict[str, str]:
        return {**self.me.bearer, "Content-Type": "application/json"}

    def fill(self, template: str) -> str:
        """An ``/openapi.json`` path with the account's own ids in its parameters."""
        return _PARAMETER.sub(lambda m: quote(self.ids[m[1]], safe=""), template)

    async def send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str | None = "application/json",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(self.operator if path.startswith("/admin/") else self.me.bearer)
        if content_type is not None:
            sent["Content-Type"] = content_type
        sent.update(headers or {})
        return await self.http.request(method, self.fill(path), content=body, headers=sent)

    async def raw(
        self,
        method: str,
        raw_path: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes | list[bytes] = b"",
        *,
        complete: bool = True,
    ) -> RawAnswer:
        """A request as bytes on the wire, through ASGI (for what httpx would normalise or
        refuse to send: dot segments, CR/LF and NUL in header values). ``body`` as a list:
        its parts arrive one by one, as a chunked body does. ``complete=False``: the client
        goes away after the parts (the server reports a disconnect, as it does for a body
        shorter than its ``Content-Length`` or a malformed chunk)."""
        path, _, query = raw_path.partition(b"?")
        if path.startswith(b"/admin/"):  # the admin API takes the operator token instead
            key = self.me.bearer["Authorization"].encode()
            token = self.operator["Authorization"].encode()
            headers = [(n, token if n == b"authorization" and v == key else v) for n, v in headers]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path.decode("latin-1"),
            "raw_path": path,
            "query_string": query,
            "root_path": "",
            "headers": [(b"host", b"testserver"), *headers],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        answer = RawAnswer()
        parts = list(body) if isinstance(body, list) else [body]

        async def receive() -> dict[str, Any]:
            if parts:
                part = parts.pop(0)
                return {
                    "type": "http.request",
                    "body": part,
                    "more_body": bool(parts) or not complete,
                }
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer.status = message["status"]
                answer.headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                answer.body += message.get("body", b"")

        await self.asgi(scope, receive, send)
        return answer


@dataclass
class RawAnswer:
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""

    def as_response(self) -> httpx.Response:
        """As httpx would have read it, for ``assert_error``."""
        return httpx.Response(self.status, headers=self.headers, content=self.body)


class OperatorOnAdminPaths(httpx.Auth):
    """Requests sent with the account's key to the admin API carry the operator token
    instead: every route is exercised with the credential it takes (requests without the
    key, or with another one, go as they are)."""

    def __init__(self, key: str, token: str) -> None:
        self.key, self.token = key, token

    def auth_flow(self, request: httpx.Request) -> Any:
        if request.url.path.startswith("/admin/") and request.headers.get("authorization") == (
            self.key
        ):
            request.headers["Authorization"] = self.token
        yield request


@pytest.fixture
async def world(database: Database) -> AsyncIterator[World]:
    me = await make_tenant(database, "Me")
    await stock(database, entry(OWNED), entry(FOR_SALE))
    # Rate limits have their own tests; here one key sends hundreds of requests.
    async with serving(app_on(database, rate_limit_per_minute=0)) as (http, asgi):
        headers = me.bearer

        async def created(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = await http.post(me.path(path), json=body, headers=headers)
            assert response.status_code == 201, response.text
            return response.json()  # type: ignore[no-any-return]

        await created("/numbers/purchase-from-inventory", {"e164": OWNED, "country": "US"})
        trunk = (await created("/trunks", {"name": "Main", "auth_type": "ip"}))["id"]
        ids = {
            "account_id": me.account_id,
            "e164": OWNED,
            "trunk_id": trunk,
            "app_id": (await created("/applications", {"name": "IVR"}))["id"],
            "cred_id": (
                await created(
                    f"/trunks/{trunk}/credentials", {"username": "bob", "password": "x" * 16}
                )
            )["id"],
            "acl_id": (await created(f"/trunks/{trunk}/ip-acl", {"ip": "203.0.113.9"}))["id"],
            "webhook_id": (await created("/webhooks", {"url": "https://example.com/hook"}))["id"],
        }
        job = await http.post(
            me.path("/numbers/bulk"),
            json={"action": "unassign", "numbers": [OWNED]},
            headers=headers,
        )
        assert job.status_code == 202, job.text
        ids["job_id"] = job.json()["id"]
        async with database.transaction() as conn:
            token = await admin.create_operator_token(conn, "hostile input")
            ids["key_id"] = (await accounts_service.issue_key(conn, me.account_id)).key.id
        ids["delivery_id"] = "dlv_1"
        operator = {"Authorization": f"Bearer {token.secret}"}
        http.auth = OperatorOnAdminPaths(me.bearer["Authorization"], operator["Authorization"])
        yield World(me=me, ids=ids, http=http, asgi=asgi, operator=operator)


# --- the bodies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Body:
    """A route that takes a JSON body, a body it accepts, and the type of each field."""

    name: str
    method: str
    path: str
    good: dict[str, Any]
    fields: dict[str, str]  # field -> "str", "str?" (nullable), "enum", "int", "int?", "list"


BODIES = [
    Body(
        "purchase",
        "POST",
        "/v1/account/{account_id}/numbers/purchase-from-inventory",
        {"e164": FOR_SALE, "country": "US"},
        {"e164": "str", "country": "str"},
    ),
    Body(
        "assign",
        "POST",
        "/v1/account/{account_id}/numbers/{e164}/assign",
        {"trunk_id": "{trunk_id}"},
        {"trunk_id": "str"},
    ),
    Body(
        "application",
        "POST",
        "/v1/account/{account_id}/numbers/{e164}/application",
        {"application_id": "{app_id}"},
        {"application_id": "str"},
    ),
    Body(
        "trunk",
        "POST",
        "/v1/account/{account_id}/trunks",
        {
            "name": "Edge",
            "auth_type": "ip",
            "termination_uri": "sip:pbx.example.com",
            "origination_uris": ["sip:edge.example.com"],
            "max_channels": 10,
        },
        {
            "name": "str",
            "auth_type": "enum",
            "termination_uri": "str?",
            "origination_uris": "list",
            "max_channels": "int",
        },
    ),
    Body(
        "trunk replace",
        "PUT",
        "/v1/account/{account_id}/trunks/{trunk_id}",
        {"name": "Main", "auth_type": "credential", "max_channels": 0},
        {"name": "str", "auth_type": "enum", "max_channels": "int", "origination_uris": "list"},
    ),
    Body(
        "credential",
        "POST",
        "/v1/account/{account_id}/trunks/{trunk_id}/credentials",
        {"username": "alice", "password": "correct horse battery"},
        {"username": "str", "password": "str"},
    ),
    Body(
        "ip-acl",
        "POST",
        "/v1/account/{account_id}/trunks/{trunk_id}/ip-acl",
        {"ip": "198.51.100.0", "mask": 24, "description": "office"},
        {"ip": "str", "mask": "int?", "description": "str?"},
    ),
    Body(
        "application create",
        "POST",
        "/v1/account/{account_id}/applications",
        {"name": "Sales", "answer_url": "https://example.com/a", "answer_method": "GET"},
        {
            "name": "str",
            "answer_url": "str?",
            "answer_method": "enum",
            "hangup_url": "str?",
            "hangup_method": "enum",
            "fallback_url": "str?",
            "webhook_secret": "str?",
        },
    ),
    Body(
        "application update",
        "PATCH",
        "/v1/account/{account_id}/applications/{app_id}",
        {"name": "Support"},
        {"name": "str", "answer_url": "str?", "answer_method": "enum", "webhook_secret": "str?"},
    ),
    Body(
        "voice application update",
        "PATCH",
        "/v1/voice/applications/{app_id}",
        {"hangup_method": "GET"},
        {"name": "str", "hangup_url": "str?", "hangup_method": "enum", "fallback_url": "str?"},
    ),
    Body(
        "webhook",
        "POST",
        "/v1/account/{account_id}/webhooks",
        {"url": "https://example.com/events", "event_types": ["number.purchased"]},
        {"url": "str", "event_types": "list"},
    ),
    Body(
        # Its text fields (trunk_id, application_id) are refused on other actions: the
        # table's changes keep the action. Its body limit is larger (up to 100,000 numbers).
        "bulk",
        "POST",
        "/v1/account/{account_id}/numbers/bulk",
        {"action": "unassign", "numbers": [OWNED], "dry_run": True},
        {"action": "enum", "numbers": "list"},
    ),
    Body(
        "webhook update",
        "PATCH",
        "/v1/account/{account_id}/webhooks/{webhook_id}",
        {"url": "https://example.com/other", "event_types": ["number.released"]},
        {"url": "str", "event_types": "list"},
    ),
    Body("admin account", "POST", "/admin/v1/accounts", {"name": "Globex"}, {"name": "str"}),
    Body("admin key", "POST", "/admin/v1/accounts/{account_id}/keys", {"test": True}, {}),
    Body(
        "admin inventory upload",
        "POST",
        "/admin/v1/inventory/import",
        {"csv": "e164,monthly_fee\n+14155559876,1.00\n"},
        {"csv": "str"},
    ),
    Body(
        "admin suspension",
        "POST",
        "/admin/v1/numbers/{e164}/suspend",
        {"reason": "billing"},
        {"reason": "str"},
    ),
]
BODY_IDS = [body.name for body in BODIES]
# Free text where control characters are refused (a password is a secret, hashed as given).
TEXT_FIELDS = [
    (body, name)
    for body in BODIES
    for name, kind in body.fields.items()
    if kind.startswith("str") and name != "password"
]

WRONG_TYPES: dict[str, list[Any]] = {
    "str": [12345, 1.5, True, [], {}, None],
    "str?": [12345, True, ["x"], {"x": 1}],
    "enum": [1, False, ["ip"], {}, None],
    "int": ["10", 1.5, True, [], {}, None, 10**400],
    "int?": ["24", 2.5, False, [24], {}, 10**400],
    "list": ["sip:a.example.com", 5, {}, [5], [None], None],
}


def good_body(world: World, body: Body, **changes: Any) -> bytes:
    """The route's good body with ``changes``, the account's ids filled in, as JSON bytes."""
    fields = {
        name: world.fill(value) if isinstance(value, str) else value
        for name, value in body.good.items()
    }
    fields.update(changes)
    return json.dumps(fields).encode()


async def test_the_body_table_covers_every_route_with_a_body(spec_paths: dict[str, Any]) -> None:
    with_body = {
        (method.upper(), path)
        for path, operations in spec_paths.items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "requestBody" in operation
    }
    assert with_body == {(body.method, body.path) for body in BODIES}


@pytest.fixture
async def spec_paths(world: World) -> dict[str, Any]:
    """``paths`` of the service's own ``/openapi.json``."""
    response = await world.http.get("/openapi.json")
    assert response.status_code == 200
    return response.json()["paths"]  # type: ignore[no-any-return]


# --- malformed JSON --------------------------------------------------------------------------

MALFORMED = {
    "truncated": (b'{"name": "Edge", "auth_ty', "body"),
    "trailing garbage": (b'{"name": "Edge"} {"name": "Other"}', "body"),
    "trailing comma": (b'{"name": "Edge",}', "body"),
    "NaN": (b'{"max_channels": NaN}', "body"),
    "Infinity": (b'{"max_channels": Infinity}', "body"),
    "-Infinity": (b'{"mask": -Infinity}', "body"),
    "single quotes": (b"{'name': 'Edge'}", "body"),
    "comment": (b'{"name": "Edge" /* hi */}', "body"),
    "not UTF-8 in a string": (b'{"name": "Ed\xff\xfege"}', "body"),
    "not UTF-8 outside strings": (b'{"name"\xff: "Edge"}', "body"),
    "UTF-16": ('{"name": "Edge"}'.encode("utf-16"), "body"),
    "lone surrogate": (b'{"name": "\\ud800"}', "body"),
    "nested 10000 deep": (b'{"name": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", "body"),
    "duplicate member": (b'{"name": "Edge", "name": "Other"}', "name"),
    "duplicate member, nested": (b'{"name": "E", "x": {"a": 1, "a": 2}}', "a"),
}


@pytest.mark.parametrize("case", list(MALFORMED), ids=list(MALFORMED))
async def test_malformed_json_is_refused_on_every_route(world: World, case: str) -> None:
    raw, field_name = MALFORMED[case]
    for body in BODIES:
        response = await world.send(body.method, body.path, raw)
        assert response.status_code == 400, (body.name, response.text)
        assert_error(response, 400, field_name)


async def test_a_refused_duplicate_member_changes_nothing(world: World) -> None:
    listed = await world.send("GET", "/v1/account/{account_id}/trunks")
    before = listed.json()["pagination"]["total"]
    response = await world.send(
        "POST", "/v1/account/{account_id}/trunks", b'{"name": "a", "name": "b", "auth_type": "ip"}'
    )
    assert_error(response, 400, "name")
    listed = await world.send("GET", "/v1/account/{account_id}/trunks")
    assert listed.json()["pagination"]["total"] == before


# --- wrong types, huge numbers, long strings, control characters --------------------------


@pytest.mark.parametrize("body", BODIES, ids=BODY_IDS)
async def test_a_good_body_is_accepted(world: World, body: Body) -> None:
    """The tables below change one field of these bodies: the rest must be acceptable."""
    response = await world.send(body.method, body.path, good_body(world, body))
    assert response.status_code in (200, 201), response.text


@pytest.mark.parametrize("body", BODIES, ids=BODY_IDS)
async def test_every_field_of_the_wrong_type_is_named(world: World, body: Body) -> None:
    for name, kind in body.fields.items():
        for wrong in WRONG_TYPES[kind]:
            response = await world.send(
                body.method, body.path, good_body(world, body, **{name: wrong})
            )
            assert response.status_code == 400, (body.name, name, wrong, response.text)
            error = assert_error(response, 400)
            assert any(f == name or f.startswith(f"{name}[") for f in fields_of(error)), (
                body.name,
                name,
                wrong,
                error,
            )


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1" + "0" * 400, "1" + "0" * 5000])
async def test_huge_numbers_are_refused(world: World, number: str) -> None:
    """Beyond any integer column and any float: ``400``, on the field or on the body (a
    float beyond the double range is not JSON the decoder reads)."""
    for path, raw in [
        ("/v1/account/{account_id}/trunks", '{"name": "a", "auth_type": "ip", '),
        ("/v1/account/{account_id}/trunks/{trunk_id}/ip-acl", '{"ip": "198.51.100.7", '),
    ]:
        name = "max_channels" if path.endswith("trunks") else "mask"
        response = await world.send("POST", path, f'{raw}"{name}": {number}}}'.encode())
        assert response.status_code == 400, response.text
        assert set(fields_of(assert_error(response, 400))) & {name, "body"}


@pytest.mark.parametrize("body", BODIES, ids=BODY_IDS)
async def test_a_megabyte_in_any_text_field_is_too_large(world: World, body: Body) -> None:
    for name, kind in body.fields.items():
        if kind.startswith("str"):
            response = await world.send(
                body.method, body.path, good_body(world, body, **{name: "9" * 1_000_000})
            )
            if body.name == "admin inventory upload":  # 16 MiB allowed: the file is read
                error = assert_error(response, 400, [name])
                assert error["details"] == [
                    {
                        "field": name,
                        "reason": "line 1: malformed CSV: field larger than field limit (131072)",
                    }
                ]
                continue
            assert_error(response, 413)


@pytest.mark.parametrize("body", BODIES, ids=BODY_IDS)
async def test_overlong_text_under_the_body_limit_is_refused_on_its_field(
    world: World, body: Body
) -> None:
    for name, kind in body.fields.items():
        if kind.startswith("str"):
            response = await world.send(
                body.method, body.path, good_body(world, body, **{name: "9" * 60_000})
            )
            assert response.status_code == 400, (body.name, name, response.text)
            assert_error(response, 400, name)


CONTROL = ["\u0000", "\u0007", "\u001b[31m", "\u007f", "a\u0000b"]


@pytest.mark.parametrize(
    ("body", "name"), TEXT_FIELDS, ids=[f"{body.name}.{name}" for body, name in TEXT_FIELDS]
)
async def test_control_characters_and_nul_in_text_are_refused(
    world: World, body: Body, name: str
) -> None:
    """Inside the text (``\\u0000`` above all: PostgreSQL cannot store it). Surrounding
    whitespace such as a trailing newline is trimmed by the fields that trim."""
    for control in CONTROL:
        value = f"x{control}y" if control != "a\u0000b" else control
        response = await world.send(body.method, body.path, good_body(world, body, **{name: value}))
        assert response.status_code == 400, (body.name, name, repr(control), response.text)
        assert_error(response, 400, name)


@pytest.mark.parametrize("body", BODIES, ids=BODY_IDS)
async def test_nul_in_any_text_of_a_body_is_refused(world: World, body: Body) -> None:
    """Passwords and list items included: no database column can hold it (PostgreSQL refuses
    it outright), so it never reaches one."""
    for name, kind in body.fields.items():
        value: Any = ["sip:a\u0000.example.com"] if kind == "list" else "secret\u0000secret"
        if not kind.startswith("str") and kind != "list":
            continue
        response = await world.send(body.method, body.path, good_body(world, body, **{name: value}))
        assert response.status_code == 400, (body.name, name, response.text)
        assert_error(response, 400, name)


# --- numbers spelled with other digits ---------------------------------------------------------


@pytest.mark.parametrize("script", list(FOREIGN_DIGITS), ids=list(FOREIGN_DIGITS))
async def test_numbers_in_other_digits_are_not_e164(world: World, script: str) -> None:
    """E.164 is ASCII digits: the same number in other scripts is refused on ``e164``
    everywhere a number is given, never bought, found or normalised."""
    spelling = FOREIGN_DIGITS[script]
    await assert_not_a_number_to_buy_or_filter_by(world, spelling)
    for template in ("/numbers/{}", "/numbers/{}/release-preview", "/numbers/{}/assign"):
        path = world.me.path(template.format(quote(spelling)))
        one = await world.http.get(path, headers=world.me.bearer)
        if template.endswith("/assign"):
            one = await world.http.delete(path, headers=world.me.bearer)
        assert_error(one, 400, "e164")
    contains = await world.http.get(
        world.fill("/v1/account/{account_id}/inventory/numbers"),
        params={"contains": spelling[-4:]},
        headers=world.me.bearer,
    )
    assert_error(contains, 400, "contains")
    still_for_sale = await world.send("GET", "/v1/account/{account_id}/inventory/numbers")
    assert [n["e164"] for n in still_for_sale.json()["data"]] == [FOR_SALE]


async def test_a_country_in_fullwidth_letters_is_refused(world: World) -> None:
    response = await world.http.get(
        world.fill("/v1/account/{account_id}/numbers"),
        params={"country": "\uff35\uff33"},  # US in fullwidth letters
        headers=world.me.bearer,
    )
    assert_error(response, 400, "country")


# --- garbage in the path and the query ---------------------------------------------------------


GARBAGE = {"not UTF-8": "%FF%FE", "NUL": "a%00b", "CR LF": "a%0D%0Ab", "ESC": "%1B%5B31m"}


@pytest.mark.parametrize("garbage", list(GARBAGE), ids=list(GARBAGE))
async def test_garbage_in_path_parameters(
    world: World, spec_paths: dict[str, Any], garbage: str
) -> None:
    """Percent-encoded: bytes that are not UTF-8, NUL, line breaks, escape sequences."""
    for template, operations in spec_paths.items():
        for name in _PARAMETER.findall(template):
            path = world.fill(template.replace(f"{{{name}}}", GARBAGE[garbage]))
            for method in _methods(operations):
                response = await world.http.request(method, path, headers=world.json_headers)
                assert response.status_code in (400, 403, 404), (method, path, response.text)
                assert_error(response, response.status_code)


@pytest.mark.parametrize("garbage", list(GARBAGE), ids=list(GARBAGE))
async def test_garbage_in_query_parameters(
    world: World, spec_paths: dict[str, Any], garbage: str
) -> None:
    for template, operations in spec_paths.items():
        for method, operation in _operations(operations):
            for name in _query_parameters(operation):
                path = f"{world.fill(template)}?{name}={GARBAGE[garbage]}"
                response = await world.http.request(method, path, headers=world.json_headers)
                assert response.status_code in (200, 400, 404), (method, path, response.text)
                if response.status_code == 200:  # a free-text filter that matches nothing
                    assert_matches_nothing(response)
                else:
                    assert_error(response, response.status_code)


# --- almost integers, numbers with white space, OPTIONS ----------------------------------------

ALMOST_INTEGERS = ["1e3", "1.0", "1.5", "0x10", "1_0", " 1", "1 ", "+1", "\uff11", "1\u0660"]


async def test_an_integer_parameter_takes_only_digits_on_every_route(
    world: World, spec_paths: dict[str, Any]
) -> None:
    """``page=1e3`` is not page 1000, ``per_page=1.0`` not 1 (the framework's decoding would
    read both): ``400`` on exactly that parameter."""
    checked = 0
    for template, operations in spec_paths.items():
        for method, operation in _operations(operations):
            for name, schema in _query_parameters(operation).items():
                if "integer" not in _types(schema):
                    continue
                for value in ALMOST_INTEGERS:
                    response = await world.http.request(
                        method,
                        world.fill(template),
                        params={name: value},
                        headers=world.json_headers,
                    )
                    assert response.status_code == 400, (method, template, name, value)
                    assert_error(response, 400, name)
                checked += 1
    assert checked >= 16  # page and per_page of every list


WHITE_SPACE = ["%20", "%09", "%0A", "%0D%0A", "%C2%A0", "%E2%80%8B"]


@pytest.mark.parametrize("space", WHITE_SPACE)
async def test_a_number_with_white_space_in_the_path_is_refused(
    world: World, spec_paths: dict[str, Any], space: str
) -> None:
    """Before or after the digits: ``400`` on ``e164``, never the number it resembles."""
    checked = 0
    for template, operations in spec_paths.items():
        if "{e164}" not in template:
            continue
        for method in _methods(operations):
            body = next((b for b in BODIES if (b.method, b.path) == (method, template)), None)
            content = good_body(world, body) if body else None
            for spelling in (quote(OWNED) + space, space + quote(OWNED)):
                path = world.fill(template.replace("{e164}", spelling))
                response = await world.http.request(
                    method, path, content=content, headers=world.json_headers
                )
                assert response.status_code == 400, (method, path, response.text)
                assert_error(response, 400, "e164")
                checked += 1
    assert checked >= 16  # 8 operations on a number, two spellings each


async def test_a_number_with_white_space_in_a_body_or_query_is_refused(world: World) -> None:
    for spelling in (
        f"{FOR_SALE} ",
        f" {FOR_SALE}",
        f"{FOR_SALE}\n",
        f"{FOR_SALE[:5]} {FOR_SALE[5:]}",
    ):
        await assert_not_a_number_to_buy_or_filter_by(world, spelling)


async def test_options_lists_every_method_of_every_path(
    world: World, spec_paths: dict[str, Any]
) -> None:
    """The same methods as the ``Allow`` of a ``405`` on that path, and the documented ones."""
    for template, operations in spec_paths.items():
        documented = {*_methods(operations), "OPTIONS"}
        options = await world.http.options(world.fill(template), headers=world.me.bearer)
        assert options.status_code == 200, (template, options.text)
        allowed = {m.strip() for m in options.headers["allow"].split(",")}
        assert allowed == documented, template
        assert set(options.json()["allow"]) == documented, template
        other = next(m for m in ("PUT", "PATCH", "DELETE", "POST", "GET") if m not in documented)
        refused = await world.http.request(other, world.fill(template), headers=world.json_headers)
        assert_error(refused, 405)
        assert {m.strip() for m in refused.headers["allow"].split(",")} == documented, template


# --- path traversal ------------------------------------------------------------------------------

TRAVERSALS = [
    b"/v1/account/../../etc/passwd",
    b"/v1/account/{account_id}/../../../etc/passwd",
    b"/v1/account/{account_id}/numbers/../../../../etc/passwd",
    b"/v1/account/{account_id}/numbers/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    b"/v1/account/{account_id}/trunks/..%2f..%2fnumbers",
    b"/v1/account/{account_id}/numbers/..%5c..%5cwindows%5cwin.ini",
    b"/v1/account/%2e%2e/numbers",
    b"/v1/../openapi.json",
]


@pytest.mark.parametrize("raw_path", TRAVERSALS, ids=[p.decode() for p in TRAVERSALS])
async def test_path_traversal_reaches_nothing(world: World, raw_path: bytes) -> None:
    """Sent as is (dot segments and all), never a file, never another route's answer."""
    path = raw_path.replace(b"{account_id}", world.me.account_id.encode())
    answer = await world.raw(
        "GET", path, [(b"authorization", world.me.bearer["Authorization"].encode())]
    )
    response = answer.as_response()
    assert response.status_code in (400, 403, 404), response.text
    assert_error(response, response.status_code)
    assert b"root:" not in answer.body and b"[fonts]" not in answer.body


# --- SQL injection ---------------------------------------------------------------------------


async def table_counts(database: Database) -> dict[str, int]:
    async with database.transaction(write=False) as conn:
        names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert {table.name for table in metadata.sorted_tables} <= names
        counts = {}
        for table in (accounts, api_keys, numbers, trunks, applications):
            counts[table.name] = (
                await conn.execute(select(func.count()).select_from(table))
            ).scalar_one()
        return counts


@pytest.mark.parametrize("payload", SQL_INJECTIONS)
async def test_sql_injection_in_every_path_and_query_parameter(
    world: World, database: Database, spec_paths: dict[str, Any], payload: str
) -> None:
    before = await table_counts(database)
    for template, operations in spec_paths.items():
        for method, operation in _operations(operations):
            for name in _PARAMETER.findall(template):
                path = world.fill(template.replace(f"{{{name}}}", quote(payload, safe="")))
                response = await world.http.request(method, path, headers=world.json_headers)
                assert response.status_code in (400, 403, 404), (method, path, response.text)
                assert_error(response, response.status_code)
            for name in _query_parameters(operation):
                response = await world.http.request(
                    method,
                    world.fill(template),
                    params={name: payload},
                    headers=world.json_headers,
                )
                assert response.status_code in (200, 400, 404), (method, name, response.text)
                if response.status_code == 200:  # a free-text filter that matches nothing
                    assert_matches_nothing(response)
                else:
                    assert_error(response, response.status_code)
    assert await table_counts(database) == before
    listed = await world.send("GET", "/v1/account/{account_id}/numbers")
    assert [n["e164"] for n in listed.json()["data"]] == [OWNED]


# --- headers ---------------------------------------------------------------------------------

INJECTED = [b"abcdefgh\r\nSet-Cookie: session=evil", b"abcdefgh\nX-Injected: 1", b"abc\x00defgh"]


@pytest.mark.parametrize("value", INJECTED, ids=["CRLF", "LF", "NUL"])
async def test_a_request_id_with_line_breaks_is_not_echoed(world: World, value: bytes) -> None:
    answer = await world.raw(
        "GET",
        f"/v1/account/{world.me.account_id}/numbers?page=0".encode(),
        [
            (b"authorization", world.me.bearer["Authorization"].encode()),
            (b"x-request-id", value),
        ],
    )
    error = assert_error(answer.as_response(), 400, "page")
    names = [name.lower() for name, _ in answer.headers]
    assert b"set-cookie" not in names and b"x-injected" not in names
    assert all(b"\r" not in v and b"\n" not in v and b"\0" not in v for _, v in answer.headers)
    assert error["request_id"].startswith("req_")


@pytest.mark.parametrize("value", INJECTED, ids=["CRLF", "LF", "NUL"])
async def test_an_idempotency_key_with_line_breaks_is_refused(world: World, value: bytes) -> None:
    answer = await world.raw(
        "POST",
        f"/v1/account/{world.me.account_id}/trunks".encode(),
        [
            (b"authorization", world.me.bearer["Authorization"].encode()),
            (b"content-type", b"application/json"),
            (b"idempotency-key", value),
        ],
        b'{"name": "Edge", "auth_type": "ip"}',
    )
    assert_error(answer.as_response(), 400, "Idempotency-Key")
    listed = await world.send("GET", "/v1/account/{account_id}/trunks")
    assert listed.json()["pagination"]["total"] == 1  # only the world's trunk


@pytest.mark.parametrize(
    "inserted", [b"\r\nX-Injected: 1\r\n", b"\n", b"\x00"], ids=["CRLF", "LF", "NUL"]
)
async def test_a_key_with_line_breaks_inside_is_unauthorized(world: World, inserted: bytes) -> None:
    key = world.me.key.encode()
    answer = await world.raw(
        "GET",
        f"/v1/account/{world.me.account_id}/numbers".encode(),
        [(b"authorization", b"Bearer " + key[:20] + inserted + key[20:])],
    )
    assert_error(answer.as_response(), 401)


# --- repeated query parameters ---------------------------------------------------------------

SAMPLES = {
    "page": "1",
    "per_page": "10",
    "country": "US",
    "status": "active",
    "type": "local",
    "region": "CA",
    "contains": "415",
    "trunk_id": "trunk_x",
    "application_id": "app_x",
    "routed": "true",
    "created_after": "2020-01-01T00:00:00Z",
    "created_before": "2020-01-01T00:00:00Z",
    "updated_since": "2020-01-01T00:00:00Z",
    "sort": "e164",
    "cursor": "",
    "format": "csv",
    "e164": OWNED,
    "force": "false",
    "outcome": "changed",
    "object_type": "number",
    "object_id": OWNED,
    "actor_id": "key_x",
    "since": "2020-01-01T00:00:00Z",
    "limit": "10",
    "account_id": "acc_x",
}


async def test_a_repeated_query_parameter_is_refused_on_every_list(
    world: World, spec_paths: dict[str, Any]
) -> None:
    lists = 0
    for template, operations in spec_paths.items():
        for method, operation in _operations(operations):
            parameters = _query_parameters(operation)
            lists += method == "GET" and "page" in parameters
            for name, schema in parameters.items():
                if _repeatable(schema):
                    continue
                value = SAMPLES[name]
                response = await world.http.request(
                    method,
                    f"{world.fill(template)}?{name}={quote(value)}&{name}={quote(value)}",
                    headers=world.json_headers,
                )
                assert response.status_code == 400, (method, template, name, response.text)
                assert_error(response, 400, name)
    assert lists >= 8  # numbers, inventory, events, webhooks, trunks, credentials, ACL, apps


async def test_a_repeatable_parameter_may_repeat(world: World) -> None:
    response = await world.send(
        "GET", "/v1/account/{account_id}/numbers?capability=voice&capability=voice"
    )
    assert response.status_code == 200, response.text


# --- body size, media type, empty bodies, bodies on DELETE -----------------------------------


def padded(raw: bytes, size: int) -> bytes:
    """JSON ``raw`` padded with insignificant whitespace to exactly ``size`` bytes."""
    assert len(raw) <= size
    return raw[:-1] + b" " * (size - len(raw)) + raw[-1:]


@pytest.mark.parametrize("body", BODIES, ids=BODY_IDS)
async def test_a_body_at_the_limit_is_read_and_one_byte_more_is_too_large(
    world: World, body: Body
) -> None:
    # The bulk request has room for 100,000 numbers, an inventory upload for a large file.
    limit = {"bulk": BULK_LIMIT, "admin inventory upload": UPLOAD_MAX_BYTES}.get(body.name, LIMIT)
    at_limit = padded(good_body(world, body), limit)
    response = await world.send(body.method, body.path, at_limit)
    assert response.status_code in (200, 201, 409), response.text
    over = padded(good_body(world, body), limit + 1)
    assert_error(await world.send(body.method, body.path, over), 413)


MEDIA_TYPES = {
    "text/plain": "text/plain",
    "multipart": "multipart/form-data; boundary=xyz",
    "form": "application/x-www-form-urlencoded",
    "xml": "application/xml",
    "json-like name": "application/jsonx",
    "none": None,
}


@pytest.mark.parametrize("media_type", list(MEDIA_TYPES), ids=list(MEDIA_TYPES))
async def test_a_body_that_is_not_declared_json_is_unsupported(
    world: World, media_type: str
) -> None:
    for body in BODIES:
        response = await world.send(
            body.method, body.path, good_body(world, body), content_type=MEDIA_TYPES[media_type]
        )
        assert response.status_code == 415, (body.name, response.text)
        assert_error(response, 415)


@pytest.mark.parametrize("body", BODIES, ids=BODY_IDS)
async def test_an_empty_body_where_one_is_needed(world: World, body: Body) -> None:
    for content_type in ("application/json", None):
        response = await world.send(body.method, body.path, b"", content_type=content_type)
        assert_error(response, 400, "body")


DELETES = [
    "/v1/account/{account_id}/numbers/{e164}/assign",
    "/v1/account/{account_id}/numbers/{e164}/application",
    "/v1/account/{account_id}/trunks/{trunk_id}/credentials/{cred_id}",
    "/v1/account/{account_id}/trunks/{trunk_id}/ip-acl/{acl_id}",
    "/v1/account/{account_id}/webhooks/{webhook_id}",
    "/v1/account/{account_id}/applications/{app_id}",
    "/v1/account/{account_id}/trunks/{trunk_id}",
    "/v1/account/{account_id}/numbers/{e164}",
    "/admin/v1/inventory/{e164}",
]


async def test_the_delete_list_is_every_delete(spec_paths: dict[str, Any]) -> None:
    deletes = {path for path, operations in spec_paths.items() if "delete" in operations}
    assert deletes == set(DELETES)


async def test_a_json_body_on_delete_is_ignored(world: World) -> None:
    """A body is not where ``DELETE`` takes its options: ``{"force": true}`` does not force
    the deletion of a trunk a number routes to. Then each ``DELETE`` with a JSON body
    answers as it does without one (the first ``200``, a repeat what a repeat answers)."""
    assign = "/v1/account/{account_id}/numbers/{e164}/assign"
    routed = await world.send("POST", assign, good_body(world, BODIES[1]))
    assert routed.status_code == 200, routed.text
    trunk = "/v1/account/{account_id}/trunks/{trunk_id}"
    assert_error(await world.send("DELETE", trunk, b'{"force": true}'), 409)
    for listed in DELETES:
        # The admin API removes a number for sale (the account's own is not).
        template = listed.replace("{e164}", FOR_SALE) if listed.startswith("/admin/") else listed
        with_body = await world.send("DELETE", template, b'{"force": true, "ignored": [1]}')
        assert with_body.status_code == 200, (template, with_body.text)
        again = await world.send("DELETE", template, None, content_type=None)
        if again.status_code != 200:
            assert_error(again, again.status_code)


async def test_a_body_on_delete_must_still_be_json_and_small(world: World) -> None:
    template = "/v1/account/{account_id}/numbers/{e164}/assign"
    not_json = await world.send("DELETE", template, b"force=true", content_type="text/plain")
    assert_error(not_json, 415)
    malformed = await world.send("DELETE", template, b'{"force": ')
    assert_error(malformed, 400, "body")
    too_large = await world.send("DELETE", template, padded(b"{}", LIMIT + 1))
    assert_error(too_large, 413)


# --- incomplete bodies, bodies on GET -------------------------------------------------------


@pytest.mark.parametrize("body", BODIES, ids=BODY_IDS)
async def test_a_body_that_ends_early_is_refused_not_a_server_error(
    world: World, body: Body, capfd: pytest.CaptureFixture[str]
) -> None:
    """The client closes before its ``Content-Length`` was sent, or sends a malformed chunk
    (the server reports both as a disconnect): ``400`` on ``body``, nothing changed, and no
    5xx in the access log."""
    whole = good_body(world, body)
    headers = [
        (b"authorization", world.me.bearer["Authorization"].encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(whole) + 100).encode()),
    ]
    path = world.fill(body.path).encode()
    for parts in ([whole[:9]], [whole[:5], whole[5:9]], []):
        answer = await world.raw(body.method, path, headers, parts, complete=False)
        assert_error(answer.as_response(), 400, "body")
    listed = await world.send("GET", "/v1/account/{account_id}/trunks")
    assert listed.json()["pagination"]["total"] == 1  # only the world's trunk


async def test_a_body_over_the_limit_is_too_large_on_every_get(
    world: World, spec_paths: dict[str, Any]
) -> None:
    """Whatever the method: a ``GET`` with 70 KB of body is ``413``, declared or chunked."""
    auth = (b"authorization", world.me.bearer["Authorization"].encode())
    gets = 0
    for template, operations in spec_paths.items():
        if "get" not in operations:
            continue
        gets += 1
        path = world.fill(template).encode()
        declared = [auth, (b"content-length", b"70000")]
        answer = await world.raw("GET", path, declared, b" " * 70_000)
        assert_error(answer.as_response(), 413)
        chunked = [auth, (b"transfer-encoding", b"chunked")]
        answer = await world.raw("GET", path, chunked, [b" " * 40_000, b" " * 30_000])
        assert_error(answer.as_response(), 413)
        small = await world.send("GET", template, b" " * 100, headers={})
        assert small.status_code == 200, (template, small.text)
    assert gets >= 15


# --- helpers ---------------------------------------------------------------------------------


async def assert_not_a_number_to_buy_or_filter_by(world: World, spelling: str) -> None:
    """``spelling`` is refused on ``e164`` by a purchase and by the events filter."""
    purchase = await world.send(
        "POST",
        "/v1/account/{account_id}/numbers/purchase-from-inventory",
        json.dumps({"e164": spelling, "country": "US"}, ensure_ascii=False).encode(),
    )
    assert_error(purchase, 400, "e164")
    events = await world.http.get(
        world.fill("/v1/account/{account_id}/events"),
        params={"e164": spelling},
        headers=world.me.bearer,
    )
    assert_error(events, 400, "e164")


def assert_matches_nothing(response: httpx.Response) -> None:
    """A list (JSON) or an export (CSV: the header row alone) with nothing in it."""
    if response.headers["content-type"].startswith("application/json"):
        assert response.json()["data"] == [], response.text
    else:
        assert len(response.text.strip().splitlines()) <= 1, response.text


def _operations(operations: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (method.upper(), operation)
        for method, operation in operations.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _methods(operations: dict[str, Any]) -> list[str]:
    return [method for method, _ in _operations(operations)]


def _query_parameters(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        p["name"]: p.get("schema", {})
        for p in operation.get("parameters", [])
        if p["in"] == "query"
    }


def _types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a parameter's schema allows."""
    variants = schema.get("oneOf", [schema])
    return {str(variant.get("type")) for variant in variants}


def _repeatable(schema: dict[str, Any]) -> bool:
    variants = schema.get("oneOf", [schema])
    return any(variant.get("type") == "array" for variant in variants)
