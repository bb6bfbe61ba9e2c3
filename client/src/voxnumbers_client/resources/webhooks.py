"""``client.webhooks``: endpoints the account's events are delivered to (API.md §6)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Unpack

from voxnumbers_client._models import WebhookDelivery, WebhookEndpoint
from voxnumbers_client._pagination import AsyncPaginator, Page, PageRequest, page_parser
from voxnumbers_client._params import PageParams
from voxnumbers_client._request import APIRequest, compact, encode_query
from voxnumbers_client.resources._base import AsyncResource, Resource, SyncResource


class _WebhookRequests(Resource):
    def _create(
        self, url: str, event_types: Sequence[str] | None, key: str | None
    ) -> APIRequest[WebhookEndpoint]:
        body = compact({"url": url, "event_types": event_types})
        return APIRequest(
            "POST",
            self._path("webhooks"),
            WebhookEndpoint.from_json,
            body=body,
            idempotency_key=key,
        )

    def _list(self, params: PageParams) -> PageRequest[WebhookEndpoint]:
        query = encode_query(PageParams, params)
        parse = page_parser(WebhookEndpoint.from_json)
        return APIRequest("GET", self._path("webhooks"), parse, query)

    def _get(self, webhook_id: str) -> APIRequest[WebhookEndpoint]:
        return APIRequest("GET", self._path("webhooks", webhook_id), WebhookEndpoint.from_json)

    def _delete(self, webhook_id: str, key: str | None) -> APIRequest[WebhookEndpoint]:
        path = self._path("webhooks", webhook_id)
        return APIRequest("DELETE", path, WebhookEndpoint.from_json, idempotency_key=key)

    def _deliveries(self, webhook_id: str, params: PageParams) -> PageRequest[WebhookDelivery]:
        query = encode_query(PageParams, params)
        parse = page_parser(WebhookDelivery.from_json)
        return APIRequest("GET", self._path("webhooks", webhook_id, "deliveries"), parse, query)

    def _redeliver(
        self, webhook_id: str, delivery_id: str, key: str | None
    ) -> APIRequest[WebhookDelivery]:
        path = self._path("webhooks", webhook_id, "deliveries", delivery_id, "redeliver")
        return APIRequest("POST", path, WebhookDelivery.from_json, idempotency_key=key)


class Webhooks(_WebhookRequests, SyncResource):
    """Webhook endpoints; verify deliveries with :mod:`voxnumbers_client.webhooks`."""

    def create(
        self,
        url: str,
        *,
        event_types: Sequence[str] | None = None,
        idempotency_key: str | None = None,
    ) -> WebhookEndpoint:
        """Register an endpoint; the answer holds its signing ``secret`` (shown only now).

        ``event_types`` limits delivery to those types (``number.released``, …; all when omitted).
        """
        call = self._create(url, event_types, idempotency_key)
        return self._client._request(call)

    def list(self, **params: Unpack[PageParams]) -> Page[WebhookEndpoint]:
        """List the account's webhook endpoints."""
        return self._client._page(self._list(params))

    def get(self, webhook_id: str) -> WebhookEndpoint:
        """Fetch one endpoint (without its secret)."""
        return self._client._request(self._get(webhook_id))

    def delete(self, webhook_id: str, *, idempotency_key: str | None = None) -> WebhookEndpoint:
        """Remove an endpoint; no more events are delivered to it."""
        return self._client._request(self._delete(webhook_id, idempotency_key))

    def deliveries(self, webhook_id: str, **params: Unpack[PageParams]) -> Page[WebhookDelivery]:
        """List an endpoint's deliveries, newest first."""
        return self._client._page(self._deliveries(webhook_id, params))

    def redeliver(
        self, webhook_id: str, delivery_id: str, *, idempotency_key: str | None = None
    ) -> WebhookDelivery:
        """Queue a delivery again, due now."""
        return self._client._request(self._redeliver(webhook_id, delivery_id, idempotency_key))


class AsyncWebhooks(_WebhookRequests, AsyncResource):
    """Webhook endpoints, for :class:`~voxnumbers_client.AsyncClient`."""

    async def create(
        self,
        url: str,
        *,
        event_types: Sequence[str] | None = None,
        idempotency_key: str | None = None,
    ) -> WebhookEndpoint:
        """Register an endpoint (the answer holds its signing ``secret``)."""
        call = self._create(url, event_types, idempotency_key)
        return await self._client._request(call)

    def list(self, **params: Unpack[PageParams]) -> AsyncPaginator[WebhookEndpoint]:
        """List the account's webhook endpoints."""
        return self._client._page(self._list(params))

    async def get(self, webhook_id: str) -> WebhookEndpoint:
        """Fetch one endpoint."""
        return await self._client._request(self._get(webhook_id))

    async def delete(
        self, webhook_id: str, *, idempotency_key: str | None = None
    ) -> WebhookEndpoint:
        """Remove an endpoint."""
        return await self._client._request(self._delete(webhook_id, idempotency_key))

    def deliveries(
        self, webhook_id: str, **params: Unpack[PageParams]
    ) -> AsyncPaginator[WebhookDelivery]:
        """List an endpoint's deliveries, newest first."""
        return self._client._page(self._deliveries(webhook_id, params))

    async def redeliver(
        self, webhook_id: str, delivery_id: str, *, idempotency_key: str | None = None
    ) -> WebhookDelivery:
        """Queue a delivery again, due now."""
        call = self._redeliver(webhook_id, delivery_id, idempotency_key)
        return await self._client._request(call)


__all__ = ["AsyncWebhooks", "Webhooks"]
