"""``vox worker``: deliver webhooks in a process of its own."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from voxnumbers.cli.runtime import load_settings, out, run_with_database
from voxnumbers.db.engine import Database
from voxnumbers.events.delivery import DeliveryPolicy, DeliveryWorker, run_once


def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Send what is due now, print how many, and exit.")
    ] = False,
) -> None:
    """Deliver queued webhook events until interrupted (SIGINT or SIGTERM), which ends the
    current pass cleanly. Any number of workers may run at once, beside or instead of the
    one inside `vox serve` (VOX_RUN_WORKER=false turns that one off)."""
    settings = load_settings()

    async def _work(database: Database) -> None:
        if once:
            attempted = await run_once(database, DeliveryPolicy.from_settings(settings))
            out.print(f"attempted {attempted} deliver{'y' if attempted == 1 else 'ies'}")
            return
        delivery = DeliveryWorker.from_settings(database, settings)
        running = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            running.add_signal_handler(signum, delivery.request_stop)
        out.print("delivering webhooks; Ctrl+C to stop", highlight=False)
        delivery.start()
        await delivery.wait()
        out.print("stopped", highlight=False)

    run_with_database(_work, settings)
