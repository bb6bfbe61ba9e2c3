"""Shapes of the events and webhooks API (``spec/API.md`` §6) and of a delivery in flight."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from voxnumbers.events.types import EventType
from voxnumbers.kit.pagination import Page

WebhookStatus = Literal["active", "deleted"]


class Event(msgspec.Struct, kw_only=True):
    """A recorded change of a number."""

    id: str
    type: EventType
    e164: str | None
    data: dict[str, Any]
    created_at: datetime
    livemode: bool  # false for an event of the account's test world (``spec/API.md`` §10)


class EventPage(Page[Event]):
    data: list[Event]


class EventFilter(msgspec.Struct, frozen=True, kw_only=True):
    """A validated events filter (type one of ``EVENT_TYPES``, number in canonical E.164)."""

    type: str | None = None
    e164: str | None = None


class WebhookRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST …/webhooks``; ``event_types`` empty or absent means every type."""

    url: str
    event_types: list[str] = msgspec.field(default_factory=list)


class WebhookPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``PATCH …/webhooks/{webhook_id}``: only the fields given change."""

    url: str | msgspec.UnsetType = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET
    event_types: list[str] | msgspec.UnsetType = msgspec.UNSET


class Webhook(msgspec.Struct, kw_only=True):
    """A webhook endpoint as listed and read: never with its secret. A disabled endpoint
    gets no new deliveries."""

    id: str
    url: str
    event_types: list[EventType]
    status: WebhookStatus
    enabled: bool
    created_at: datetime


class CreatedWebhook(Webhook, kw_only=True):
    """A webhook endpoint at creation: the only time its signing secret is shown."""

    secret: str


class WebhookPage(Page[Webhook]):
    data: list[Webhook]


class RotatedSecret(msgspec.Struct, kw_only=True):
    """A new signing secret, shown only this once; until ``previous_secret_expires_at``
    deliveries are signed with both (``t=…,v1=<new>,v1=<old>``)."""

    id: str
    secret: str
    previous_secret_expires_at: datetime


class WebhookDelivery(msgspec.Struct, kw_only=True):
    """One delivery of an event to an endpoint: where it stands. ``next_attempt_at`` is
    null unless it is still ``pending``."""

    id: str
    event_id: str
    event_type: EventType
    e164: str | None
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_response_status: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class WebhookDeliveryPage(Page[WebhookDelivery]):
    data: list[WebhookDelivery]


class WebhookTestResult(msgspec.Struct, kw_only=True):
    """What the endpoint answered a ``webhook.test`` event: its status (null when no answer
    came), and what went wrong otherwise (``Timeout``, ``ConnectError``, …)."""

    delivered: bool
    response_status: int | None
    error: str | None


class EventPayload(msgspec.Struct, kw_only=True):
    """The JSON body of a delivery."""

    id: str
    type: EventType
    created_at: datetime
    data: dict[str, Any]
    livemode: bool


class Delivery(msgspec.Struct, kw_only=True):
    """A delivery claimed by a worker: everything needed to send it and record the result.

    ``locked_until`` is the lease this worker holds; recording the result requires it to be
    unchanged, so a worker whose lease ran out cannot overwrite another worker's result.
    """

    seq: int
    endpoint_id: str
    url: str
    secret: str
    previous_secret: str | None = None  # still honoured after a rotation
    attempts: int
    locked_until: datetime
    event: EventPayload


class DeliveryState(msgspec.Struct, kw_only=True):
    """Where one delivery stands (for operators and tests)."""

    seq: int
    event_id: str
    e164: str | None
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime
    locked_until: datetime | None
    last_error: str | None
    delivered_at: datetime | None
