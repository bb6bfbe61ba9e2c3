"""``client.numbers``: the account's numbers (API.md §3)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, Literal, Unpack, overload

from voxnumbers_client._errors import NotFoundError, VoxError
from voxnumbers_client._models import (
    BulkPlan,
    Number,
    NumberRelease,
    NumberRouting,
    ReleasePreview,
)
from voxnumbers_client._pagination import AsyncPaginator, Page, PageRequest, page_parser
from voxnumbers_client._params import NumberFilters, NumberListParams
from voxnumbers_client._request import APIRequest, encode_query
from voxnumbers_client._streaming import AsyncExportStream, ExportStream
from voxnumbers_client.resources._base import AsyncResource, Resource, SyncResource
from voxnumbers_client.resources.jobs import AsyncBulkJob, BulkJob, bulk_request

ExportFormat = Literal["csv", "ndjson"]
_EXPORT_ACCEPT = {"csv": "text/csv", "ndjson": "application/x-ndjson"}
RoutingRequest = APIRequest[NumberRouting]
BulkAction = Literal["assign_trunk", "assign_application", "unassign", "release", "cancel_release"]


class _NumberRequests(Resource):
    """How each numbers call is spelled on the wire (shared by the sync and async APIs)."""

    def _list(self, params: NumberListParams) -> PageRequest[Number]:
        if "page" not in params and "cursor" not in params:
            # Walks follow cursors: a walk by page number skips or repeats numbers when the
            # list changes under it.
            params = {**params, "cursor": ""}
        query = encode_query(NumberListParams, params)
        return APIRequest("GET", self._path("numbers"), page_parser(Number.from_json), query)

    def _get(self, e164: str) -> APIRequest[Number]:
        return APIRequest("GET", self._path("numbers", e164), Number.from_json)

    def _inventory_country(self, e164: str) -> APIRequest[str | None]:
        """The country of ``e164`` as inventory lists it (``None``: not for sale)."""
        digits = e164.removeprefix("+")

        def country_of(body: Any) -> str | None:
            for item in body.get("data", []) if isinstance(body, dict) else []:
                if isinstance(item, dict) and str(item.get("e164", "")).lstrip("+") == digits:
                    return str(item["country"])
            return None

        query = (("contains", digits), ("per_page", "100"))
        return APIRequest("GET", self._path("inventory", "numbers"), country_of, query)

    def _purchase(self, e164: str, country: str, key: str | None) -> APIRequest[Number]:
        return APIRequest(
            "POST",
            self._path("numbers", "purchase-from-inventory"),
            Number.from_json,
            body={"e164": e164, "country": country},
            idempotency_key=key,
        )

    def _assign_trunk(self, e164: str, trunk_id: str, key: str | None) -> RoutingRequest:
        return self._route("POST", e164, "assign", {"trunk_id": trunk_id}, key)

    def _unassign_trunk(self, e164: str, key: str | None) -> RoutingRequest:
        return self._route("DELETE", e164, "assign", None, key)

    def _assign_application(self, e164: str, app_id: str, key: str | None) -> RoutingRequest:
        return self._route("POST", e164, "application", {"application_id": app_id}, key)

    def _unassign_application(self, e164: str, key: str | None) -> RoutingRequest:
        return self._route("DELETE", e164, "application", None, key)

    def _route(
        self, method: str, e164: str, target: str, body: dict[str, str] | None, key: str | None
    ) -> RoutingRequest:
        path = self._path("numbers", e164, target)
        return APIRequest(method, path, NumberRouting.from_json, body=body, idempotency_key=key)

    def _release_preview(self, e164: str) -> APIRequest[ReleasePreview]:
        path = self._path("numbers", e164, "release-preview")
        return APIRequest("GET", path, ReleasePreview.from_json)

    def _release(self, e164: str, key: str | None) -> APIRequest[NumberRelease]:
        path = self._path("numbers", e164)
        return APIRequest("DELETE", path, NumberRelease.from_json, idempotency_key=key)

    def _cancel_release(self, e164: str, key: str | None) -> APIRequest[Number]:
        path = self._path("numbers", e164, "cancel-release")
        return APIRequest("POST", path, Number.from_json, idempotency_key=key)

    def _bulk(
        self,
        action: BulkAction,
        numbers: Sequence[str] | None,
        filter: NumberFilters | None,
        trunk_id: str | None,
        application_id: str | None,
        dry_run: bool,
        key: str | None,
    ) -> APIRequest[Any]:
        return bulk_request(
            self._path("numbers", "bulk"),
            action,
            numbers=numbers,
            filter=filter,
            trunk_id=trunk_id,
            application_id=application_id,
            dry_run=dry_run,
            idempotency_key=key,
        )

    def _export(self, format: ExportFormat, filters: NumberFilters) -> APIRequest[None]:
        query = (("format", format), *encode_query(NumberFilters, filters))
        accept = f"{_EXPORT_ACCEPT.get(format, '*/*')}, application/json"
        path = self._path("numbers", "export")
        return APIRequest("GET", path, lambda _: None, query, headers=(("Accept", accept),))


class Numbers(_NumberRequests, SyncResource):
    """The account's numbers: list, buy, route, release and export them."""

    def list(self, **params: Unpack[NumberListParams]) -> Page[Number]:
        """List owned numbers, oldest purchase first; iterate the page to walk all pages.

        Filters: ``country``, ``status``, ``type``, ``capability``, ``region``, ``trunk_id``,
        ``application_id``, ``routed``, ``contains``, ``created_after``, ``created_before``,
        ``updated_since``, ``sort``; paging: ``per_page`` and ``cursor`` (the default: the
        first page by cursor, so a walk is consistent while numbers change) or ``page``
        (a walk from a page number goes on by page number).
        """
        return self._client._page(self._list(params))

    def get(self, e164: str) -> Number:
        """Fetch one number (``+14155551234``)."""
        return self._client._request(self._get(e164))

    def purchase(
        self, e164: str, country: str | None = None, *, idempotency_key: str | None = None
    ) -> Number:
        """Buy a number from inventory; it is ``active``, or ``pending`` until provisioned.

        Without ``country``, the number's country is read first from inventory, or, for a
        number the account owns already (a retried purchase), from the number itself;
        :class:`VoxError` if neither knows it.
        """
        if country is None:
            country = self._client._request(self._inventory_country(e164))
        if country is None:
            with contextlib.suppress(NotFoundError):
                country = self.get(e164).country
        return self._client._request(self._purchase(e164, _known(e164, country), idempotency_key))

    def assign_trunk(
        self, e164: str, trunk_id: str, *, idempotency_key: str | None = None
    ) -> NumberRouting:
        """Route the number to a SIP trunk (clears any application)."""
        return self._client._request(self._assign_trunk(e164, trunk_id, idempotency_key))

    def unassign_trunk(self, e164: str, *, idempotency_key: str | None = None) -> NumberRouting:
        """Remove the number's trunk (idempotent)."""
        return self._client._request(self._unassign_trunk(e164, idempotency_key))

    def assign_application(
        self, e164: str, application_id: str, *, idempotency_key: str | None = None
    ) -> NumberRouting:
        """Route the number to a voice application (clears any trunk)."""
        call = self._assign_application(e164, application_id, idempotency_key)
        return self._client._request(call)

    def unassign_application(
        self, e164: str, *, idempotency_key: str | None = None
    ) -> NumberRouting:
        """Remove the number's application (idempotent)."""
        return self._client._request(self._unassign_application(e164, idempotency_key))

    def release_preview(self, e164: str) -> ReleasePreview:
        """What releasing the number would cost, without releasing it."""
        return self._client._request(self._release_preview(e164))

    def release(self, e164: str, *, idempotency_key: str | None = None) -> NumberRelease:
        """Release the number; it cools off and can be taken back with ``cancel_release``."""
        return self._client._request(self._release(e164, idempotency_key))

    def cancel_release(self, e164: str, *, idempotency_key: str | None = None) -> Number:
        """Take a released number back while it cools off (its routing is restored)."""
        return self._client._request(self._cancel_release(e164, idempotency_key))

    @overload
    def bulk(
        self,
        action: BulkAction,
        *,
        numbers: Sequence[str] | None = None,
        filter: NumberFilters | None = None,
        trunk_id: str | None = None,
        application_id: str | None = None,
        dry_run: Literal[False] = False,
        idempotency_key: str | None = None,
    ) -> BulkJob: ...

    @overload
    def bulk(
        self,
        action: BulkAction,
        *,
        numbers: Sequence[str] | None = None,
        filter: NumberFilters | None = None,
        trunk_id: str | None = None,
        application_id: str | None = None,
        dry_run: Literal[True],
        idempotency_key: str | None = None,
    ) -> BulkPlan: ...

    def bulk(
        self,
        action: BulkAction,
        *,
        numbers: Sequence[str] | None = None,
        filter: NumberFilters | None = None,
        trunk_id: str | None = None,
        application_id: str | None = None,
        dry_run: bool = False,
        idempotency_key: str | None = None,
    ) -> BulkJob | BulkPlan:
        """Apply ``action`` (``assign_trunk``, ``assign_application``, ``unassign``,
        ``release``, ``cancel_release``) to many numbers in one request: the ``numbers``
        listed (up to 100,000) or those the list ``filter`` matches, e.g.
        ``filter={"country": "US"}``. Each number changes as its own endpoint would change
        it. Returns a :class:`BulkJob` (``wait()`` for it); with ``dry_run=True``, the
        :class:`BulkPlan` of what it would do, changing nothing."""
        call = self._bulk(
            action, numbers, filter, trunk_id, application_id, dry_run, idempotency_key
        )
        answer = self._client._request(call)
        return answer if isinstance(answer, BulkPlan) else BulkJob(self._client, answer)

    def export(
        self, format: ExportFormat = "csv", **filters: Unpack[NumberFilters]
    ) -> ExportStream:
        """Stream every number matching ``filters`` as CSV or NDJSON (use ``with``)."""
        return self._client._stream(self._export(format, filters))


