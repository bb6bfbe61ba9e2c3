"""Alembic environment: always handed an open connection by ``voxnumbers.migrations``."""

from __future__ import annotations

from alembic import context

from voxnumbers.db.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - guarded for people running plain `alembic`
    raise RuntimeError("run migrations with `vox migrate`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
context.run_migrations()
