"""Every operation of the service's own ``/openapi.json`` fuzzed with schemathesis, on both
databases.

The schema is fetched from the running app (``schemathesis.openapi.from_asgi``); cases come
from ``APIOperation.as_strategy`` and are sent in process by ``Case.call_and_validate``
(schemathesis' ASGI transport, through ``tests.fuzz.bridge``), with a real key of a real
account in ``Authorization``. Every answer is checked for:

- ``not_a_server_error``: no 5xx, ever;
- ``status_code_conformance``: the status is documented for the operation;
- ``content_type_conformance``: the media type is one documented for that status;
- ``response_schema_conformance``: the body matches the documented schema (successes and
  error envelopes alike);
- ``response_headers_conformance``: documented response headers are there, as documented;
- ``positive_data_acceptance``: a request the description calls valid is not refused for its
  shape (``400``): every rule the server enforces is in the description. Refusals no schema
  can state are listed in ``BEYOND_THE_SCHEMA``, each exactly; a well-formed ``If-Match``
  that no longer matches is ``412``. The description's own formats (``e164``, …) get
  strategies of valid values here, as a generated client gets values from its user;
- ``negative_data_rejection``: a request the description calls invalid is refused (4xx);
- ``missing_required_header``, ``unsupported_method``, ``allow_header_conformance``,
  ``use_after_free``, ``ensure_resource_availability``: the rest of schemathesis' checks
  (all of them but ``max_response_time``: speed is for ``bench/``);
- ``ignored_auth``: a success is sent again without credentials and with wrong ones, and
  must then be refused;
- ours, ``error_envelope``: a 4xx or 5xx body is exactly the error envelope, with the code of
  its status and the ``request_id`` of the ``X-Request-ID`` header.

Two passes on each database:

- **the account's own path** (``account_id`` is the key's account). Each operation draws from
  four strategies: the ids of objects that exist with a request body that should succeed
  (so successes, their schemas and ``ignored_auth`` are exercised: deletes, purchases and
  routing included), the same ids with generated bodies, generated ids, and negative
  (schema-violating) parameters and bodies. The test also insists that every operation
  answered at least one success, or the fuzzing would prove little;
- **any other account** (``account_id`` generated): never a success; ``403`` on every
  account route (``404`` when the generated value does not even make a route).

Set up rather than fuzzed, and why:

- rate limiting is off (``rate_limit_per_minute=0``): a few thousand requests of one key
  would be answered ``429`` (documented, so conforming, but hiding everything else). Rate
  limits have their own tests (tests/api/web/test_rate_limits.py);
- before each operation the objects its path can name (a trunk with a credential and an ACL
  entry, an application, a webhook with a delivery, owned numbers, numbers for sale, a key,
  a bulk job) are created again, so one operation's deletes do not turn the next operations
  into ``404``; a number is put in the status the operation acts on (released for
  cancel-release, suspended for reinstate, pending for activate, active otherwise);
- bulk jobs are created but not run (``run_jobs=False``): their endpoints answer the same
  either way, and a job still queued can be cancelled;
- the admin API (``/admin/v1``) is fuzzed with an operator token, the rest with the key.

Nothing is excluded: every operation, every check above.

Reproducible in CI: Hypothesis runs derandomized, without its example database, with
``EXAMPLES`` examples per operation and pass.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict
from schemathesis import GenerationMode
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    ensure_resource_availability,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
    use_after_free,
)
from schemathesis.errors import FailureGroup
from sqlalchemy import select

from tests.api.support import ERROR_CODES, app_on, own
from tests.factories import US_NUMBERS, Tenant, entry, make_tenant, stock
from tests.fuzz.bridge import LoopBridge, serving
from voxnumbers.accounts import service as accounts
from voxnumbers.admin import service as admin
from voxnumbers.db.engine import Database
from voxnumbers.db.tables import numbers
from voxnumbers.web.openapi import (
    COUNTRY_FORMAT,
    E164_FORMAT,
    HTTP_URL_FORMAT,
    SIP_URI_FORMAT,
    WEBHOOK_URL_FORMAT,
)

EXAMPLES = 20  # per operation and pass
OWNED = US_NUMBERS[:4]
FOR_SALE = US_NUMBERS[10:16]
PENDING = US_NUMBERS[30]
# The operator token's header, set by ``fuzzer_for`` (one token per database).
OPERATOR: dict[str, str] = {}
T = TypeVar("T")

Case = schemathesis.Case
Operation = Any  # schemathesis.APIOperation, generic in ways that do not help here
Strategies = Callable[[Operation, dict[str, str]], st.SearchStrategy[Case]]


def error_envelope(ctx: Any, response: schemathesis.Response, case: Case) -> None:
    """A refusal is exactly ``{"error": {code, message, details?, request_id}}`` with the
    code of its status and the request id of the ``X-Request-ID`` header."""
    if response.status_code < 400:
        return
    body = response.json()
    assert isinstance(body, dict) and list(body) == ["error"], body
    error = body["error"]
    assert {"code", "message", "request_id"} <= set(error), error
    assert set(error) <= {"code", "message", "details", "request_id"}, error
    assert error["code"] == ERROR_CODES[response.status_code], error
    headers = CaseInsensitiveDict(response.headers)
    assert [error["request_id"]] == headers["x-request-id"], (error, headers)


# What the description's own formats mean (``voxnumbers.web.openapi``): a valid number of a
# numbering plan (some owned, some for sale, some neither), a country with a plan. A pattern
# holds their shape; which numbers and countries exist is the server's knowledge. The
# countries are those of the numbers: that a purchase names the number's own country is a
# rule between two fields, which no schema of either can state.
schemathesis.openapi.format(
    E164_FORMAT, st.sampled_from([*OWNED, *FOR_SALE, *US_NUMBERS[20:24], "+442071838750"])
)
schemathesis.openapi.format(COUNTRY_FORMAT, st.sampled_from(["US", "us", "Us"]))
schemathesis.openapi.format(
    HTTP_URL_FORMAT,
    st.sampled_from(
        ["https://example.com/answer", "http://pbx.example.com:8080/a?b=1", "HTTPS://EXAMPLE.COM"]
    ),
)
schemathesis.openapi.format(
    WEBHOOK_URL_FORMAT,
    st.sampled_from(["https://example.com/hooks", "http://localhost:9000/h", "https://a.example"]),
)
schemathesis.openapi.format(
    SIP_URI_FORMAT,
    st.sampled_from(
        [
            "sip:pbx.example.com",
            "sips:alice@edge.example.com:5061;transport=tls",
            "sip:[2001:db8::1]:5060",
            "SIP:203.0.113.7",
        ]
    ),
)

# What no schema can state, each answered 400 on its field: a reference to an object that
# does not exist in the account (API.md, "Numbers"), which looks like one that does; a rule
# between two query parameters (a page number and a cursor, two ways of paging) and one
# between two fields (an IPv4 address takes a mask up to 32, an IPv6 one up to 128); and a
# cursor, whose validity is the server's knowledge.
BEYOND_THE_SCHEMA = [
    [{"field": "trunk_id", "reason": "does not exist in this account"}],
    [{"field": "application_id", "reason": "does not exist in this account"}],
    [{"field": "page", "reason": "cannot be combined with cursor"}],
    [{"field": "cursor", "reason": "is not a cursor returned by this API"}],
    [{"field": "mask", "reason": "must be from 0 to 32 for IPv4"}],
]
# An uploaded inventory file whose contents are not a valid inventory (``csv``), checked row
# by row as ``vox admin inventory import`` does: no schema states a CSV file's rules.
CONTENT_FIELDS = {"csv"}


def positive_data_accepted(ctx: Any, response: schemathesis.Response, case: Case) -> None:
    """``positive_data_acceptance``, but for the refusals of ``BEYOND_THE_SCHEMA``."""
    details = response.json()["error"].get("details") if response.status_code == 400 else None
    if details in BEYOND_THE_SCHEMA:
        return
    if details and {detail["field"] for detail in details} <= CONTENT_FIELDS:
        return
    positive_data_acceptance(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    positive_data_accepted,
    negative_data_rejection,
    missing_required_header,
    unsupported_method,
    allow_header_conformance,
    use_after_free,
    ensure_resource_availability,
    ignored_auth,
    error_envelope,
]


def good_body(label: str, ids: dict[str, str]) -> Any:
    """A body the operation should accept for the objects in ``ids`` (None: no body)."""
    trunk = {
        "name": "Fuzzed trunk",
        "auth_type": "ip",
        "termination_uri": "sip:pbx.example.com:5060",
        "origination_uris": ["sip:edge.example.com;transport=tls"],
        "max_channels": 30,
    }
    application = {
        "name": "Fuzzed application",
        "answer_url": "https://example.com/answer",
        "answer_method": "GET",
        "fallback_url": "https://example.com/fallback",
        "webhook_secret": "s3cret-s3cret",
    }
    method, _, path = label.partition(" ")
    bodies = {
        ("POST", "/purchase-from-inventory"): {"e164": FOR_SALE[0], "country": "US"},
        ("POST", "/assign"): {"trunk_id": ids.get("trunk_id")},
        ("POST", "/application"): {"application_id": ids.get("app_id")},
        ("POST", "/webhooks"): {"url": "https://example.com/hooks"},
        ("POST", "/trunks"): trunk,
        ("PUT", "/{trunk_id}"): trunk,
        ("POST", "/credentials"): {"username": "alice.1", "password": "correct horse"},
        ("POST", "/ip-acl"): {"ip": "2001:db8::1", "mask": 64, "description": "office"},
        ("POST", "/applications"): application,
        ("PATCH", "/{app_id}"): {"answer_url": None, "hangup_method": "GET"},
        ("POST", "/numbers/bulk"): {
            "action": "assign_trunk",
            "trunk_id": ids.get("trunk_id"),
            "numbers": OWNED[:2],
        },
        ("PATCH", "/{webhook_id}"): {"enabled": True, "event_types": []},
        ("POST", "/admin/v1/accounts"): {"name": "Fuzzed account"},
        ("POST", "/keys"): {"test": True},
        ("POST", "/inventory/import"): {"csv": f"e164,monthly_fee\n{US_NUMBERS[24]},1.00\n"},
        ("POST", "/suspend"): {"reason": "billing"},
    }
    for (verb, ending), body in bodies.items():
        if method == verb and path.endswith(ending):
            return body
    return None


def own_account_cases(operation: Operation, ids: dict[str, str]) -> st.SearchStrategy[Case]:
    """Cases on the key's own account: see the module's docstring."""
    names = path_parameter_names(operation)
    existing = {name: value for name, value in ids.items() if name in names}
    account = {"account_id": ids["account_id"]} if "account_id" in names else {}
    body = good_body(operation.label, ids)
    known = operation.as_strategy(path_parameters=existing)
    if body is not None:
        known = operation.as_strategy(path_parameters=existing, body=body)
    return st.one_of(
        known,
        operation.as_strategy(path_parameters=existing),
        operation.as_strategy(path_parameters=account),
        operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=account),
    )


def other_account_cases(operation: Operation, ids: dict[str, str]) -> st.SearchStrategy[Case]:
    """Cases whose ``account_id`` (like everything else) is generated."""
    return st.one_of(operation.as_strategy(), operation.as_strategy(GenerationMode.NEGATIVE))


def path_parameter_names(operation: Operation) -> set[str]:
    return {parameter.name for parameter in operation.path_parameters}


async def seed(
    http: httpx.AsyncClient, database: Database, tenant: Tenant, operation: Operation
) -> dict[str, str]:
    """Create (again) a trunk with a credential and an ACL entry, an application, a key, and
    a webhook with a delivery where the path names one; their ids by path parameter name,
    with ``e164`` a number of the account in the state the operation acts on (released for
    cancel-release, suspended for reinstate, pending for activate, for sale for removal from
    inventory, active otherwise)."""
    await stock(database, *(entry(e164) for e164 in FOR_SALE))

    async def created(path: str, body: dict[str, Any]) -> str:
        response = await http.post(tenant.path(path), json=body, headers=tenant.bearer)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    ids = {"account_id": tenant.account_id}
    ids["trunk_id"] = trunk_id = await created("/trunks", {"name": "t", "auth_type": "ip"})
    ids["cred_id"] = await created(
        f"/trunks/{trunk_id}/credentials", {"username": "bob", "password": "x" * 16}
    )
    ids["acl_id"] = await created(f"/trunks/{trunk_id}/ip-acl", {"ip": "203.0.113.7"})
    ids["app_id"] = await created("/applications", {"name": "a"})
    if "webhook_id" in path_parameter_names(operation):
        # At most 20 endpoints per account, and fuzzing POST …/webhooks makes some.
        listed = await http.get(tenant.path("/webhooks?per_page=100"), headers=tenant.bearer)
        for webhook in listed.json()["data"]:
            await http.delete(tenant.path(f"/webhooks/{webhook['id']}"), headers=tenant.bearer)
        # Nothing listens there: a test event is refused at once, never sent elsewhere.
        ids["webhook_id"] = await created("/webhooks", {"url": "http://127.0.0.1:9/hook"})
    if "job_id" in path_parameter_names(operation):
        job = await http.post(
            tenant.path("/numbers/bulk"),
            json={"action": "unassign", "numbers": OWNED[:2]},
            headers=tenant.bearer,
        )
        assert job.status_code == 202, job.text
        ids["job_id"] = job.json()["id"]
    ids["e164"] = e164 = await active_number(http, tenant)
    if "webhook_id" in ids:
        # A routing change queues a delivery to the new endpoint, for ``redeliver``.
        routed = await http.post(
            tenant.path(f"/numbers/{e164}/assign"),
            json={"trunk_id": trunk_id},
            headers=tenant.bearer,
        )
        assert routed.status_code == 200, routed.text
        listed = await http.get(
            tenant.path(f"/webhooks/{ids['webhook_id']}/deliveries"), headers=tenant.bearer
        )
        ids["delivery_id"] = listed.json()["data"][0]["id"]
    async with database.transaction() as conn:
        ids["key_id"] = (await accounts.issue_key(conn, tenant.account_id)).key.id
    label = operation.label
    if label.endswith("/cancel-release"):
        released = await http.delete(tenant.path(f"/numbers/{e164}"), headers=tenant.bearer)
        assert released.status_code == 200, released.text
    elif label.endswith("/reinstate"):
        suspended = await http.post(
            f"/admin/v1/numbers/{e164}/suspend", json={"reason": "fuzz"}, headers=OPERATOR
        )
        assert suspended.status_code == 200, suspended.text
    elif label.endswith("/activate"):
        ids["e164"] = PENDING
        if PENDING not in await owners_map(database):
            await own(database, tenant, PENDING, status="pending")
    elif label.startswith("DELETE /admin/v1/inventory/"):
        ids["e164"] = FOR_SALE[-1]
    return ids


async def owners_map(database: Database) -> set[str]:
    async with database.transaction(write=False) as conn:
        return set((await conn.execute(select(numbers.c.e164))).scalars())


async def active_number(http: httpx.AsyncClient, tenant: Tenant) -> str:
    """One of the account's numbers, active (its release cancelled if it was released)."""
    for e164 in OWNED:
        one = await http.get(tenant.path(f"/numbers/{e164}"), headers=tenant.bearer)
        status = one.json()["status"] if one.status_code == 200 else None
        if status == "active":
            return e164
        if status == "suspended":
            reinstated = await http.post(f"/admin/v1/numbers/{e164}/reinstate", headers=OPERATOR)
            if reinstated.status_code == 200:
                return e164
        if status == "released":
            cancelled = await http.post(
                tenant.path(f"/numbers/{e164}/cancel-release"), headers=tenant.bearer
            )
            if cancelled.status_code == 200:
                return e164
    raise AssertionError("none of the account's numbers can be made active again")


