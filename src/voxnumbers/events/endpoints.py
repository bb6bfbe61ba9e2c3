"""HTTP surface of events and webhook endpoints (thin: parse, call one service function)."""

from __future__ import annotations

from typing import Annotated

from litestar import Router, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from voxnumbers.accounts.schemas import Caller
from voxnumbers.events import schemas, service
from voxnumbers.events.types import EventType
from voxnumbers.kit.pagination import PER_PAGE_DEFAULT, PageNumber, PerPage
from voxnumbers.settings import Settings
from voxnumbers.web.handlers import Conn, answers
from voxnumbers.web.openapi import error_responses

Who = NamedDependency[Caller]
WebhookId = Annotated[str, Parameter(description="The endpoint's id (`whk_…`).")]
_WEBHOOK = "/{webhook_id:str}"


@get("/", summary="List events", responses=error_responses(400))
async def list_events(
    conn: Conn,
    caller: Who,
    type: Annotated[EventType | None, Parameter(description="Only events of this type.")] = None,
    e164: Annotated[
        str | None, Parameter(description="Only events of this number (any accepted spelling).")
    ] = None,
    page: PageNumber = 1,
    per_page: PerPage = PER_PAGE_DEFAULT,
) -> schemas.EventPage:
    """The account's events, newest first, with the exact total."""
    return await service.list_events(
        conn, caller.account_id, type=type, e164=e164, page=page, per_page=per_page
    )


@post("/", summary="Register a webhook endpoint", **answers(201, 400, 409, 413, 415))
async def create_webhook(
    conn: Conn, caller: Who, data: JSONBody[schemas.WebhookRequest]
) -> schemas.CreatedWebhook:
    """Register an endpoint; the answer holds its signing ``secret``, shown only this once."""
    return await service.create_webhook(conn, caller.account_id, data)


@get("/", summary="List webhook endpoints", responses=error_responses(400))
async def list_webhooks(
    conn: Conn, caller: Who, page: PageNumber = 1, per_page: PerPage = PER_PAGE_DEFAULT
) -> schemas.WebhookPage:
    return await service.list_webhooks(conn, caller.account_id, page=page, per_page=per_page)


@get(_WEBHOOK, summary="Get a webhook endpoint", responses=error_responses(404))
async def get_webhook(conn: Conn, caller: Who, webhook_id: WebhookId) -> schemas.Webhook:
    return await service.get_webhook(conn, caller.account_id, webhook_id)


@delete(_WEBHOOK, summary="Delete a webhook endpoint", **answers(200, 404))
async def delete_webhook(conn: Conn, caller: Who, webhook_id: WebhookId) -> schemas.Webhook:
    """Stop delivering to an endpoint; its pending deliveries end. Returns its final state."""
    return await service.delete_webhook(conn, caller.account_id, webhook_id)


@patch(_WEBHOOK, summary="Update a webhook endpoint", responses=error_responses(400, 404, 413, 415))
async def update_webhook(
    conn: Conn, caller: Who, webhook_id: WebhookId, data: JSONBody[schemas.WebhookPatch]
) -> schemas.Webhook:
    """Change the ``url``, ``enabled`` or ``event_types`` given; the others stay."""
    return await service.update_webhook(conn, caller.account_id, webhook_id, data)


@post(
    f"{_WEBHOOK}/rotate-secret",
    summary="Rotate a webhook endpoint's signing secret",
    **answers(200, 404, 409),
)
async def rotate_secret(conn: Conn, caller: Who, webhook_id: WebhookId) -> schemas.RotatedSecret:
    """A new ``secret``, shown only this once; for 24 h deliveries carry a signature with
    each (``t=…,v1=<new>,v1=<old>``)."""
    return await service.rotate_secret(conn, caller.account_id, webhook_id)


@get(
    f"{_WEBHOOK}/deliveries",
    summary="List a webhook endpoint's deliveries",
    responses=error_responses(400, 404),
)
async def list_deliveries(
    conn: Conn,
    caller: Who,
    webhook_id: WebhookId,
    page: PageNumber = 1,
    per_page: PerPage = PER_PAGE_DEFAULT,
) -> schemas.WebhookDeliveryPage:
    """Status, attempts, last response status and next attempt of each, newest first."""
    return await service.list_deliveries(
        conn, caller.account_id, webhook_id, page=page, per_page=per_page
    )


@post(
    f"{_WEBHOOK}/deliveries/{{delivery_id:str}}/redeliver",
    summary="Send a delivery again",
    **answers(200, 404, 409),
)
async def redeliver(
    conn: Conn,
    caller: Who,
    webhook_id: WebhookId,
    delivery_id: Annotated[str, Parameter(description="The delivery's id (`dlv_…`).")],
) -> schemas.WebhookDelivery:
    """Queue the delivery again, due now; answers its new state."""
    return await service.redeliver(conn, caller.account_id, webhook_id, delivery_id)


@post(
    f"{_WEBHOOK}/test",
    summary="Send a test event to a webhook endpoint",
    **answers(200, 404, 409),
    opt={"read_only": True},
)
async def test_webhook(
    conn: Conn, caller: Who, settings: NamedDependency[Settings], webhook_id: WebhookId
) -> schemas.WebhookTestResult:
    """Send a signed ``webhook.test`` event now and answer the endpoint's response status."""
    return await service.send_test_event(
        conn, caller.account_id, webhook_id, limit_seconds=settings.webhook_timeout_seconds
    )


events_router = Router(
    path="/v1/account/{account_id:str}/events", route_handlers=[list_events], tags=["events"]
)
webhooks_router = Router(
    path="/v1/account/{account_id:str}/webhooks",
    route_handlers=[
        create_webhook,
        list_webhooks,
        get_webhook,
        delete_webhook,
        update_webhook,
        rotate_secret,
        list_deliveries,
        redeliver,
        test_webhook,
    ],
    tags=["webhooks"],
)
