"""``create_app(settings)``: routes, error handling, lifespan. No globals."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import structlog
from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from voxnumbers import __version__
from voxnumbers.accounts import service as accounts
from voxnumbers.accounts.usage import KeyUsage
from voxnumbers.inventory.endpoints import router as inventory_router
from voxnumbers.kit.db import Database
from voxnumbers.logs import configure_logging
from voxnumbers.numbers.endpoints import router as numbers_router
from voxnumbers.ops.endpoints import route_handlers as ops_handlers
from voxnumbers.settings import Settings
from voxnumbers.web.envelope import EXCEPTION_HANDLERS
from voxnumbers.web.guards import (
    check_request_shape,
    provide_caller,
    provide_transaction,
    require_api_key,
)
from voxnumbers.web.json import JsonResponse
from voxnumbers.web.requestid import RequestIdMiddleware

log = structlog.get_logger("voxnumbers")


def create_app(settings: Settings, database: Database | None = None) -> Litestar:
    """The ASGI application for these settings (and, in tests, an existing database)."""
    configure_logging(settings.log_level)
    db = database or Database(
        settings.resolved_database_url,
        pool_size=settings.db_pool_size,
        pool_timeout=settings.db_pool_timeout_seconds,
        statement_timeout=settings.db_statement_timeout_seconds,
    )
    key_usage = KeyUsage()

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        flusher = asyncio.create_task(_flush_key_usage_forever(db, key_usage, settings))
        try:
            yield
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            await _flush_key_usage(db, key_usage)
            if database is None:
                await db.dispose()

    api = Router(
        path="/",
        route_handlers=[numbers_router, inventory_router],
        guards=[require_api_key],
        dependencies={
            "conn": Provide(provide_transaction),
            "caller": Provide(provide_caller, sync_to_thread=False),
        },
        before_request=check_request_shape,
        security=[{"BearerAuth": []}, {"BasicAuth": []}],
    )
    return Litestar(
        route_handlers=[api, *ops_handlers],
        lifespan=[lifespan],
        middleware=[RequestIdMiddleware],
        exception_handlers=EXCEPTION_HANDLERS,
        response_class=JsonResponse,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="voxnumbers",
            version=__version__,
            description="The TryVox numbers API: inventory, purchase, routing, release.",
            path="/docs",
            render_plugins=[SwaggerRenderPlugin(path="/")],
            components=Components(
                security_schemes={
                    "BearerAuth": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="`tvx_sk_live_…` or `tvx_sk_test_…`",
                    ),
                    "BasicAuth": SecurityScheme(
                        type="http",
                        scheme="basic",
                        description="User: account id; password: the key.",
                    ),
                }
            ),
        ),
        state=State({"database": db, "key_usage": key_usage, "settings": settings}),
        debug=False,
        logging_config=None,
    )


async def _flush_key_usage_forever(db: Database, usage: KeyUsage, settings: Settings) -> None:
    while True:
        await asyncio.sleep(settings.key_usage_flush_seconds)
        await _flush_key_usage(db, usage)


async def _flush_key_usage(db: Database, usage: KeyUsage) -> None:
    notes = usage.take()
    if not notes:
        return
    try:
        async with db.transaction() as conn:
            await accounts.save_key_usage(conn, notes)
    except Exception:
        usage.restore(notes)
        log.warning("could not record API key usage; will retry", exc_info=True)


def app_from_environment() -> Any:
    """Factory for servers (``granian --factory voxnumbers.app:app_from_environment``)."""
    return create_app(Settings.from_env())
