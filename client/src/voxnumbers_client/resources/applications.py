"""``client.applications``: voice applications numbers can route to (API.md §5)."""

from __future__ import annotations

from typing import Unpack

from voxnumbers_client._models import Application
from voxnumbers_client._pagination import AsyncPaginator, Page, PageRequest, page_parser
from voxnumbers_client._params import ApplicationFields, ApplicationUpdate, PageParams
from voxnumbers_client._request import APIRequest, check_keywords, compact, encode_query
from voxnumbers_client.resources._base import AsyncResource, Resource, SyncResource


class _ApplicationRequests(Resource):
    def _create(
        self, name: str, fields: ApplicationFields, key: str | None
    ) -> APIRequest[Application]:
        check_keywords(ApplicationFields, fields)
        body = compact({"name": name, **fields})
        path = self._path("applications")
        return APIRequest("POST", path, Application.from_json, body=body, idempotency_key=key)

    def _list(self, params: PageParams) -> PageRequest[Application]:
        query = encode_query(PageParams, params)
        parse = page_parser(Application.from_json)
        return APIRequest("GET", self._path("applications"), parse, query)

    def _get(self, app_id: str) -> APIRequest[Application]:
        return APIRequest("GET", self._path("applications", app_id), Application.from_json)

    def _update(self, app_id: str, fields: ApplicationUpdate) -> APIRequest[Application]:
        check_keywords(ApplicationUpdate, fields)
        path = self._path("applications", app_id)
        return APIRequest("PATCH", path, Application.from_json, body=dict(fields))

    def _delete(self, app_id: str, force: bool, key: str | None) -> APIRequest[Application]:
        path = self._path("applications", app_id)
        query = (("force", "true"),) if force else ()
        return APIRequest("DELETE", path, Application.from_json, query, idempotency_key=key)


class Applications(_ApplicationRequests, SyncResource):
    """Voice applications: where a number's calls are answered by URL callbacks."""

    def create(
        self, name: str, *, idempotency_key: str | None = None, **fields: Unpack[ApplicationFields]
    ) -> Application:
        """Create an application; ``fields``: ``answer_url``, ``answer_method``, ``hangup_url``,
        ``hangup_method``, ``fallback_url``, ``webhook_secret``."""
        return self._client._request(self._create(name, fields, idempotency_key))

    def list(self, **params: Unpack[PageParams]) -> Page[Application]:
        """List the account's applications."""
        return self._client._page(self._list(params))

    def get(self, app_id: str) -> Application:
        """Fetch one application."""
        return self._client._request(self._get(app_id))

    def update(self, app_id: str, **fields: Unpack[ApplicationUpdate]) -> Application:
        """Change only the fields passed (``None`` clears an optional field)."""
        return self._client._request(self._update(app_id, fields))

    def delete(
        self, app_id: str, *, force: bool = False, idempotency_key: str | None = None
    ) -> Application:
        """Delete an application; ``force=True`` first unassigns the numbers routed to it."""
        return self._client._request(self._delete(app_id, force, idempotency_key))


class AsyncApplications(_ApplicationRequests, AsyncResource):
    """Voice applications, for :class:`~voxnumbers_client.AsyncClient`."""

    async def create(
        self, name: str, *, idempotency_key: str | None = None, **fields: Unpack[ApplicationFields]
    ) -> Application:
        """Create an application."""
        return await self._client._request(self._create(name, fields, idempotency_key))

    def list(self, **params: Unpack[PageParams]) -> AsyncPaginator[Application]:
        """List the account's applications."""
        return self._client._page(self._list(params))

    async def get(self, app_id: str) -> Application:
        """Fetch one application."""
        return await self._client._request(self._get(app_id))

    async def update(self, app_id: str, **fields: Unpack[ApplicationUpdate]) -> Application:
        """Change only the fields passed."""
        return await self._client._request(self._update(app_id, fields))

    async def delete(
        self, app_id: str, *, force: bool = False, idempotency_key: str | None = None
    ) -> Application:
        """Delete an application (``force=True`` unassigns its numbers)."""
        return await self._client._request(self._delete(app_id, force, idempotency_key))


__all__ = ["Applications", "AsyncApplications"]
