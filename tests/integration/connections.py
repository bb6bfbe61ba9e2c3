"""Telling database connections apart, and ending one from the server's side."""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.db.direct import fetch_all
from voxnumbers.db.engine import Database


async def backend_of(conn: AsyncConnection, database: Database, on_driver: bool = False) -> Any:
    """Something that tells one server connection from another (on PostgreSQL, read through
    ``conn.execute`` or on the driver, ``db.direct``)."""
    if database.is_sqlite:
        raw = await conn.get_raw_connection()
        return id(raw.driver_connection)
    if on_driver:
        return (await fetch_all(conn, select(func.pg_backend_pid()), {}))[0][0]
    return (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()


async def terminate_backend(database: Database, backend: int) -> None:
    """End a PostgreSQL connection from the server's side, as a restart would."""
    url = database.url.set(drivername="postgresql")
    admin = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", backend)
    finally:
        await admin.close()
