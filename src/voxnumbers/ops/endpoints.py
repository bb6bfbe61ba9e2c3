"""``/healthz``, ``/readyz`` and ``/openapi.json``: no authentication, no tenant data."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.datastructures import State
from sqlalchemy import text

from voxnumbers.errors import ServiceUnavailable
from voxnumbers.events.types import EVENT_TYPES
from voxnumbers.jobs.schemas import BULK_REQUEST_RULES
from voxnumbers.ops.metrics import Metrics
from voxnumbers.web.openapi import document_enforced_rules


class Health(msgspec.Struct):
    status: str


@get("/healthz", summary="Process is alive", tags=["operations"], opt={"public": True})
async def healthz() -> Health:
    return Health(status="ok")


@get("/readyz", summary="Database is reachable", tags=["operations"], opt={"public": True})
async def readyz(state: State) -> Health:
    try:
        async with state.database.transaction(write=False) as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise ServiceUnavailable(
            "The database is not reachable.", headers={"Retry-After": "1"}
        ) from exc
    return Health(status="ready")


@get(
    "/openapi.json", summary="OpenAPI 3.1 description", tags=["operations"], include_in_schema=False
)
async def openapi_json(request: Request[Any, Any, Any]) -> Response[bytes]:
    schema = document_enforced_rules(
        request.app.openapi_schema.to_schema(),
        {"BulkRequest": BULK_REQUEST_RULES},
        item_enums={"event_types": EVENT_TYPES},  # a webhook endpoint's subscriptions
        query_enums={("/events", "type"): EVENT_TYPES},  # the events list's filter
    )
    return Response(content=msgspec.json.encode(schema), media_type="application/json")


@get("/metrics", summary="Prometheus metrics", tags=["operations"], include_in_schema=False)
async def metrics(state: State) -> Response[bytes]:
    registry: Metrics = state.metrics
    return Response(content=await registry.render(), media_type=registry.content_type)


route_handlers = [healthz, readyz, openapi_json, metrics]