@contextlib.asynccontextmanager
async def served(database: Database) -> AsyncIterator[tuple[httpx.AsyncClient, LoopBridge]]:
    """The app running in this loop: a client to set things up, and the bridge schemathesis
    reaches it through."""
    # Jobs are not run: a job the fuzzer cancels is still queued, as a large one would be.
    async with serving(app_on(database, rate_limit_per_minute=0, run_jobs=False)) as (http, app):
        bridge = LoopBridge(app, asyncio.get_running_loop())
        try:
            yield http, bridge
        finally:
            bridge.close()


class Fuzzer:
    """Runs schemathesis over every operation, in a worker thread, while the app serves
    from the test's loop."""

    def __init__(self, database: Database, tenant: Tenant) -> None:
        self.database = database
        self.tenant = tenant
        self.statuses: dict[str, Counter[int]] = {}

    async def run(self, strategies: Strategies, seeded: bool = True) -> list[str]:
        """Failure reports (empty: none); ``statuses`` holds what each operation answered.
        ``seeded``: objects for the operation's path are created before it is fuzzed."""
        loop = asyncio.get_running_loop()
        async with served(self.database) as (http, bridge):

            def in_loop(coroutine: Coroutine[Any, Any, T]) -> T:
                return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

            def every_operation() -> list[str]:
                schema = schemathesis.openapi.from_asgi("/openapi.json", bridge)
                # A well-formed If-Match that no longer matches is refused 412 (RFC 9110).
                accepted = schema.config.checks.positive_data_acceptance.expected_statuses
                schema.config.checks.positive_data_acceptance.expected_statuses = [
                    *accepted,
                    "412",
                ]
                failures = []
                for result in schema.get_all_operations():
                    operation = result.ok()
                    ids = (
                        in_loop(seed(http, self.database, self.tenant, operation)) if seeded else {}
                    )
                    failure = self.fuzz(operation, strategies(operation, ids))
                    if failure:
                        failures.append(f"{operation.label}:\n{failure}")
                return failures

            return await asyncio.to_thread(every_operation)

    def fuzz(self, operation: Operation, cases: st.SearchStrategy[Case]) -> str | None:
        """One operation's examples; the report of its first failure, if any."""
        seen = self.statuses.setdefault(operation.label, Counter())

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            print_blob=False,
            # Examples here are HTTP requests with set-up state; the input-generation health
            # checks (too slow, filtered, large) say nothing about the API.
            suppress_health_check=list(HealthCheck),
        )
        @given(case=cases)
        def examples(case: Case) -> None:
            admin = operation.path.startswith("/admin/")
            headers = OPERATOR if admin else self.tenant.bearer
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            seen[response.status_code] += 1

        try:
            examples()
        except (FailureGroup, AssertionError) as failure:
            return str(failure)
        return None


