"""Streamed exports: the body is read chunk by chunk, never held in memory whole.

The request is only sent when the stream is opened: by ``with``/``async with``, or by the
first iteration (which then also closes it at the end)::

    with client.numbers.export(format="csv", country="US") as export:
        for line in export.iter_lines():
            ...

A connection lost mid-body raises :class:`~voxnumbers_client.VoxConnectionError`; an export
is not resumed, run it again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Generic, Self, TypeVar

import httpx

from voxnumbers_client._errors import connection_error

R = TypeVar("R")


class _BaseStream(Generic[R]):
    def __init__(self, open_response: Callable[[], R]) -> None:
        self._open_response = open_response
        self._response: httpx.Response | None = None

    @property
    def response(self) -> httpx.Response:
        """The underlying HTTP response (headers, status); the stream must be open."""
        if self._response is None:
            raise RuntimeError("the export stream is not open yet")
        return self._response

    @property
    def content_type(self) -> str:
        """``text/csv`` or ``application/x-ndjson`` (from the response)."""
        return str(self.response.headers.get("Content-Type", ""))

    @property
    def content_length(self) -> int | None:
        """The body's size in bytes when the server announced it, else ``None``."""
        value: str | None = self.response.headers.get("Content-Length")
        return int(value) if value and value.isdigit() else None

    @property
    def bytes_read(self) -> int:
        """How many body bytes have been read so far."""
        return self._response.num_bytes_downloaded if self._response is not None else 0


class ExportStream(_BaseStream[httpx.Response]):
    """A streamed export (CSV or NDJSON); iterate lines or bytes, close when done."""

    def open(self) -> Self:
        """Send the request and check its status (idempotent)."""
        if self._response is None:
            self._response = self._open_response()
        return self

    def close(self) -> None:
        """Release the connection; safe to call more than once."""
        if self._response is not None:
            self._response.close()

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The raw body, chunk by chunk."""
        owned = self._response is None
        try:
            yield from self.open().response.iter_bytes(chunk_size)
        except httpx.TransportError as exc:
            raise connection_error(exc) from exc
        finally:
            if owned:
                self.close()

    def iter_lines(self) -> Iterator[str]:
        """The body line by line (CSV rows with the header first, or NDJSON objects)."""
        owned = self._response is None
        try:
            yield from self.open().response.iter_lines()
        except httpx.TransportError as exc:
            raise connection_error(exc) from exc
        finally:
            if owned:
                self.close()

    def __iter__(self) -> Iterator[str]:
        return self.iter_lines()


class AsyncExportStream(_BaseStream[Awaitable[httpx.Response]]):
    """The async variant of :class:`ExportStream` (``async with`` / ``async for``)."""

    async def open(self) -> Self:
        """Send the request and check its status (idempotent)."""
        if self._response is None:
            self._response = await self._open_response()
        return self

    async def aclose(self) -> None:
        """Release the connection; safe to call more than once."""
        if self._response is not None:
            await self._response.aclose()

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The raw body, chunk by chunk."""
        owned = self._response is None
        try:
            async for chunk in (await self.open()).response.aiter_bytes(chunk_size):
                yield chunk
        except httpx.TransportError as exc:
            raise connection_error(exc) from exc
        finally:
            if owned:
                await self.aclose()

    async def aiter_lines(self) -> AsyncIterator[str]:
        """The body line by line."""
        owned = self._response is None
        try:
            async for line in (await self.open()).response.aiter_lines():
                yield line
        except httpx.TransportError as exc:
            raise connection_error(exc) from exc
        finally:
            if owned:
                await self.aclose()

    def __aiter__(self) -> AsyncIterator[str]:
        return self.aiter_lines()
