"""Reference (a): the ceiling of the HTTP stack.

A bare ASGI application that answers each request from memory with the bytes the real
server answered for the same scenario (fetched once with httpx before measuring), served by
the same Granian with the same pinning. Whatever the real server costs above this is the
framework, the service and the database.

    BENCH_RESPONSES=bench/out/responses-sqlite.pickle \\
        granian --interface asgi --factory bench.reference_asgi:app_from_environment
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# (status, headers, body) by request target ("/path?query"); the first one answers any
# other target (the purchase scenario posts to one path with varying bodies).
Responses = dict[str, tuple[int, list[tuple[bytes, bytes]], bytes]]


def app_from_environment() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """Factory for Granian: the answers come from the pickle named by ``BENCH_RESPONSES``."""
    responses: Responses = pickle.loads(Path(os.environ["BENCH_RESPONSES"]).read_bytes())
    fallback = next(iter(responses.values()))

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        if scope["type"] != "http":
            return
        more = True
        while more:  # read the body, as the real server does
            more = (await receive()).get("more_body", False)
        query = scope["query_string"].decode("latin-1")
        status, headers, body = responses.get(
            scope["path"] + ("?" + query if query else ""), fallback
        )
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app
