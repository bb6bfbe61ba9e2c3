"""Secrets rules (issue "Hardening"): keys are looked up by digest, never compared raw;
Basic account ids are compared in constant time; no key material ever reaches a log or a
response body, whatever a client gets wrong."""

from __future__ import annotations

import base64
import hashlib
import hmac
import inspect
import logging

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from tests.api.support import assert_error, running
from tests.factories import US_NUMBERS, Tenant, entry, make_tenant, stock
from voxnumbers.accounts import repository as accounts_repository
from voxnumbers.accounts import service as accounts
from voxnumbers.app import create_app
from voxnumbers.errors import Unauthorized
from voxnumbers.kit.apikeys import LIVE_PREFIX
from voxnumbers.numbers import repository as numbers_repository
from voxnumbers.settings import Settings

# The test's own HTTP client logs full URLs (query strings included): it is not the server.
CLIENT_LOGGERS = ("httpx", "httpcore", "asyncio")


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def repository_calls(monkeypatch) -> list[tuple[str, tuple, dict]]:
    """Every call into the accounts repository, with its arguments."""
    calls: list[tuple[str, tuple, dict]] = []
    for name, function in list(vars(accounts_repository).items()):
        if (
            inspect.iscoroutinefunction(function)
            and function.__module__ == accounts_repository.__name__
        ):

            async def spy(*args, __name=name, __function=function, **kwargs):
                calls.append((__name, args[1:], kwargs))  # args[0] is the connection
                return await __function(*args, **kwargs)

            monkeypatch.setattr(accounts_repository, name, spy)
    return calls


@pytest.fixture
def statements(database) -> list[tuple[str, object]]:
    """Every SQL statement sent to the database, with its parameters."""
    sent: list[tuple[str, object]] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    event.listen(database.engine.sync_engine, "before_cursor_execute", note)
    yield sent
    event.remove(database.engine.sync_engine, "before_cursor_execute", note)


# --- how keys are checked -------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["bearer", "basic"])
async def test_the_database_sees_only_the_digest_of_a_presented_key(
    database, repository_calls, statements, scheme
):
    tenant = await make_tenant(database)
    header = tenant.bearer if scheme == "bearer" else tenant.basic
    repository_calls.clear()
    statements.clear()
    async with database.transaction(write=False) as conn:
        caller = await accounts.authenticate(conn, header["Authorization"])
    assert caller.key_id == tenant.key_id
    digest = hashlib.sha256(tenant.key.encode()).hexdigest()
    assert repository_calls == [("find_caller_by_digest", (digest,), {})]
    assert statements, "the lookup went to the database"
    assert tenant.key not in repr(statements)
    assert tenant.key[len(LIVE_PREFIX) :] not in repr(statements)
    assert digest in repr(statements)


async def test_a_wrong_key_is_looked_up_by_digest_too_and_refused(database, repository_calls):
    await make_tenant(database)
    repository_calls.clear()
    wrong = LIVE_PREFIX + "W" * 40
    async with database.transaction(write=False) as conn:
        with pytest.raises(Unauthorized):
            await accounts.authenticate(conn, f"Bearer {wrong}")
    assert repository_calls == [
        ("find_caller_by_digest", (hashlib.sha256(wrong.encode()).hexdigest(),), {})
    ]


async def test_basic_account_ids_are_compared_in_constant_time(database, monkeypatch):
    tenant = await make_tenant(database)
    other = await make_tenant(database, "Other")
    compared: list[tuple[bytes, bytes]] = []
    constant_time = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return constant_time(a, b)

    monkeypatch.setattr(accounts.hmac, "compare_digest", spy)
    async with database.transaction(write=False) as conn:
        assert (await accounts.authenticate(conn, tenant.basic["Authorization"])).key_id == (
            tenant.key_id
        )
        with pytest.raises(Unauthorized):
            await accounts.authenticate(conn, basic(other.account_id, tenant.key)["Authorization"])
    assert (tenant.account_id.encode(), tenant.account_id.encode()) in compared
    assert (other.account_id.encode(), tenant.account_id.encode()) in compared