async def fuzzer_for(database: Database) -> Fuzzer:
    """An account owning a few numbers, more for sale, and a neighbour; a fuzzer keyed to it."""
    tenant = await make_tenant(database, "Fuzz")
    async with database.transaction() as conn:
        operator = await admin.create_operator_token(conn, "fuzz")
    OPERATOR["Authorization"] = f"Bearer {operator.secret}"
    await make_tenant(database, "Neighbour")
    await stock(database, *(entry(e164) for e164 in OWNED + FOR_SALE))
    async with served(database) as (http, _):
        for e164 in OWNED:
            bought = await http.post(
                tenant.path("/numbers/purchase-from-inventory"),
                json={"e164": e164, "country": "US"},
                headers=tenant.bearer,
            )
            assert bought.status_code == 201, bought.text
    return Fuzzer(database, tenant)


async def test_every_operation_on_the_accounts_own_path(database):
    fuzzer = await fuzzer_for(database)
    failures = await fuzzer.run(own_account_cases)
    assert not failures, "\n\n".join(failures)
    never_succeeded = [
        label
        for label, statuses in fuzzer.statuses.items()
        if not any(200 <= status < 300 for status in statuses)
    ]
    assert not never_succeeded, fuzzer.statuses
    assert len(fuzzer.statuses) >= 35  # every operation of the API was fuzzed


async def test_every_operation_on_other_accounts_paths(database):
    fuzzer = await fuzzer_for(database)
    failures = await fuzzer.run(other_account_cases, seeded=False)
    assert not failures, "\n\n".join(failures)
    for label, statuses in fuzzer.statuses.items():
        # The admin API names any account: an operator's ids are not probed, they are used.
        if "{account_id}" in label and " /admin/" not in label:
            assert set(statuses) <= {403, 404}, (label, statuses)
            assert statuses[403], (label, statuses)
