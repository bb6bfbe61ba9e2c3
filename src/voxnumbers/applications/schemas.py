"""Request and response shapes of voice applications (``spec/API.md`` §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from voxnumbers.kit.pagination import Page

HttpMethod = Literal["GET", "POST"]

Name = Annotated[
    str, msgspec.Meta(min_length=1, max_length=200, description="1 to 200 characters.")
]
Url = Annotated[
    str,
    msgspec.Meta(max_length=2000, description="An absolute `http` or `https` URL (≤ 2000)."),
]
WebhookSecret = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=200,
        description="Write-only: stored to sign requests, never returned.",
    ),
]


class ApplicationCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST …/applications``."""

    name: Name
    answer_url: Url | None = None
    answer_method: HttpMethod = "POST"
    hangup_url: Url | None = None
    hangup_method: HttpMethod = "POST"
    fallback_url: Url | None = None
    webhook_secret: WebhookSecret | None = None


class ApplicationPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``PATCH …/applications/{app_id}``: only the fields given change; ``null``
    clears a URL or the webhook secret."""

    name: Name | UnsetType = UNSET
    answer_url: Url | UnsetType | None = UNSET
    answer_method: HttpMethod | UnsetType = UNSET
    hangup_url: Url | UnsetType | None = UNSET
    hangup_method: HttpMethod | UnsetType = UNSET
    fallback_url: Url | UnsetType | None = UNSET
    webhook_secret: WebhookSecret | UnsetType | None = UNSET


class ApplicationFields(msgspec.Struct, frozen=True, kw_only=True):
    """What an application is, stored and shown alike: its id, its name and where its calls'
    webhooks go."""

    id: str
    name: str
    answer_url: str | None
    answer_method: HttpMethod
    hangup_url: str | None
    hangup_method: HttpMethod
    fallback_url: str | None


class ApplicationRecord(ApplicationFields, frozen=True, kw_only=True):
    """An application as stored (the webhook secret included)."""

    account_id: str
    webhook_secret: str | None
    created_at: datetime
    updated_at: datetime


class Application(ApplicationFields, frozen=True, kw_only=True):
    """A voice application as the API returns it: the webhook secret is never included,
    only whether one is set."""

    created_at: datetime
    updated_at: datetime
    has_webhook_secret: bool


class ApplicationPage(Page[Application]):
    data: list[Application]
