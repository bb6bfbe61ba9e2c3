"""``create_app(settings)``: routes, error handling, lifespan. No globals."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import re
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import structlog
from litestar import Litestar, Request, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from voxnumbers import __version__
from voxnumbers.accounts import service as accounts
from voxnumbers.accounts.guards import authorize_request, caller_of, provide_caller
from voxnumbers.accounts.usage import KeyUsage
from voxnumbers.admin import service as admin
from voxnumbers.admin.endpoints import admin_handlers
from voxnumbers.admin.guards import authorize_operator
from voxnumbers.admin.schemas import UPLOAD_MAX_BYTES
from voxnumbers.applications.endpoints import router as applications_router
from voxnumbers.audit.endpoints import audit_router
from voxnumbers.console.endpoints import route_handlers as console_pages
from voxnumbers.console.web import console_router, template_config
from voxnumbers.db.engine import Database
from voxnumbers.errors import InternalError
from voxnumbers.events.delivery import DeliveryWorker
from voxnumbers.events.endpoints import events_router, webhooks_router
from voxnumbers.idempotency.service import Replay
from voxnumbers.idempotency.web import handle_replay, note_idempotency_key
from voxnumbers.inventory.endpoints import router as inventory_router
from voxnumbers.jobs.endpoints import router as jobs_router
from voxnumbers.jobs.runner import JobRunner
from voxnumbers.jobs.schemas import MAX_BODY_BYTES as BULK_MAX_BODY_BYTES
from voxnumbers.kit.activity import RequestActivity
from voxnumbers.kit.periodic import every
from voxnumbers.logs import configure_logging
from voxnumbers.numbers.endpoints import router as numbers_router
from voxnumbers.ops.apidocs import swagger_ui, swagger_ui_assets
from voxnumbers.ops.endpoints import route_handlers as ops_handlers
from voxnumbers.ops.maintenance import run_maintenance
from voxnumbers.ops.metrics import Metrics
from voxnumbers.settings import Settings
from voxnumbers.trunks.endpoints import router as trunks_router
from voxnumbers.web.body import BodyLimits
from voxnumbers.web.cors import cors_config, envelope_refused_preflight
from voxnumbers.web.envelope import EXCEPTION_HANDLERS, error_messages
from voxnumbers.web.json import JsonResponse
from voxnumbers.web.providers import provide_settings
from voxnumbers.web.ratelimit import RateLimits
from voxnumbers.web.request_shape import check_request_shape
from voxnumbers.web.requestid import RequestIdMiddleware
from voxnumbers.web.routes import repair_routes
from voxnumbers.web.unitofwork import TransactionMiddleware, provide_transaction

log = structlog.get_logger("voxnumbers")
# The one route whose bodies may be larger: a bulk request lists up to 100,000 numbers.
BULK_ROUTE = ("POST", re.compile(r"^/v1/account/[^/]+/numbers/bulk/?$"))
UPLOAD_ROUTE = ("POST", re.compile(r"^/admin/v1/inventory/import/?$"))


def create_app(settings: Settings, database: Database | None = None) -> Litestar:
    """The ASGI application for these settings (and, in tests, an existing database)."""
    configure_logging(settings.log_level)
    db = database or Database(
        settings.resolved_database_url,
        pool_size=settings.db_pool_size,
        pool_timeout=settings.db_pool_timeout_seconds,
        connect_timeout=settings.db_connect_timeout_seconds,
        statement_timeout=settings.db_statement_timeout_seconds,
    )
    key_usage = KeyUsage()
    metrics = Metrics(db)
    activity = RequestActivity()
    rate_limits = RateLimits.from_settings(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        background = [
            asyncio.create_task(
                every(
                    settings.key_usage_flush_seconds,
                    lambda: _flush_key_usage(db, key_usage),
                    "key usage",
                )
            ),
            asyncio.create_task(
                every(
                    settings.maintenance_interval_seconds,
                    lambda: run_maintenance(db, settings.audit_retention_days),
                    "maintenance",
                )
            ),
        ]
        worker = DeliveryWorker.from_settings(db, settings) if settings.run_worker else None
        if worker is not None:
            worker.start()
        jobs = JobRunner(db, settings, activity) if settings.run_jobs else None
        if jobs is not None:
            jobs.start()
        try:
            yield
        finally:
            if jobs is not None:
                await jobs.stop()
            if worker is not None:
                await worker.stop()
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await _flush_key_usage(db, key_usage)
            metrics.close()
            if database is None:
                await db.dispose()

    api = Router(
        path="/",
        route_handlers=[
            numbers_router,
            inventory_router,
            events_router,
            webhooks_router,
            trunks_router,
            applications_router,
            jobs_router,
            audit_router,
        ],
        guards=[authorize_request],
        dependencies={
            "conn": Provide(provide_transaction),
            "caller": Provide(provide_caller, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
        },
        before_request=check_api_request,
        middleware=[TransactionMiddleware],
        security=[{"BearerAuth": []}, {"BasicAuth": []}],
    )
    admin_api = Router(
        path="/admin/v1",
        route_handlers=admin_handlers,
        guards=[authorize_operator],
        dependencies={
            "conn": Provide(provide_transaction),
            "settings": Provide(provide_settings, sync_to_thread=False),
        },
        before_request=check_api_request,
        middleware=[TransactionMiddleware],
        security=[{"OperatorAuth": []}],
        tags=["admin"],
    )
    app = Litestar(
        route_handlers=[
            api,
            admin_api,
            console_router(console_pages),
            swagger_ui_assets(),
            *ops_handlers,
        ],
        lifespan=[lifespan, rate_limits.lifespan],
        before_send=[rate_limits.add_headers, envelope_refused_preflight],
        cors_config=cors_config(settings),
        exception_handlers={**EXCEPTION_HANDLERS, Replay: handle_replay},
        response_class=JsonResponse,
        template_config=template_config(),
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="voxnumbers",
            version=__version__,
            description="The TryVox numbers API: inventory, purchase, routing, release.",
            path="/docs",
            render_plugins=[swagger_ui()],
            components=Components(
                security_schemes={
                    "BearerAuth": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="`tvx_sk_live_…` (live data) or `tvx_sk_test_…` (the "
                        "account's separate test data: test mode).",
                    ),
                    "BasicAuth": SecurityScheme(
                        type="http",
                        scheme="basic",
                        description="User: account id; password: the key.",
                    ),
                    "OperatorAuth": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="An operator token `tvx_op_…` (admin API only).",
                    ),
                }
            ),
        ),
        state=State(
            {
                "database": db,
                "key_usage": key_usage,
                "settings": settings,
                "rate_limits": rate_limits,
                "metrics": metrics,
            }
        ),
        debug=False,
        logging_config=None,
    )
    repair_routes(app)
    # Outside routing, so responses made before a route is found get them too.
    app.asgi_handler = RequestIdMiddleware(
        BodyLimits(
            app.asgi_handler,
            settings.max_body_bytes,
            larger={
                BULK_ROUTE: max(settings.max_body_bytes, BULK_MAX_BODY_BYTES),
                UPLOAD_ROUTE: max(settings.max_body_bytes, UPLOAD_MAX_BYTES),
            },
        ),
        observe=partial(_observe, activity, metrics),
        answer_unhandled=lambda request_id: error_messages(InternalError(), request_id),
    )
    return app


def _observe(
    activity: RequestActivity,
    metrics: Metrics,
    method: str,
    route: str | None,
    status: int,
    seconds: float,
) -> None:
    """A request answered: counted for the bulk jobs that give way to requests, and in the
    metrics."""
    activity.note(seconds)
    metrics.observe(method, route, status, seconds)


async def check_api_request(request: Request[Any, Any, Any]) -> None:
    """Before every handler of ``/v1`` and ``/admin/v1``, once the guard has authenticated
    the caller: the request's shape, then its Idempotency-Key, scoped to the caller (an
    account's world, or an operator token)."""
    await check_request_shape(request)
    await note_idempotency_key(request, caller_of(request).account_id)


async def _flush_key_usage(db: Database, usage: KeyUsage) -> None:
    notes = usage.take()
    if not notes:
        return
    try:
        async with db.transaction() as conn:
            await accounts.save_key_usage(conn, notes)
            await admin.save_token_usage(conn, notes)
    except Exception:
        usage.restore(notes)
        log.warning("could not record API key usage; will retry", exc_info=True)


def app_from_environment() -> Any:
    """Factory for servers (``granian --factory voxnumbers.app:app_from_environment``): the
    app of a worker process, which keeps it for the rest of its life."""
    app = create_app(Settings.from_env())
    app.on_startup.append(freeze_startup_objects)
    return app


def freeze_startup_objects() -> None:
    """Leave what exists once the server has started (modules, the app, its routes and
    schemas, the database's metadata) out of every later garbage collection.

    These objects live as long as the process, yet each full collection of the cycle
    collector walked all of them again: measured, 10-15% of the server's CPU per page of
    100 numbers. Only for a server process: frozen objects are never collected, so an
    application created and dropped again and again (tests) must not do this.
    """
    gc.freeze()
