"""Numbers put straight into an account, in the statuses given: the demo's data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.numbers import repository


async def seed_owned_numbers(conn: AsyncConnection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Add owned numbers, each a full ``numbers`` row (any status, its dates given), and
    count them. No purchase rules, events or audit entries: this is for the demo data
    ``vox serve`` makes in an empty database, never for an account's real numbers."""
    await repository.insert_numbers(conn, rows)