@pytest.mark.parametrize(
    "user",
    ["acc_0000000000000000", "", "ACC", "{account}x", "{account}"[:-1], " {account}"],
)
async def test_a_wrong_basic_account_id_is_401(client, database, user):
    tenant = await make_tenant(database)
    user = user.replace("{account}", tenant.account_id)
    if not user:
        user = tenant.account_id[:-1]
    response = await client.get(tenant.path("/numbers"), headers=basic(user, tenant.key))
    assert_error(response, 401)
    assert (await client.get(tenant.path("/numbers"), headers=tenant.basic)).status_code == 200


# --- a whole session, every log captured ----------------------------------------------------


async def test_a_realistic_session_leaves_no_key_material_in_any_log(
    database, capfd, caplog, monkeypatch
):
    caplog.set_level(logging.DEBUG)
    tenant = await make_tenant(database)
    other = await make_tenant(database, "Other")
    sandbox = await make_tenant(database, "Sandbox", test=True)
    hammer = await make_tenant(database, "Hammer")
    async with database.transaction() as conn:
        second = await accounts.issue_key(conn, tenant.account_id)
        revoked = await accounts.issue_key(conn, tenant.account_id)
        await accounts.revoke_key(conn, revoked.key.id)
    await stock(database, entry(US_NUMBERS[0]), entry(US_NUMBERS[1]))
    secrets = [t.key for t in (tenant, other, sandbox, hammer)] + [second.secret, revoked.secret]
    typo = tenant.key[:-1] + ("A" if tenant.key[-1] != "A" else "B")
    basic_headers = [
        tenant.basic,
        sandbox.basic,
        basic(other.account_id, tenant.key),  # right key, wrong account
        basic(tenant.account_id, typo),
        basic(tenant.account_id, revoked.secret),
    ]
    bearer_second = {"Authorization": f"Bearer {second.secret}"}
    purchase = tenant.path("/numbers/purchase-from-inventory")
    capfd.readouterr()
    caplog.clear()

    settings = Settings(log_level="debug", rate_limit_per_minute=1, rate_limit_burst=40)
    async with running(create_app(settings, database)) as client:
        requests = [
            # successes, Bearer and Basic, live and test keys
            client.get(tenant.path("/numbers"), headers=tenant.bearer),
            client.get(tenant.path("/numbers"), headers=basic_headers[0]),
            client.get(sandbox.path("/numbers"), headers=basic_headers[1]),
            client.get(tenant.path("/numbers"), headers=bearer_second),
            client.post(
                purchase,
                json={"e164": US_NUMBERS[0], "country": "US"},
                headers={**tenant.bearer, "Idempotency-Key": "buy-1"},
            ),
            client.post(
                purchase,
                json={"e164": US_NUMBERS[0], "country": "US"},
                headers={**tenant.bearer, "Idempotency-Key": "buy-1"},
            ),  # replayed
            client.get(tenant.path(f"/numbers/{US_NUMBERS[0]}"), headers=tenant.basic),
            # failures
            client.get(tenant.path("/numbers"), headers={"Authorization": f"Bearer {typo}"}),
            client.get(
                tenant.path("/numbers"), headers={"Authorization": f"Bearer {revoked.secret}"}
            ),
            client.get(tenant.path("/numbers"), headers={"Authorization": tenant.key}),
            client.get(tenant.path("/numbers"), headers={"Authorization": f"Basic {tenant.key}"}),
            *(client.get(tenant.path("/numbers"), headers=h) for h in basic_headers[2:]),
            client.get(other.path("/numbers"), headers=tenant.bearer),  # 403
            # keys where they do not belong
            client.get(tenant.path(f"/numbers?api_key={tenant.key}"), headers=tenant.bearer),
            client.get(tenant.path(f"/numbers?api_key={tenant.key}")),
            client.get(tenant.path(f"/numbers?page=1&key={second.secret}"), headers=tenant.bearer),
            client.post(
                purchase,
                json={"e164": US_NUMBERS[1], "country": "US", "api_key": tenant.key},
                headers=tenant.bearer,
            ),
        ]
        answers = [await request for request in requests]
        # a key hammered past its limit
        answers += [
            await client.get(hammer.path("/numbers"), headers=hammer.bearer) for _ in range(45)
        ]

    statuses = [r.status_code for r in answers]
    assert statuses[:7] == [200, 200, 200, 200, 201, 201, 200]
    assert answers[5].headers["idempotent-replayed"] == "true"
    assert statuses[7:15] == [401] * 7 + [403]
    assert_error(answers[15], 400, "api_key")  # a key in the query string: unknown parameter
    assert_error(answers[16], 401)  # ... and without a header it authenticates nothing
    assert_error(answers[17], 400, "key")
    assert_error(answers[18], 400, "api_key")  # a key in the body: unknown field
    assert statuses[19:] == [200] * 40 + [429] * 5

    logged = capfd.readouterr()
    records = [r for r in caplog.records if not r.name.startswith(CLIENT_LOGGERS)]
    text = "\n".join([logged.out, logged.err, *(_everything_in(r) for r in records)])
    assert text.count('"event": "request"') >= len(answers), "the access log was captured"
    forbidden = ["tvx_sk_", *secrets, *(s[len(LIVE_PREFIX) :] for s in secrets), typo[-20:]]
    forbidden += [h["Authorization"].split()[1] for h in basic_headers]
    for material in forbidden:
        assert material not in text, f"key material in the logs: {material[:12]}…"
    # Bodies may name the prefix ("Authorization: Bearer tvx_sk_..."), never a key.
    for response in answers:
        for material in forbidden[1:]:
            assert material not in response.text
            assert all(material not in value for value in response.headers.values())


