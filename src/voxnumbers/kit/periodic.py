"""Background jobs of a server process: run a coroutine every N seconds until cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger("voxnumbers.periodic")


async def every(seconds: float, job: Callable[[], Awaitable[object]], name: str) -> None:
    """Run ``job`` every ``seconds`` (after a first wait); a failure is logged and the loop
    goes on, so a database blip never stops a background job for good."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("background job failed; will retry", job=name, exc_info=True)
