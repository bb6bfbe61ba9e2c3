"""Malformed HTTP sent to a real ``vox serve`` over a raw socket, as a hostile client sends
it (docs/operations.md, "Malformed requests").

What the HTTP server parses before the application sees the request (the request line, the
header block, ``Content-Length``) it refuses itself: a 4xx without a body, and the
connection closed. What reaches the application (a body that ends early or has a malformed
chunk, a body too large on any method) is answered in the error envelope, and never logged
as a 5xx. And a second server on a port already in use refuses to start.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import VOX, VoxServer, server_environment

pytestmark = pytest.mark.e2e

ANSWER_SECONDS = 10.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoxServer]:
    """``vox serve`` on SQLite with its access log on (``info``)."""
    env = {**server_environment(""), "VOX_LOG_LEVEL": "info"}
    served = VoxServer(tmp_path_factory.mktemp("malformed"), env)
    try:
        served.start()
        yield served
        served.stop()
    finally:
        served.kill()


def exchange(server: VoxServer, request: bytes, *, close_after_sending: bool = False) -> bytes:
    """Send ``request`` as is; everything the server answers until it closes the connection
    (a test that times out here means the server kept it open)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=ANSWER_SECONDS) as conn:
        conn.sendall(request)
        if close_after_sending:
            conn.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
        return answer


def status_of(answer: bytes) -> int:
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", answer)
    assert match, answer[:200]
    return int(match[1])


def envelope_of(answer: bytes) -> dict[str, object]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower(), head
    error = json.loads(body)["error"]
    assert isinstance(error, dict)
    request_id = re.search(rb"(?i)x-request-id: (\S+)", head)
    assert request_id and error["request_id"] == request_id[1].decode(), answer
    return error


def head(server: VoxServer, method: str, path: str, *headers: str) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Authorization: Bearer {server.key}",
        "Connection: close",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def server_errors_logged(server: VoxServer) -> list[str]:
    return [line for line in server.stderr().splitlines() if re.search(r'"status": 5\d\d', line)]


# --- answered by the HTTP server, before the application -------------------------------------

REFUSED_BY_THE_SERVER = {
    "not a request line": b"GARBAGE\r\n\r\n",
    "request line with extra words": b"GET /healthz HTTP/1.1 extra\r\nHost: x\r\n\r\n",
    "unknown HTTP version": b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n",
    "header without a colon": b"GET /healthz HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
    "negative Content-Length": (b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"),
    "Content-Length not a number": (
        b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n"
    ),
    "control character in a header": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n",
    "NUL in a header": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
    "500 headers": b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
    + b"".join(b"X-Header-%d: value\r\n" % i for i in range(500))
    + b"\r\n",
}


@pytest.mark.parametrize("request_bytes", REFUSED_BY_THE_SERVER.values(), ids=REFUSED_BY_THE_SERVER)
def test_malformed_http_is_a_4xx_and_the_connection_closed(
    server: VoxServer, request_bytes: bytes
) -> None:
    answer = exchange(server, request_bytes)  # returns once the server has closed
    assert 400 <= status_of(answer) < 500, answer[:300]
    assert b"\r\nconnection: close\r\n" in answer.lower(), answer[:300]
    assert not server_errors_logged(server)


# --- answered by the application, in the envelope ------------------------------------------


def new_trunk(server: VoxServer, framing: str) -> bytes:
    """The head of a request creating a trunk, its body framed by ``framing``."""
    path = f"/v1/account/{server.account_id}/trunks"
    return head(server, "POST", path, "Content-Type: application/json", framing)


def test_a_garbage_chunk_is_400_on_body(server: VoxServer) -> None:
    request = new_trunk(server, "Transfer-Encoding: chunked")
    answer = exchange(server, request + b"ZZ\r\nabc\r\n0\r\n\r\n")
    assert status_of(answer) == 400, answer
    error = envelope_of(answer)
    assert error["code"] == "VALIDATION_FAILED"
    assert error["details"] == [{"field": "body", "reason": "ended before it was complete"}]
    assert not server_errors_logged(server)


def test_a_client_closing_before_its_content_length_leaves_no_5xx(server: VoxServer) -> None:
    request = new_trunk(server, "Content-Length: 100")
    exchange(server, request + b'{"name":1', close_after_sending=True)
    with server.client() as api:  # the server carries on, and has logged the request
        assert api.get("/trunks").status_code == 200
    assert '"path": "/v1/account/' in server.stderr()
    assert not server_errors_logged(server)


@pytest.mark.parametrize("framing", ["Content-Length", "chunked"])
def test_a_get_with_70_kb_of_body_is_413(server: VoxServer, framing: str) -> None:
    body = b" " * 70_000
    if framing == "chunked":
        header, sent = "Transfer-Encoding: chunked", b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    else:
        header, sent = f"Content-Length: {len(body)}", body
    path = f"/v1/account/{server.account_id}/numbers"
    answer = exchange(server, head(server, "GET", path, header) + sent)
    assert status_of(answer) == 413, answer[:300]
    assert envelope_of(answer)["code"] == "PAYLOAD_TOO_LARGE"


# --- a port already in use -----------------------------------------------------------------


def serve_again(server: VoxServer, workdir: Path, *flags: str) -> subprocess.Popen[bytes]:
    """Another ``vox serve`` on the server's port, in ``workdir`` (its output in files
    there: ``serve.out``, ``serve.err``)."""
    with open(workdir / "serve.out", "wb") as out, open(workdir / "serve.err", "wb") as err:
        return subprocess.Popen(
            [str(VOX), "serve", "--port", str(server.port), *flags],
            cwd=workdir,
            env={**server.serve_environment(), "COLUMNS": "200"},
            stdout=out,
            stderr=err,
            start_new_session=True,
        )


def output(workdir: Path) -> str:
    return (workdir / "serve.out").read_text() + (workdir / "serve.err").read_text()


def test_a_second_server_on_a_port_in_use_refuses_to_start(
    server: VoxServer, tmp_path: Path
) -> None:
    second = serve_again(server, tmp_path)
    try:
        code = second.wait(60)
    finally:
        if second.poll() is None:
            second.kill()
    text = output(tmp_path)
    assert code == 1, text
    assert f"error: cannot listen on 127.0.0.1:{server.port}: Address already in use." in text
    assert "--share-port" in text
    assert not (tmp_path / "var").exists(), "it refused before touching its database"
    with server.client() as api:
        assert api.get("/numbers").status_code == 200


def test_a_second_server_shares_the_port_when_asked(server: VoxServer, tmp_path: Path) -> None:
    second = serve_again(server, tmp_path, "--share-port")
    try:
        deadline = time.monotonic() + 60
        # Listening, and its worker started: a server told to stop while its worker is
        # still starting waits out the worker's kill timeout (30 s) before it exits.
        while time.monotonic() < deadline and second.poll() is None:
            text = output(tmp_path)
            if f"Listening at: http://127.0.0.1:{server.port}" in text and "Started worker" in text:
                break
            time.sleep(0.2)
        assert second.poll() is None, output(tmp_path)
        assert "Listening at" in output(tmp_path), output(tmp_path)
        with server.client() as api:  # either server answers
            assert api.get("/numbers").status_code in (200, 401)
    finally:
        second.terminate()
        code = second.wait(60)
    assert code == 0, output(tmp_path)
    with server.client() as api:
        assert api.get("/numbers").status_code == 200
