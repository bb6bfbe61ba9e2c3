"""The README's examples, run as a user pastes them, against a real ``vox serve``.

The "Try it" block runs in bash after the ``export`` line the server printed, with
``set -euo pipefail`` and ``--fail-with-body`` added to every curl but the one that is there
to show an error; every command must succeed and print JSON. The operator's block runs with
this virtualenv's ``vox`` on the server's database, its placeholders (``acc_…``, ``key_…``)
replaced by what the previous commands printed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.support import assert_error
from tests.e2e.conftest import VOX, VoxServer

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"
PLACEHOLDER = "…"
_ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*)=")
_CURL = re.compile(r"(?<![\w-])curl ")


@dataclass(frozen=True)
class Command:
    """One command of a README block (continuation lines joined) and the comment above it."""

    text: str
    comment: str

    @property
    def shows_an_error(self) -> bool:
        return "error" in self.comment.lower()


def readme_blocks(heading: str) -> list[str]:
    """The ```sh blocks of one ``## `` section of the README."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```sh\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)


def commands(block: str) -> list[Command]:
    found: list[Command] = []
    comment, pending = "", ""
    for line in block.splitlines():
        if pending:
            pending += "\n" + line
        elif not line.strip():
            comment = ""  # a blank line ends the paragraph its comment speaks for
            continue
        elif line.lstrip().startswith("#"):
            comment += line.lstrip("# ") + "\n"
            continue
        else:
            pending = line
        if not pending.endswith("\\"):
            found.append(Command(pending, comment))
            pending = ""
    assert not pending, f"a README command ends in a continuation: {pending!r}"
    return found


def pasteable_env() -> dict[str, str]:
    """A user's shell: no VOX_* set yet (the block's first step is the banner's export)."""
    return {name: value for name, value in os.environ.items() if not name.startswith("VOX_")}


