"""The ``vox`` user commands, run through Typer's test runner against the fake API."""

from __future__ import annotations

import csv
import importlib.metadata
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from fake_api import ACCOUNT_ID, API_KEY, DualStream, FakeTryVox
from typer.testing import CliRunner, Result

from conftest import raw_target
from voxnumbers_client import Client, __version__
from voxnumbers_client.cli import build_app

ENV = {"VOX_API_KEY": API_KEY, "VOX_ACCOUNT_ID": ACCOUNT_ID, "VOX_BASE_URL": ""}
Vox = Callable[..., Result]


@pytest.fixture
def vox(fake: FakeTryVox, sleeps: list[float]) -> Vox:
    """Run ``vox ARGS…`` with a client bound to the fake API; stdout is not a terminal."""

    def factory(
        api_key: str | None = None, *, account_id: str | None, base_url: str | None
    ) -> Client:
        return Client(api_key, account_id=account_id, base_url=base_url, transport=fake.transport)

    app = build_app(client_factory=factory, load_plugins=False)

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner().invoke(app, list(args), input=input, env={**ENV, **(env or {})})

    return run


def runner() -> CliRunner:
    """A runner keeping stderr apart from stdout (the default of newer Typer/Click)."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


def params(fake: FakeTryVox, index: int = -1) -> list[tuple[str, str]]:
    return list(fake.requests[index].url.params.multi_items())


# -- output formats ------------------------------------------------------------------------


def test_list_prints_json_when_piped(vox: Vox) -> None:
    rows = json.loads(ok(vox("numbers", "list")).stdout)
    assert len(rows) == 20
    assert rows[0]["e164"] == "+12125552000"
    assert rows[0]["monthly_fee"] == 1.25


def test_list_as_a_table(vox: Vox) -> None:
    result = ok(vox("numbers", "list", "--per-page", "3", "--output", "table"))
    header, *lines = result.stdout.strip().splitlines()
    assert header.split()[:3] == ["e164", "country", "type"]
    assert [line.split()[0] for line in lines] == ["+12125552000", "+12125552001", "+12125552002"]
    assert "Page 1 of 16 (47 numbers)" in result.stderr


def test_list_as_csv(vox: Vox) -> None:
    result = ok(vox("numbers", "list", "--country", "IN", "--output", "csv"))
    (row,) = csv.DictReader(io.StringIO(result.stdout))
    assert row["e164"] == "+919876543210"
    assert row["capabilities"] == "voice|sms"
    assert row["trunk_id"] == "" and row["application_id"] == "app_xyz789"


def test_filters_become_query_parameters(vox: Vox, fake: FakeTryVox) -> None:
    ok(
        vox(
            "numbers",
            "list",
            "--country",
            "us",
            "--status",
            "active",
            "--type",
            "local",
            "--capability",
            "voice",
            "--capability",
            "sms",
            "--unrouted",
            "--sort",
            "-e164",
            "--page",
            "2",
            "--per-page",
            "5",
        )
    )
    assert params(fake) == [
        ("country", "us"),
        ("status", "active"),
        ("type", "local"),
        ("capability", "voice"),
        ("capability", "sms"),
        ("routed", "false"),
        ("sort", "-e164"),
        ("page", "2"),
        ("per_page", "5"),
    ]


def test_list_flags_carry_the_api_names(vox: Vox, fake: FakeTryVox) -> None:
    ok(
        vox(
            "numbers",
            "list",
            "--trunk-id",
            "trunk_a",
            "--created-after",
            "2025-01-01T00:00:00Z",
            "--created-before",
            "2026-01-01T00:00:00Z",
            "--updated-since",
            "2025-06-01T00:00:00Z",
            "--cursor",
            "bzoyMA==",
        )
    )
    ok(vox("numbers", "list", "--trunk", "trunk_b", "--application", "app_c"))
    ok(vox("events", "list", "--number", "+14155551234"))
    assert [raw_target(r).split("?")[1] for r in fake.requests] == [
        "trunk_id=trunk_a&created_after=2025-01-01T00%3A00%3A00Z"
        "&created_before=2026-01-01T00%3A00%3A00Z&updated_since=2025-06-01T00%3A00%3A00Z"
        "&cursor=bzoyMA%3D%3D",
        "trunk_id=trunk_b&application_id=app_c&cursor=",
        "e164=%2B14155551234",
    ]


def test_limit_walks_until_enough(vox: Vox, fake: FakeTryVox) -> None:
    rows = json.loads(ok(vox("numbers", "list", "--limit", "25", "--per-page", "10")).stdout)
    assert len(rows) == 25 == len({r["e164"] for r in rows})
    assert len(fake.requests) == 3  # pages of 10: the third reaches the limit
    rows = json.loads(ok(vox("numbers", "list", "--limit", "3")).stdout)
    assert len(rows) == 3 and params(fake)[-2:] == [("per_page", "3"), ("cursor", "")]


def test_all_walks_every_page(vox: Vox, fake: FakeTryVox) -> None:
    rows = json.loads(ok(vox("numbers", "list", "--all", "--per-page", "20")).stdout)
    assert len(rows) == 47 == len({r["e164"] for r in rows})
    # By cursor: the first page with an empty one, then each page's next_cursor.
    assert [r.url.params.get("page") for r in fake.requests] == [None, None, None]
    assert [r.url.params.get("cursor") for r in fake.requests] == ["", "bzoyMA==", "bzo0MA=="]


def test_all_uses_full_pages_by_default(vox: Vox, fake: FakeTryVox) -> None:
    rows = json.loads(ok(vox("numbers", "list", "--all")).stdout)
    assert len(rows) == 47
    assert params(fake) == [("per_page", "100"), ("cursor", "")]


def test_get_prints_one_object(vox: Vox) -> None:
    number = json.loads(ok(vox("numbers", "get", "+14155551234")).stdout)
    assert (number["e164"], number["trunk_id"]) == ("+14155551234", "trunk_abc123")
    table = ok(vox("numbers", "get", "+14155551234", "--output", "table")).stdout
    assert "trunk_abc123" in table and "region" in table


# -- errors --------------------------------------------------------------------------------


def test_api_errors_exit_1_with_message_and_request_id(vox: Vox) -> None:
    result = vox("numbers", "get", "+15550000000")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "This number was not found." in result.stderr
    assert "NOT_FOUND" in result.stderr and "request id: req_" in result.stderr


def test_validation_details_are_printed(vox: Vox) -> None:
    result = vox("numbers", "list", "--status", "lost")
    assert result.exit_code == 1
    assert "status: must be one of" in result.stderr


def test_missing_api_key_is_a_usage_error(vox: Vox) -> None:
    result = vox("numbers", "list", env={"VOX_API_KEY": ""})
    assert result.exit_code == 2
    assert "VOX_API_KEY" in result.stderr


def test_connection_errors_exit_1(vox: Vox, fake: FakeTryVox) -> None:
    fake.disconnect_next(times=3)
    result = vox("numbers", "list")
    assert result.exit_code == 1
    assert "Could not reach the API" in result.stderr


def test_global_options_override_the_environment(vox: Vox, fake: FakeTryVox) -> None:
    result = vox("--account", "acc_other", "numbers", "list")
    assert result.exit_code == 1 and "FORBIDDEN" in result.stderr
    assert fake.requests[0].url.path.startswith("/v1/account/acc_other/")


# -- numbers -------------------------------------------------------------------------------


def test_buy(vox: Vox, fake: FakeTryVox) -> None:
    number = json.loads(ok(vox("numbers", "buy", "+16465553004", "--country", "US")).stdout)
    assert number["status"] == "pending"
    assert json.loads(fake.requests[-1].content) == {"e164": "+16465553004", "country": "US"}


def test_buy_passes_the_idempotency_key(vox: Vox, fake: FakeTryVox) -> None:
    ok(vox("numbers", "buy", "+16465553000", "--country", "US", "--idempotency-key", "k-1"))
    assert fake.requests[-1].headers["Idempotency-Key"] == "k-1"


def test_assign_to_a_trunk_or_an_application(vox: Vox, fake: FakeTryVox) -> None:
    routed = json.loads(
        ok(vox("numbers", "assign", "+919876543210", "--trunk", "trunk_abc123")).stdout
    )
    assert (routed["trunk_id"], routed["application_id"]) == ("trunk_abc123", None)
    routed = json.loads(
        ok(vox("numbers", "assign", "+919876543210", "--application", "app_xyz789")).stdout
    )
    assert fake.requests[-1].url.path.endswith("/application")
    assert routed["application_id"] == "app_xyz789"


def test_assign_needs_exactly_one_target(vox: Vox) -> None:
    assert vox("numbers", "assign", "+919876543210").exit_code == 2
    both = vox("numbers", "assign", "+919876543210", "--trunk", "t", "--application", "a")
    assert both.exit_code == 2


def test_unassign_removes_whichever_route_is_set(vox: Vox, fake: FakeTryVox) -> None:
    routed = json.loads(ok(vox("numbers", "unassign", "+919876543210")).stdout)
    assert (fake.requests[-1].method, fake.requests[-1].url.path) == (
        "DELETE",
        "/v1/account/acc_123abc/numbers/+919876543210/application",
    )
    assert routed["application_id"] is None
    ok(vox("numbers", "unassign", "+14155551234"))
    assert fake.requests[-1].url.path.endswith("/assign")


def test_release_asks_first(vox: Vox, fake: FakeTryVox) -> None:
    declined = vox("numbers", "release", "+14155551234", input="n\n")
    assert declined.exit_code == 1
    assert "Early termination fee 25" in declined.stderr
    assert declined.stderr.endswith("Nothing was changed.\n")
    assert [r.method for r in fake.requests] == ["GET"]

    unanswered = vox("numbers", "release", "+14155551234", input="")
    assert unanswered.exit_code == 1
    assert unanswered.stderr.splitlines()[-1] == (
        "Error: no answer to the question above (input is not a terminal); "
        "pass --yes to go ahead without being asked."
    )
    assert "Aborted" not in unanswered.stderr + unanswered.stdout
    assert [r.method for r in fake.requests] == ["GET", "GET"]

    accepted = ok(vox("numbers", "release", "+14155551234", input="y\n")).stdout
    # The test runner echoes the typed "y" to stdout; a terminal would show it instead.
    assert json.loads(accepted[accepted.index("{") :])["status"] == "released"


def test_release_with_yes_and_cancel(vox: Vox, fake: FakeTryVox) -> None:
    ok(vox("numbers", "release", "+14155551234", "--yes"))
    assert fake.numbers["+14155551234"]["status"] == "released"
    restored = json.loads(ok(vox("numbers", "cancel-release", "+14155551234")).stdout)
    assert restored["status"] == "active"


def test_release_preview_changes_nothing(vox: Vox, fake: FakeTryVox) -> None:
    preview = json.loads(ok(vox("numbers", "release", "+14155551234", "--preview")).stdout)
    assert preview["can_release"] is True
    assert [r.method for r in fake.requests] == ["GET"]


def test_export_to_a_file(vox: Vox, fake: FakeTryVox, tmp_path: Path) -> None:
    target = tmp_path / "numbers.csv"
    result = ok(vox("numbers", "export", "--format", "csv", "-o", str(target), "--country", "US"))
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert len(rows) == 46
    assert "Exported 46 numbers" in result.stderr
    assert params(fake) == [("format", "csv"), ("country", "US")]
    assert not (tmp_path / "numbers.csv.part").exists()


def test_export_ndjson_to_stdout(vox: Vox) -> None:
    result = ok(vox("numbers", "export", "--format", "ndjson", "--status", "suspended"))
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {r["status"] for r in rows} == {"suspended"} and len(rows) == 4


def test_a_failed_export_leaves_no_file(vox: Vox, tmp_path: Path) -> None:
    target = tmp_path / "numbers.csv"
    result = vox("numbers", "export", "-o", str(target), "--status", "lost")
    assert result.exit_code == 1
    assert not target.exists() and not (tmp_path / "numbers.csv.part").exists()


def test_an_export_cut_short_leaves_no_file(vox: Vox, fake: FakeTryVox, tmp_path: Path) -> None:
    original = fake.export_numbers

    def cut_short(call: Any) -> Any:
        response = original(call)
        rows = iter(response.stream)

        def chunks() -> Iterator[bytes]:
            yield next(rows)
            raise httpx.ReadError("connection reset", request=call.request)

        return httpx.Response(200, stream=DualStream(chunks))

    fake.export_numbers = cut_short  # type: ignore[method-assign]
    target = tmp_path / "numbers.csv"
    result = vox("numbers", "export", "-o", str(target))
    assert result.exit_code == 1 and "Could not reach the API" in result.stderr
    assert list(tmp_path.iterdir()) == []


# -- the other groups ----------------------------------------------------------------------


def test_inventory_search(vox: Vox, fake: FakeTryVox) -> None:
    rows = json.loads(ok(vox("inventory", "search", "--type", "toll_free", "--all")).stdout)
    assert [r["type"] for r in rows] == ["toll_free"] * 5
    assert params(fake) == [("type", "toll_free"), ("per_page", "100")]


def test_trunks(vox: Vox, fake: FakeTryVox) -> None:
    created = json.loads(
        ok(
            vox(
                "trunks",
                "create",
                "--name",
                "Edge",
                "--auth-type",
                "ip",
                "--origination-uri",
                "sip:a.example",
                "--max-channels",
                "4",
            )
        ).stdout
    )
    trunk_id = created["id"]
    assert created["origination_uris"] == ["sip:a.example"] and created["max_channels"] == 4
    assert [t["id"] for t in json.loads(ok(vox("trunks", "list")).stdout)] == [
        "trunk_abc123",
        trunk_id,
    ]
    assert json.loads(ok(vox("trunks", "get", trunk_id)).stdout)["name"] == "Edge"
    replaced = json.loads(
        ok(
            vox("trunks", "replace", trunk_id, "--name", "Edge2", "--auth-type", "credential")
        ).stdout
    )
    assert (replaced["name"], replaced["max_channels"]) == ("Edge2", 0)
    ok(vox("trunks", "delete", trunk_id, "--yes"))
    assert trunk_id not in fake.trunks


def test_deleting_a_routed_trunk_needs_force(vox: Vox, fake: FakeTryVox) -> None:
    refused = vox("trunks", "delete", "trunk_abc123", "--yes")
    assert refused.exit_code == 1 and "CONFLICT" in refused.stderr
    ok(vox("trunks", "delete", "trunk_abc123", "--yes", "--force"))
    assert fake.requests[-1].url.params["force"] == "true"


def test_trunk_credentials(vox: Vox, fake: FakeTryVox) -> None:
    created = json.loads(
        ok(
            vox(
                "trunks",
                "credentials",
                "create",
                "trunk_abc123",
                "--username",
                "alice",
                input="long-enough-pw\nlong-enough-pw\n",
            )
        ).stdout
    )
    assert json.loads(fake.requests[-1].content)["password"] == "long-enough-pw"
    assert "long-enough-pw" not in json.dumps(created)
    listed = json.loads(ok(vox("trunks", "credentials", "list", "trunk_abc123")).stdout)
    assert [c["username"] for c in listed] == ["alice"]
    ok(vox("trunks", "credentials", "delete", "trunk_abc123", created["id"], "--yes"))
    short = vox(
        "trunks",
        "credentials",
        "create",
        "trunk_abc123",
        "--username",
        "bob",
        "--password",
        "short",
    )
    assert short.exit_code == 1 and "password: must be at least 12" in short.stderr


def test_trunk_ip_acl(vox: Vox) -> None:
    entry = json.loads(
        ok(
            vox(
                "trunks",
                "ip-acl",
                "create",
                "trunk_abc123",
                "--ip",
                "198.51.100.4",
                "--mask",
                "30",
                "--description",
                "office",
            )
        ).stdout
    )
    assert entry["cidr"] == "198.51.100.4/30"
    table = ok(vox("trunks", "ip-acl", "list", "trunk_abc123", "--output", "table")).stdout
    assert "198.51.100.4/30" in table
    ok(vox("trunks", "ip-acl", "delete", "trunk_abc123", entry["id"], "--yes"))


def test_applications(vox: Vox, fake: FakeTryVox) -> None:
    created = json.loads(
        ok(
            vox(
                "applications", "create", "--name", "Sales", "--answer-url", "https://example.com/a"
            )
        ).stdout
    )
    app_id = created["id"]
    assert json.loads(ok(vox("applications", "get", app_id)).stdout)["name"] == "Sales"
    updated = json.loads(
        ok(vox("applications", "update", app_id, "--hangup-url", "https://example.com/h")).stdout
    )
    assert json.loads(fake.requests[-1].content) == {"hangup_url": "https://example.com/h"}
    assert updated["hangup_url"] == "https://example.com/h"
    assert vox("applications", "update", app_id).exit_code == 2
    assert len(json.loads(ok(vox("applications", "list")).stdout)) == 2
    ok(vox("applications", "delete", app_id, "--yes"))
    assert app_id not in fake.applications


def test_webhooks(vox: Vox, fake: FakeTryVox) -> None:
    result = ok(
        vox(
            "webhooks",
            "create",
            "--url",
            "https://example.com/h",
            "--event-type",
            "number.released",
        )
    )
    created = json.loads(result.stdout)
    assert created["secret"].startswith("whsec_")
    assert "not shown again" in result.stderr
    assert json.loads(fake.requests[-1].content)["event_types"] == ["number.released"]
    assert [h["id"] for h in json.loads(ok(vox("webhooks", "list")).stdout)] == [created["id"]]
    assert json.loads(ok(vox("webhooks", "get", created["id"])).stdout)["secret"] is None
    ok(vox("webhooks", "delete", created["id"], "--yes"))
    assert fake.webhooks == {}


def test_events(vox: Vox, fake: FakeTryVox) -> None:
    ok(vox("numbers", "release", "+14155551234", "--yes"))
    events = json.loads(
        ok(vox("events", "list", "--type", "number.released", "--number", "+14155551234")).stdout
    )
    assert [e["type"] for e in events] == ["number.released"]
    assert params(fake) == [("type", "number.released"), ("e164", "+14155551234")]


# -- the root app and plugins --------------------------------------------------------------


def test_version(vox: Vox) -> None:
    assert ok(vox("--version")).stdout.strip() == f"vox {__version__}"


def test_every_command_has_help(vox: Vox) -> None:
    command = typer.main.get_command(build_app(load_plugins=False))
    paths = _command_paths(command)
    assert ("numbers", "list") in paths and ("trunks", "credentials", "create") in paths
    for path in paths:
        result = ok(vox(*path, "--help"))
        assert "Usage" in result.stdout


class _EntryPoint:
    def __init__(self, name: str, register: Callable[[typer.Typer], None]) -> None:
        self.name, self._register = name, register

    def load(self) -> Callable[[typer.Typer], None]:
        return self._register


def _broken(app: typer.Typer) -> None:
    raise ImportError("missing dependency")


def _operator(app: typer.Typer) -> None:
    @app.command("serve")
    def serve() -> None:
        typer.echo("serving")


def test_plugins_add_commands_and_a_broken_one_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plugins = [_EntryPoint("broken", _broken), _EntryPoint("operator", _operator)]
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: plugins)
    result = runner().invoke(build_app(), ["serve"])
    assert result.exit_code == 0 and result.stdout == "serving\n"
    assert "plugin 'broken' could not be loaded: missing dependency" in result.stderr


def test_plugins_are_not_loaded_for_user_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_scan(group: str) -> list[_EntryPoint]:
        raise AssertionError("plugins were looked up")

    monkeypatch.setattr(importlib.metadata, "entry_points", no_scan)
    result = runner().invoke(build_app(), ["--version"])
    assert result.exit_code == 0 and result.stdout == f"vox {__version__}\n"
    result = runner().invoke(build_app(), ["numbers", "--help"])
    assert result.exit_code == 0 and "list" in result.stdout


def test_the_root_app_works_without_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [])
    result = runner().invoke(build_app(), ["--help"])
    assert result.exit_code == 0 and "numbers" in result.stdout


def _command_paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    ctx = typer.Context(command)
    for name in getattr(command, "list_commands", lambda ctx: [])(ctx):
        sub = command.get_command(ctx, name)
        paths.append((*prefix, name))
        paths.extend(_command_paths(sub, (*prefix, name)))
    return paths
