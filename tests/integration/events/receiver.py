"""A real HTTP receiver for webhook deliveries, on 127.0.0.1 only, in a thread.

It records every request it gets (headers, raw body) and answers with the status its
``respond`` function chooses; the default answers ``200`` to everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it, and what it answered."""

    headers: dict[str, str]  # names in lower case
    body: bytes
    status: int

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def event_id(self) -> str:
        return str(self.event["id"])


Respond = Callable[[dict[str, Any], int], int]
"""(event, how many times this event id was received before) -> status to answer."""


def always(status: int) -> Respond:
    return lambda _event, _seen: status


def fail_first(times: int, *, only: set[str] | None = None, status: int = 500) -> Respond:
    """Answer ``status`` to the first ``times`` requests for each event (or each event in
    ``only``), then ``200``."""

    def respond(event: dict[str, Any], seen: int) -> int:
        if only is not None and event["id"] not in only:
            return 200
        return status if seen < times else 200

    return respond


class Receiver:
    """``with Receiver() as receiver: ... receiver.url ...``"""

    def __init__(self, respond: Respond | None = None, *, delay: float = 0.0) -> None:
        self.respond = respond or always(200)
        self.delay = delay
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/vox"

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def accepted(self) -> list[Received]:
        """Requests answered with a 2xx, in arrival order."""
        return [r for r in self.snapshot() if 200 <= r.status < 300]

    async def wait_for_accepted(self, count: int) -> list[Received]:
        """Until ``count`` requests were accepted (bound it with ``asyncio.timeout``)."""
        while len(self.accepted()) < count:  # noqa: ASYNC110 - filled by another thread
            await asyncio.sleep(0.02)
        return self.accepted()

    def _record(self, headers: dict[str, str], body: bytes) -> int:
        event = json.loads(body)
        with self._lock:
            seen = sum(1 for r in self.received if r.event_id == event["id"])
            status = self.respond(event, seen)
            self.received.append(Received(headers=headers, body=body, status=status))
        return status

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if receiver.delay:
                    time.sleep(receiver.delay)
                headers = {name.lower(): value for name, value in self.headers.items()}
                status = receiver._record(headers, body)
                with contextlib.suppress(OSError):  # the sender may have given up
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")

            def log_message(self, *_: Any) -> None:
                pass

        return Handler