def paste(lines: list[str]) -> subprocess.CompletedProcess[str]:
    """Run lines in bash as a careful user would paste them: stop at the first failure."""
    assert shutil.which("curl"), "the README's examples need curl on PATH"
    return subprocess.run(
        ["bash", "-c", "\n".join(["set -euo pipefail", *lines])],
        env=pasteable_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def json_of(output: str) -> Any:
    try:
        return json.loads(output)
    except ValueError:
        pytest.fail(f"not JSON: {output!r}")


def test_the_banner_curl_line_works_as_pasted(demo_server: VoxServer) -> None:
    lines = [line for line in demo_server.demo.text.splitlines() if line.startswith("curl ")]
    assert len(lines) == 1, demo_server.demo.text
    run = paste(lines)
    assert run.returncode == 0, run.stderr
    page = json_of(run.stdout)
    assert page["pagination"]["total"] >= 1 and page["data"]


def test_the_readme_links_answer(demo_server: VoxServer) -> None:
    """The API reference at /docs and the OpenAPI 3.1 description at /openapi.json."""
    docs = httpx.get(f"{demo_server.base_url}/docs")
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
    description = httpx.get(f"{demo_server.base_url}/openapi.json")
    assert description.status_code == 200
    assert description.json()["openapi"].startswith("3.1")


def test_the_try_it_block_runs_as_pasted(
    demo_server: VoxServer, api: httpx.Client, tmp_path: Path
) -> None:
    block = commands(readme_blocks("Try it")[0])
    demo = demo_server.demo
    export = demo.export_line or (
        f"export VOX_ACCOUNT_ID={demo.account_id} VOX_API_KEY={demo.key}"
        f" VOX_BASE_URL={demo_server.base_url}"
    )
    script = [export]
    outputs: dict[int, Command] = {}
    for index, command in enumerate(block):
        if PLACEHOLDER in command.text:
            assert command.text.startswith("export "), f"a placeholder in {command.text!r}"
            continue  # the stand-in for the line the banner printed
        text = command.text
        if not command.shows_an_error:
            text = _CURL.sub("curl --fail-with-body --show-error ", text)
        output = shlex.quote(str(tmp_path / str(index)))
        if assignment := _ASSIGNMENT.match(text):
            script += [text, f'printf %s "${assignment.group(1)}" > {output}']
        else:
            assert text.startswith("curl "), f"not a curl command: {text!r}"
            script.append(f"{{\n{text}\n}} > {output}")
        outputs[index] = command
    run = paste(script)
    assert run.returncode == 0, f"the Try it block failed:\n{run.stderr}"

    values: dict[str, str] = {}
    curls = 0
    for index, command in outputs.items():
        printed = (tmp_path / str(index)).read_bytes().decode()  # keeps the \r\n of headers
        if assignment := _ASSIGNMENT.match(command.text):
            values[assignment.group(1)] = printed
        elif command.shows_an_error:
            assert_shows_an_error(printed)
        else:
            curls += 1
            assert "error" not in json_of(printed), (command.text, printed)
    assert curls >= 15, "the Try it block was not found whole"
    assert re.fullmatch(r"\+\d{8,15}", values["E164"]), values
    assert values["BASE"] == demo_server.account_url
    assert values["TRUNK"].startswith("trunk_") and values["APP"].startswith("app_")
    # What the block did, seen through the API: the number is the account's, active again.
    number = api.get(f"/numbers/{values['E164']}")
    assert number.status_code == 200 and number.json()["status"] == "active"


def assert_shows_an_error(printed: str) -> None:
    """The envelope, and (when the command prints headers) its request id in X-Request-ID."""
    head, body = "", printed
    if printed.startswith("HTTP/"):
        head, _, body = printed.partition("\r\n\r\n")
    error = json_of(body)["error"]
    assert error["code"] == "VALIDATION_FAILED" and error["request_id"].startswith("req_")
    if head:
        assert head.split()[1] == "400", head
        headers = dict(line.split(": ", 1) for line in head.splitlines()[1:])
        assert {name.lower(): value for name, value in headers.items()}["x-request-id"] == (
            error["request_id"]
        )


def test_the_vox_command_works_with_the_exported_variables(demo_server: VoxServer) -> None:
    """The banner's export line is also what the ``vox`` client commands read."""
    env = {**pasteable_env(), **demo_server.demo.exports}
    listed = subprocess.run(
        [str(VOX), "numbers", "list", "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    numbers = json_of(listed.stdout)
    assert numbers and {number["status"] for number in numbers} <= {
        "active",
        "pending",
        "suspended",
    }


def test_the_operator_block_runs_as_pasted(demo_server: VoxServer, api: httpx.Client) -> None:
    """Every command of the operator's block, in its order, with what each one changed."""
    found = [shlex.split(c.text, comments=True) for c in commands(readme_blocks("Try it")[1])]
    assert all(argv[:2] == ["./dev", "vox"] for argv in found), found
    (demo_server.workdir / "for-sale.csv").write_text(
        "e164,monthly_fee,needs_provisioning\n+14155550123,1.25,true\n"
    )
    filled: dict[str, str] = {}
    ran = []
    for argv in found:
        args = [filled.get(arg, arg) for arg in argv[2:]]
        assert not any(PLACEHOLDER in arg for arg in args), args
        printed = demo_server.vox(*args).stdout
        ran.append(check_operator_command(args, printed, demo_server, api, filled))
    assert ran == [
        "accounts create",
        "keys create",
        "keys list",
        "keys revoke",
        "inventory import",
        "numbers activate",
        "numbers suspend",
        "numbers reinstate",
        "migrate",
    ]


def check_operator_command(
    args: list[str], printed: str, server: VoxServer, api: httpx.Client, filled: dict[str, str]
) -> str:
    """What one operator command printed and changed (``filled`` learns the ids it printed)."""
    what = " ".join(args[1:3]) if args[0] == "admin" else args[0]
    if what == "accounts create":
        filled["acc_…"] = printed.strip()
        assert re.fullmatch(r"acc_[0-9a-z]+", filled["acc_…"]), printed
    elif what == "keys create":
        key = re.search(r"\btvx_sk_live_\w+", printed)
        key_id = re.search(r"\bkey_[0-9a-z]+\b", printed)
        assert key and key_id, printed
        filled["key_…"], filled["secret"] = key_id.group(0), key.group(0)
        assert _as_new_account(server, filled).json()["pagination"]["total"] == 0
    elif what == "keys list":
        assert "live" in printed and "key_" in printed, printed
    elif what == "keys revoke":
        assert filled["key_…"] in printed, printed
        assert_error(_as_new_account(server, filled), 401)
    elif what == "inventory import":
        assert "1 added" in printed, printed
        # The import is live inventory: a live key of the demo account buys from it (the demo
        # key is a test key, which never sees live inventory).
        created = server.vox("admin", "keys", "create", "--account", server.account_id).stdout
        live_key = re.search(r"\btvx_sk_live_\w+", created)
        assert live_key, created
        filled["live"] = live_key.group(0)
        bought = api.post(
            "/numbers/purchase-from-inventory",
            json={"e164": "+14155550123", "country": "US"},
            headers={"Authorization": f"Bearer {filled['live']}"},
        )
        assert bought.status_code == 201 and bought.json()["status"] == "pending", bought.text
    elif what.startswith("numbers "):
        status = {"activate": "active", "suspend": "suspended", "reinstate": "active"}[args[2]]
        assert f"+14155550123 is now {status}" in printed, printed
        live = {"Authorization": f"Bearer {filled['live']}"}
        assert api.get("/numbers/+14155550123", headers=live).json()["status"] == status
    elif what == "migrate":
        assert "up to date" in printed, printed
    return what


def _as_new_account(server: VoxServer, filled: dict[str, str]) -> httpx.Response:
    return httpx.get(
        f"{server.base_url}/v1/account/{filled['acc_…']}/numbers",
        headers={"Authorization": f"Bearer {filled['secret']}"},
    )


def test_keys_list_shows_whole_key_ids_in_80_columns(demo_server: VoxServer) -> None:
    listed = demo_server.vox(
        "admin", "keys", "list", "--account", demo_server.account_id, env={"COLUMNS": "80"}
    )
    assert re.search(r"\bkey_[0-9a-z]{16}\b", listed.stdout), listed.stdout  # new_id's length
