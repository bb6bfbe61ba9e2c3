"""``ETag`` on single-object reads and ``If-Match`` on writes to numbers, trunks and
applications (``spec/API.md`` §7), on both databases."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.support import app_on, assert_error, event_count, running
from tests.factories import US_NUMBERS, Tenant, entry, make_tenant, stock
from voxnumbers.db.engine import Database

NUMBER = US_NUMBERS[0]
STRONG_TAG = re.compile(r'^"[0-9a-f]{32}"$')
STALE = '"00000000000000000000000000000000"'


@dataclass(frozen=True)
class World:
    """An account owning NUMBER (routed to ``trunk``), a trunk and an application."""

    tenant: Tenant
    trunk: str
    spare_trunk: str
    application: str

    def number(self, suffix: str = "") -> str:
        return self.tenant.path(f"/numbers/{NUMBER}{suffix}")

    def trunk_path(self, trunk_id: str | None = None) -> str:
        return self.tenant.path(f"/trunks/{trunk_id or self.trunk}")

    def application_path(self) -> str:
        return self.tenant.path(f"/applications/{self.application}")

    def compat_application_path(self) -> str:
        return f"/v1/voice/applications/{self.application}"

    def headers(self, if_match: str | None = None) -> dict[str, str]:
        extra = {} if if_match is None else {"If-Match": if_match}
        return {**self.tenant.bearer, **extra}


async def _created(client: httpx.AsyncClient, tenant: Tenant, path: str, body: Any) -> str:
    r = await client.post(tenant.path(path), json=body, headers=tenant.bearer)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.fixture
async def world(client: httpx.AsyncClient, database: Database) -> World:
    tenant = await make_tenant(database)
    await stock(database, entry(NUMBER))
    r = await client.post(
        tenant.path("/numbers/purchase-from-inventory"),
        json={"e164": NUMBER, "country": "US"},
        headers=tenant.bearer,
    )
    assert r.status_code == 201, r.text
    trunk_body = {"name": "edge", "auth_type": "ip"}
    world = World(
        tenant=tenant,
        trunk=await _created(client, tenant, "/trunks", trunk_body),
        spare_trunk=await _created(client, tenant, "/trunks", {**trunk_body, "name": "spare"}),
        application=await _created(client, tenant, "/applications", {"name": "ivr"}),
    )
    r = await client.post(
        world.number("/assign"), json={"trunk_id": world.trunk}, headers=world.headers()
    )
    assert r.status_code == 200, r.text
    return world


async def read(client: httpx.AsyncClient, world: World, path: str) -> tuple[str, dict[str, Any]]:
    """The object at ``path`` and its ETag (insisting it is there and strong)."""
    r = await client.get(path, headers=world.headers())
    assert r.status_code == 200, r.text
    tag = r.headers["etag"]
    assert STRONG_TAG.match(tag), tag
    return tag, r.json()


# --- what a write to each kind of object looks like -----------------------------------------

Write = Callable[[httpx.AsyncClient, World, dict[str, str]], Awaitable[httpx.Response]]


async def assign_trunk(client: httpx.AsyncClient, w: World, h: dict[str, str]) -> httpx.Response:
    return await client.post(w.number("/assign"), json={"trunk_id": w.spare_trunk}, headers=h)


async def unassign_trunk(client: httpx.AsyncClient, w: World, h: dict[str, str]) -> httpx.Response:
    return await client.delete(w.number("/assign"), headers=h)


async def assign_app(client: httpx.AsyncClient, w: World, h: dict[str, str]) -> httpx.Response:
    body = {"application_id": w.application}
    return await client.post(w.number("/application"), json=body, headers=h)


async def unassign_app(client: httpx.AsyncClient, w: World, h: dict[str, str]) -> httpx.Response:
    return await client.delete(w.number("/application"), headers=h)


async def release(client: httpx.AsyncClient, w: World, h: dict[str, str]) -> httpx.Response:
    return await client.delete(w.number(), headers=h)


async def replace_trunk(client: httpx.AsyncClient, w: World, h: dict[str, str]) -> httpx.Response:
    body = {"name": "replaced", "auth_type": "credential"}
    return await client.put(w.trunk_path(w.spare_trunk), json=body, headers=h)


async def rename_trunk(client: httpx.AsyncClient, w: World, h: dict[str, str]) -> httpx.Response:
    body = {"name": "renamed", "auth_type": "ip"}
    return await client.put(w.trunk_path(w.spare_trunk), json=body, headers=h)


async def delete_trunk(client: httpx.AsyncClient, w: World, h: dict[str, str]) -> httpx.Response:
    return await client.delete(w.trunk_path(w.spare_trunk), headers=h)


async def patch_app(client: httpx.AsyncClient, w: World, h: dict[str, str]) -> httpx.Response:
    return await client.patch(w.application_path(), json={"name": "patched"}, headers=h)


async def patch_app_compat(
    client: httpx.AsyncClient, w: World, h: dict[str, str]
) -> httpx.Response:
    return await client.patch(w.compat_application_path(), json={"name": "compat"}, headers=h)


async def delete_app(client: httpx.AsyncClient, w: World, h: dict[str, str]) -> httpx.Response:
    return await client.delete(w.application_path(), headers=h)


# Each write, the object it writes to (as a GET path), and a change by someone else that
# makes a tag read before it stale. The number starts routed to ``trunk``, with an
# application to assign and a spare trunk; each staling change differs from the write.
WRITES: dict[str, tuple[Write, Callable[[World], str], Write]] = {
    "assign trunk": (assign_trunk, World.number, assign_app),
    "unassign trunk": (unassign_trunk, World.number, assign_trunk),
    "assign application": (assign_app, World.number, unassign_trunk),
    "unassign application": (unassign_app, World.number, assign_app),
    "release": (release, World.number, unassign_trunk),
    "replace trunk": (replace_trunk, lambda w: w.trunk_path(w.spare_trunk), rename_trunk),
    "delete trunk": (delete_trunk, lambda w: w.trunk_path(w.spare_trunk), replace_trunk),
    "patch application": (patch_app, World.application_path, patch_app_compat),
    "patch application (compat path)": (
        patch_app_compat,
        World.compat_application_path,
        patch_app,
    ),
    "delete application": (delete_app, World.application_path, patch_app),
}


# --- ETag on reads ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "where",
    [World.number, World.trunk_path, World.application_path, World.compat_application_path],
)
async def test_single_object_reads_carry_a_strong_etag_stable_across_reads(client, world, where):
    first, body = await read(client, world, where(world))
    again, same_body = await read(client, world, where(world))
    assert (again, same_body) == (first, body)


async def test_each_object_has_its_own_tag_and_both_application_paths_share_one(client, world):
    tags = {
        (await read(client, world, path))[0]
        for path in (world.number(), world.trunk_path(), world.trunk_path(world.spare_trunk))
    }
    assert len(tags) == 3
    by_account, _ = await read(client, world, world.application_path())
    by_key, _ = await read(client, world, world.compat_application_path())
    assert by_account == by_key


async def test_lists_and_previews_carry_no_etag(client, world):
    for path in (world.tenant.path("/numbers"), world.number("/release-preview")):
        r = await client.get(path, headers=world.headers())
        assert r.status_code == 200 and "etag" not in r.headers


# --- the tag follows every write --------------------------------------------------------------


async def test_every_write_to_a_number_changes_its_tag_and_answers_the_new_one(client, world):
    """A chain of writes, each made with ``If-Match`` set to the tag the previous answer
    carried: each succeeds, changes the tag, and answers the tag a ``GET`` gives afterwards,
    also when the answer (routing, release) is not the number itself."""
    tag, _ = await read(client, world, world.number())
    for write in (assign_app, unassign_app, assign_trunk, unassign_trunk, release):
        r = await write(client, world, world.headers(tag))
        assert r.status_code == 200, (write.__name__, r.text)
        answered = r.headers["etag"]
        assert answered != tag, write.__name__
        tag, number = await read(client, world, world.number())
        assert answered == tag, write.__name__
    assert number["status"] == "released"
    r = await client.post(world.number("/cancel-release"), headers=world.headers(tag))
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == (await read(client, world, world.number()))[0] != tag


async def test_a_write_that_changes_nothing_keeps_the_tag(client, world):
    await unassign_app(client, world, world.headers())
    tag, before = await read(client, world, world.number())
    r = await unassign_app(client, world, world.headers(tag))
    assert r.status_code == 200 and r.headers["etag"] == tag
    assert (await read(client, world, world.number())) == (tag, before)


async def test_replacing_a_trunk_changes_its_tag_and_answers_the_new_one(client, world):
    tag, _ = await read(client, world, world.trunk_path(world.spare_trunk))
    r = await replace_trunk(client, world, world.headers(tag))
    assert r.status_code == 200, r.text
    new_tag, trunk = await read(client, world, world.trunk_path(world.spare_trunk))
    assert r.headers["etag"] == new_tag != tag
    assert trunk["name"] == "replaced"


@pytest.mark.parametrize("patch", [patch_app, patch_app_compat])
async def test_patching_an_application_changes_its_tag_on_both_paths(client, world, patch):
    tag, _ = await read(client, world, world.application_path())
    r = await patch(client, world, world.headers(tag))
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == (await read(client, world, world.application_path()))[0] != tag
    assert r.headers["etag"] == (await read(client, world, world.compat_application_path()))[0]


@pytest.mark.parametrize(
    ("delete", "where"),
    [(delete_trunk, lambda w: w.trunk_path(w.spare_trunk)), (delete_app, World.application_path)],
)
async def test_deleting_with_the_current_tag_deletes_and_answers_no_tag(
    client, world, delete, where
):
    tag, _ = await read(client, world, where(world))
    r = await delete(client, world, world.headers(tag))
    assert r.status_code == 200, r.text
    assert "etag" not in r.headers
    assert_error(await client.get(where(world), headers=world.headers()), 404)


async def test_a_release_without_cooling_off_answers_without_a_tag(database):
    """With no cooling-off the released number cannot be read any more: the release still
    succeeds (it must not fail on reading the number back), and answers no tag."""
    async with running(app_on(database, cooling_off_days=0)) as client:
        tenant = await make_tenant(database)
        await stock(database, entry(NUMBER))
        body = {"e164": NUMBER, "country": "US"}
        r = await client.post(
            tenant.path("/numbers/purchase-from-inventory"), json=body, headers=tenant.bearer
        )
        assert r.status_code == 201, r.text
        r = await client.get(tenant.path(f"/numbers/{NUMBER}"), headers=tenant.bearer)
        r = await client.delete(
            tenant.path(f"/numbers/{NUMBER}"),
            headers={**tenant.bearer, "If-Match": r.headers["etag"]},
        )
        assert r.status_code == 200, r.text
        assert "etag" not in r.headers
        assert_error(
            await client.get(tenant.path(f"/numbers/{NUMBER}"), headers=tenant.bearer), 404
        )


# --- If-Match -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(WRITES))
async def test_a_stale_tag_is_412_and_changes_nothing(client, world, database, name):
    write, where, someone_else = WRITES[name]
    stale, _ = await read(client, world, where(world))
    r = await someone_else(client, world, world.headers())
    assert r.status_code == 200, r.text
    current = await read(client, world, where(world))
    assert current[0] != stale
    events = await event_count(database, NUMBER)
    assert_error(await write(client, world, world.headers(stale)), 412)
    assert await read(client, world, where(world)) == current
    assert await event_count(database, NUMBER) == events


@pytest.mark.parametrize("name", list(WRITES))
async def test_the_current_tag_among_others_lets_the_write_through(client, world, name):
    write, where, _ = WRITES[name]
    tag, _ = await read(client, world, where(world))
    r = await write(client, world, world.headers(f"{STALE}, W/{tag},{tag} ,"))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("name", list(WRITES))
async def test_a_weak_tag_never_matches(client, world, name):
    """If-Match uses the strong comparison (RFC 9110 §13.1.1): ``W/"<current>"`` is 412."""
    write, where, _ = WRITES[name]
    tag, before = await read(client, world, where(world))
    assert_error(await write(client, world, world.headers(f"W/{tag}")), 412)
    assert await read(client, world, where(world)) == (tag, before)


@pytest.mark.parametrize("name", list(WRITES))
async def test_a_star_matches_whatever_the_object_is_now(client, world, name):
    write, _, someone_else = WRITES[name]
    assert (await someone_else(client, world, world.headers())).status_code == 200
    r = await write(client, world, world.headers("*"))
    assert r.status_code == 200, r.text


async def test_cancelling_a_release_with_a_tag_read_before_it_is_412(client, world):
    before_release, _ = await read(client, world, world.number())
    assert (await release(client, world, world.headers(before_release))).status_code == 200
    released = await read(client, world, world.number())
    cancel = world.number("/cancel-release")
    assert_error(await client.post(cancel, headers=world.headers(before_release)), 412)
    assert await read(client, world, world.number()) == released
    r = await client.post(cancel, headers=world.headers("*"))
    assert r.status_code == 200 and r.json()["status"] == "active"


async def test_without_if_match_nothing_is_checked(client, world):
    r = await assign_app(client, world, world.headers())
    assert r.status_code == 200 and STRONG_TAG.match(r.headers["etag"])


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("DELETE", f"/numbers/{US_NUMBERS[1]}/assign", None),
        ("DELETE", f"/numbers/{US_NUMBERS[1]}", None),
        ("PUT", "/trunks/trunk_doesnotexist", {"name": "x", "auth_type": "ip"}),
        ("DELETE", "/trunks/trunk_doesnotexist", None),
        ("PATCH", "/applications/app_doesnotexist", {"name": "x"}),
    ],
)
async def test_a_missing_object_is_404_even_with_a_star(client, world, method, path, body):
    headers = world.headers("*")
    r = await client.request(method, world.tenant.path(path), json=body, headers=headers)
    assert_error(r, 404)
    r = await client.patch("/v1/voice/applications/app_doesnotexist", json={}, headers=headers)
    assert_error(r, 404)


async def test_another_accounts_object_is_404_whatever_the_tag(client, world, database):
    intruder = await make_tenant(database, "Intruder")
    tag, _ = await read(client, world, world.trunk_path())
    for if_match in ("*", tag):
        headers = {**intruder.bearer, "If-Match": if_match}
        r = await client.delete(intruder.path(f"/trunks/{world.trunk}"), headers=headers)
        assert_error(r, 404)
    assert (await read(client, world, world.trunk_path()))[0] == tag


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        ",",
        "abc",
        "a1b2c3",
        '"unterminated',
        'w/"lowercase-weak"',
        'W/ "space"',
        '"a" "b"',
        '"a";"b"',
        '*, "a"',
        "**",
        '"in"side"',
    ],
)
@pytest.mark.parametrize("name", ["assign trunk", "replace trunk", "patch application"])
async def test_a_malformed_if_match_is_400_on_that_field(client, world, name, value):
    write, where, _ = WRITES[name]
    before = await read(client, world, where(world))
    assert_error(await write(client, world, world.headers(value)), 400, "If-Match")
    assert await read(client, world, where(world)) == before


# --- concurrency ------------------------------------------------------------------------------


async def test_of_writers_racing_with_the_same_tag_exactly_one_wins_on_a_number(
    client, world, database
):
    """Each writer routes the number somewhere else, all holding the same current tag: the
    check and the write are one locked step, so exactly one succeeds and the rest are 412
    (on PostgreSQL, the row lock; on SQLite, serialized write transactions)."""
    trunks = [
        await _created(client, world.tenant, "/trunks", {"name": f"t{i}", "auth_type": "ip"})
        for i in range(4)
    ]
    tag, _ = await read(client, world, world.number())
    answers = await asyncio.gather(
        *(
            client.post(
                world.number("/assign"), json={"trunk_id": trunk}, headers=world.headers(tag)
            )
            for trunk in trunks
        )
    )
    assert sorted(r.status_code for r in answers) == [200, 412, 412, 412]
    [winner] = [r for r in answers if r.status_code == 200]
    for loser in (r for r in answers if r.status_code == 412):
        assert_error(loser, 412)
    new_tag, number = await read(client, world, world.number())
    assert number["trunk_id"] == winner.json()["trunk_id"]
    assert winner.headers["etag"] == new_tag


@pytest.mark.parametrize(
    ("method", "where", "bodies"),
    [
        (
            "PUT",
            World.trunk_path,
            [{"name": f"racer {i}", "auth_type": "ip"} for i in range(4)],
        ),
        ("PATCH", World.application_path, [{"name": f"racer {i}"} for i in range(4)]),
        ("PATCH", World.compat_application_path, [{"name": f"racer {i}"} for i in range(4)]),
    ],
)
async def test_of_writers_racing_with_the_same_tag_exactly_one_wins(
    client, world, method, where, bodies
):
    tag, _ = await read(client, world, where(world))
    answers = await asyncio.gather(
        *(
            client.request(method, where(world), json=body, headers=world.headers(tag))
            for body in bodies
        )
    )
    assert sorted(r.status_code for r in answers) == [200, 412, 412, 412]
    [winner] = [r for r in answers if r.status_code == 200]
    new_tag, current = await read(client, world, where(world))
    assert current["name"] == winner.json()["name"]
    assert winner.headers["etag"] == new_tag


async def test_of_a_delete_and_a_write_racing_with_the_same_tag_one_wins(client, world):
    tag, _ = await read(client, world, world.trunk_path(world.spare_trunk))
    put, remove = await asyncio.gather(
        replace_trunk(client, world, world.headers(tag)),
        delete_trunk(client, world, world.headers(tag)),
    )
    assert sorted([put.status_code, remove.status_code]) in ([200, 404], [200, 412])
    r = await client.get(world.trunk_path(world.spare_trunk), headers=world.headers())
    if remove.status_code == 200:
        assert_error(r, 404)
    else:
        assert r.json()["name"] == "replaced"


# --- OpenAPI ------------------------------------------------------------------------------------

ONE_NUMBER = "/v1/account/{account_id}/numbers/{e164}"
ONE_TRUNK = "/v1/account/{account_id}/trunks/{trunk_id}"
ONE_APPLICATION = "/v1/account/{account_id}/applications/{app_id}"
COMPAT_APPLICATION = "/v1/voice/applications/{app_id}"
TAGGED_READS = [ONE_NUMBER, ONE_TRUNK, ONE_APPLICATION, COMPAT_APPLICATION]
PRECONDITIONED_WRITES = [
    ("post", ONE_NUMBER + "/assign"),
    ("delete", ONE_NUMBER + "/assign"),
    ("post", ONE_NUMBER + "/application"),
    ("delete", ONE_NUMBER + "/application"),
    ("delete", ONE_NUMBER),
    ("post", ONE_NUMBER + "/cancel-release"),
    ("put", ONE_TRUNK),
    ("delete", ONE_TRUNK),
    ("patch", ONE_APPLICATION),
    ("patch", COMPAT_APPLICATION),
    ("delete", ONE_APPLICATION),
]


@pytest.fixture
async def spec(client) -> dict[str, Any]:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


async def test_openapi_documents_the_etag_of_single_object_reads(spec):
    for path in TAGGED_READS:
        header = spec["paths"][path]["get"]["responses"]["200"]["headers"]["ETag"]
        assert header["schema"]["type"] == "string", path


async def test_openapi_documents_if_match_and_412_on_each_write(spec):
    for method, path in PRECONDITIONED_WRITES:
        operation = spec["paths"][path][method]
        [header] = [p for p in operation["parameters"] if p["in"] == "header"]
        assert (header["name"], header["required"]) == ("If-Match", False), (method, path)
        assert "412" in operation["responses"], (method, path)
    others = [
        (method, path)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if (method, path) not in PRECONDITIONED_WRITES
        and any(p["name"] == "If-Match" for p in operation.get("parameters", []))
    ]
    assert others == []
