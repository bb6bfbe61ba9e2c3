"""A TCP relay in front of the private PostgreSQL that can cut the network without closing
anything: a partition, the failure a stopped database does not show.

While partitioned, connections are still accepted but nothing is forwarded either way: open
connections freeze mid-conversation, new ones never hear the server's greeting (what a dead
host or a dropped route looks like, until TCP gives up). ``heal()`` resets the frozen
connections, as TCP eventually does, and forwards again. The relay runs its own event loop
in a thread, so blocking callers (a test waiting for a server to start) never stall it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import TracebackType


class Relay:
    """``127.0.0.1:<port>`` → ``127.0.0.1:<target_port>``, with ``partition()``/``heal()``."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._open: asyncio.Event | None = None
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> Relay:
        self._thread.start()
        self._call(self._start())
        return self

    def partition(self) -> None:
        """Stop forwarding; keep every connection open."""
        self._call(self._partition())

    def heal(self) -> None:
        """Reset the connections frozen by the partition and forward again."""
        self._call(self._heal())

    def close(self) -> None:
        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                self._call(self._close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    def __enter__(self) -> Relay:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- in the relay's loop ---------------------------------------------------------------

    def _call(self, coroutine: object) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)  # type: ignore[arg-type]

    async def _start(self) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _partition(self) -> None:
        assert self._open is not None
        self._open.clear()

    async def _heal(self) -> None:
        assert self._open is not None
        for writer in list(self._links):
            _reset(writer)
        self._links.clear()
        self._open.set()

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._links):
            _reset(writer)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._open is not None
        self._links.add(writer)
        await self._open.wait()  # a connection made during a partition hears nothing
        if writer.is_closing():
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.target_port
            )
        except OSError:
            _reset(writer)
            return
        self._links.add(upstream_writer)
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._open is not None
        try:
            while True:
                data = await reader.read(65536)
                await self._open.wait()  # frozen: the bytes go nowhere until healed
                if not data or writer.is_closing():
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            _reset(writer)
            self._links.discard(writer)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close at once, like a TCP reset (no waiting for buffered bytes)."""
    with contextlib.suppress(Exception):
        writer.transport.abort()