class AsyncNumbers(_NumberRequests, AsyncResource):
    """The account's numbers, for :class:`~voxnumbers_client.AsyncClient`."""

    def list(self, **params: Unpack[NumberListParams]) -> AsyncPaginator[Number]:
        """List owned numbers: ``await`` for the first page or ``async for`` over all."""
        return self._client._page(self._list(params))

    async def get(self, e164: str) -> Number:
        """Fetch one number."""
        return await self._client._request(self._get(e164))

    async def purchase(
        self, e164: str, country: str | None = None, *, idempotency_key: str | None = None
    ) -> Number:
        """Buy a number from inventory (without ``country``, read from inventory first)."""
        if country is None:
            country = await self._client._request(self._inventory_country(e164))
        if country is None:
            with contextlib.suppress(NotFoundError):
                country = (await self.get(e164)).country
        call = self._purchase(e164, _known(e164, country), idempotency_key)
        return await self._client._request(call)

    async def assign_trunk(
        self, e164: str, trunk_id: str, *, idempotency_key: str | None = None
    ) -> NumberRouting:
        """Route the number to a SIP trunk."""
        return await self._client._request(self._assign_trunk(e164, trunk_id, idempotency_key))

    async def unassign_trunk(
        self, e164: str, *, idempotency_key: str | None = None
    ) -> NumberRouting:
        """Remove the number's trunk."""
        return await self._client._request(self._unassign_trunk(e164, idempotency_key))

    async def assign_application(
        self, e164: str, application_id: str, *, idempotency_key: str | None = None
    ) -> NumberRouting:
        """Route the number to a voice application."""
        call = self._assign_application(e164, application_id, idempotency_key)
        return await self._client._request(call)

    async def unassign_application(
        self, e164: str, *, idempotency_key: str | None = None
    ) -> NumberRouting:
        """Remove the number's application."""
        return await self._client._request(self._unassign_application(e164, idempotency_key))

    async def release_preview(self, e164: str) -> ReleasePreview:
        """What releasing the number would cost."""
        return await self._client._request(self._release_preview(e164))

    async def release(self, e164: str, *, idempotency_key: str | None = None) -> NumberRelease:
        """Release the number."""
        return await self._client._request(self._release(e164, idempotency_key))

    async def cancel_release(self, e164: str, *, idempotency_key: str | None = None) -> Number:
        """Take a released number back while it cools off."""
        return await self._client._request(self._cancel_release(e164, idempotency_key))

    @overload
    async def bulk(
        self,
        action: BulkAction,
        *,
        numbers: Sequence[str] | None = None,
        filter: NumberFilters | None = None,
        trunk_id: str | None = None,
        application_id: str | None = None,
        dry_run: Literal[False] = False,
        idempotency_key: str | None = None,
    ) -> AsyncBulkJob: ...

    @overload
    async def bulk(
        self,
        action: BulkAction,
        *,
        numbers: Sequence[str] | None = None,
        filter: NumberFilters | None = None,
        trunk_id: str | None = None,
        application_id: str | None = None,
        dry_run: Literal[True],
        idempotency_key: str | None = None,
    ) -> BulkPlan: ...

    async def bulk(
        self,
        action: BulkAction,
        *,
        numbers: Sequence[str] | None = None,
        filter: NumberFilters | None = None,
        trunk_id: str | None = None,
        application_id: str | None = None,
        dry_run: bool = False,
        idempotency_key: str | None = None,
    ) -> AsyncBulkJob | BulkPlan:
        """Apply ``action`` to many numbers in one request (see ``Numbers.bulk``)."""
        call = self._bulk(
            action, numbers, filter, trunk_id, application_id, dry_run, idempotency_key
        )
        answer = await self._client._request(call)
        return answer if isinstance(answer, BulkPlan) else AsyncBulkJob(self._client, answer)

    def export(
        self, format: ExportFormat = "csv", **filters: Unpack[NumberFilters]
    ) -> AsyncExportStream:
        """Stream every matching number as CSV or NDJSON (use ``async with``)."""
        return self._client._stream(self._export(format, filters))


def _known(e164: str, country: str | None) -> str:
    if country is None:
        raise VoxError(
            f"{e164} is neither in inventory nor yours, so its country is not known; "
            "pass the country to buy it anyway"
        )
    return country


__all__ = ["AsyncNumbers", "ExportFormat", "Numbers"]
