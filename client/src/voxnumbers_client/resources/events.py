"""``client.events``: the record of every change to the account's numbers (API.md §6)."""

from __future__ import annotations

from typing import Unpack

from voxnumbers_client._models import Event
from voxnumbers_client._pagination import AsyncPaginator, Page, PageRequest, page_parser
from voxnumbers_client._params import EventListParams
from voxnumbers_client._request import APIRequest, encode_query
from voxnumbers_client.resources._base import AsyncResource, Resource, SyncResource


class _EventRequests(Resource):
    def _list(self, params: EventListParams) -> PageRequest[Event]:
        query = encode_query(EventListParams, params)
        return APIRequest("GET", self._path("events"), page_parser(Event.from_json), query)


class Events(_EventRequests, SyncResource):
    """Events: numbers purchased, activated, routed, suspended, released, …"""

    def list(self, **params: Unpack[EventListParams]) -> Page[Event]:
        """List events, newest first; filter by ``type`` or ``e164``."""
        return self._client._page(self._list(params))


class AsyncEvents(_EventRequests, AsyncResource):
    """Events, for :class:`~voxnumbers_client.AsyncClient`."""

    def list(self, **params: Unpack[EventListParams]) -> AsyncPaginator[Event]:
        """List events: ``await`` for the first page or ``async for`` over all."""
        return self._client._page(self._list(params))


__all__ = ["AsyncEvents", "Events"]