def _everything_in(record: logging.LogRecord) -> str:
    """A log record as any handler could render it: message, arguments, extras, traceback."""
    return " ".join(
        [record.getMessage(), repr(record.args), repr(record.__dict__), record.exc_text or ""]
    )


@pytest.mark.parametrize("where", ["X-Request-ID", "path as account", "path as number"])
async def test_a_key_sent_in_the_wrong_place_is_not_logged(database, capfd, where):
    tenant: Tenant = await make_tenant(database)
    path, headers = tenant.path("/numbers"), dict(tenant.bearer)
    if where == "X-Request-ID":
        headers["X-Request-ID"] = tenant.key
    elif where == "path as account":
        path = f"/v1/account/{tenant.key}/numbers"
    else:
        path = tenant.path(f"/numbers/{tenant.key}")
    async with running(create_app(Settings(log_level="info"), database)) as client:
        capfd.readouterr()
        response = await client.get(path, headers=headers)
    assert response.status_code in (200, 400, 403)
    assert tenant.key[len(LIVE_PREFIX) :] not in "".join(capfd.readouterr())
    assert tenant.key not in response.text + repr(response.headers)


# --- keys in log lines other than the access log --------------------------------------------


@pytest.mark.parametrize("where", ["path as account", "path as number", "query"])
async def test_a_key_in_the_request_is_not_logged_when_the_database_is_away(
    database, capfd, monkeypatch, where
):
    """The ``database unavailable`` line names the path: a key pasted into it is masked."""
    tenant: Tenant = await make_tenant(database)

    async def unreachable(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(accounts_repository, "find_caller_by_digest", unreachable)
    path = {
        "path as account": f"/v1/account/{tenant.key}/numbers",
        "path as number": tenant.path(f"/numbers/{tenant.key}"),
        "query": tenant.path(f"/numbers?key={tenant.key}"),
    }[where]
    async with running(create_app(Settings(log_level="info"), database)) as client:
        capfd.readouterr()
        response = await client.get(path, headers=tenant.bearer)
    assert_error(response, 503)
    logged = "".join(capfd.readouterr())
    assert '"event": "database unavailable"' in logged
    assert tenant.key[len(LIVE_PREFIX) :] not in logged


async def test_a_key_in_an_exception_text_is_not_logged(database, capfd, monkeypatch):
    """The ``unhandled exception`` line (path and traceback) is masked too."""
    tenant: Tenant = await make_tenant(database)

    async def broken(*args, **kwargs):
        raise RuntimeError(f"boom, while {tenant.key} was in the air")

    monkeypatch.setattr(numbers_repository, "count_numbers", broken)
    async with running(create_app(Settings(log_level="info"), database)) as client:
        capfd.readouterr()
        response = await client.get(
            f"/v1/account/{tenant.account_id}/numbers", headers=tenant.bearer
        )
    assert_error(response, 500)
    logged = "".join(capfd.readouterr())
    assert '"event": "unhandled exception"' in logged
    assert "boom, while tvx_sk_[redacted] was in the air" in logged
    assert tenant.key[len(LIVE_PREFIX) :] not in logged
