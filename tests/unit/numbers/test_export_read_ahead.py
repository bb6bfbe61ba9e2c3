"""The export reads its next batch while the last one is sent, and never leaves a read cut
halfway (``numbers/service/export._read_ahead``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

from voxnumbers.numbers.service import export


async def _batches(log: list[str], count: int, pause: float = 0.0) -> AsyncGenerator[int, None]:
    try:
        for batch in range(count):
            log.append(f"read {batch} starts")
            await asyncio.sleep(pause)
            log.append(f"read {batch} ends")
            yield batch
    finally:
        log.append("source closed")


async def test_the_next_batch_is_read_while_the_last_is_used() -> None:
    log: list[str] = []
    async for batch in export._read_ahead(_batches(log, 3)):
        await asyncio.sleep(0.01)  # the lines of this batch, written and sent
        log.append(f"used {batch}")
    assert log == [
        "read 0 starts",
        "read 0 ends",
        "read 1 starts",
        "read 1 ends",
        "used 0",
        "read 2 starts",
        "read 2 ends",
        "used 1",
        "source closed",  # the source has ended: looking for a fourth batch found none
        "used 2",
    ]


async def test_closing_early_waits_for_the_read_in_flight_then_closes_the_source() -> None:
    log: list[str] = []
    reader = export._read_ahead(_batches(log, 5, pause=0.05))
    assert await anext(reader) == 0  # batch 1 is being read from now on
    await reader.aclose()
    assert log == ["read 0 starts", "read 0 ends", "read 1 starts", "read 1 ends", "source closed"]


async def test_a_cancelled_export_lets_the_read_in_flight_finish() -> None:
    log: list[str] = []

    async def export_until_cancelled() -> None:
        reader = export._read_ahead(_batches(log, 5, pause=0.05))
        try:
            async for _ in reader:
                await asyncio.sleep(10)  # the client is slow; the server cancels the stream
        finally:
            await reader.aclose()

    task = asyncio.create_task(export_until_cancelled())
    await asyncio.sleep(0.08)  # batch 0 is in use, batch 1 being read
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert log[-3:] == ["read 1 starts", "read 1 ends", "source closed"]


async def test_a_failed_read_reaches_the_export() -> None:
    async def failing() -> AsyncGenerator[int, None]:
        yield 0
        raise RuntimeError("the database went away")

    got: list[int] = []
    with pytest.raises(RuntimeError, match="went away"):
        async for batch in export._read_ahead(failing()):
            got.append(batch)
    assert got == [0]
