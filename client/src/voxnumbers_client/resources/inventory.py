"""``client.inventory``: numbers available to buy (API.md §3.1b)."""

from __future__ import annotations

from typing import Unpack

from voxnumbers_client._models import AvailableNumber
from voxnumbers_client._pagination import AsyncPaginator, Page, PageRequest, page_parser
from voxnumbers_client._params import InventorySearchParams
from voxnumbers_client._request import APIRequest, encode_query
from voxnumbers_client.resources._base import AsyncResource, Resource, SyncResource


class _InventoryRequests(Resource):
    def _search(self, params: InventorySearchParams) -> PageRequest[AvailableNumber]:
        query = encode_query(InventorySearchParams, params)
        parse = page_parser(AvailableNumber.from_json)
        return APIRequest("GET", self._path("inventory", "numbers"), parse, query)


class Inventory(_InventoryRequests, SyncResource):
    """Numbers anyone may buy now (not owned, not cooling off)."""

    def search(self, **params: Unpack[InventorySearchParams]) -> Page[AvailableNumber]:
        """Search inventory, ordered by number; iterate the page to walk all pages.

        Filters: ``country``, ``type``, ``region``, ``capability``, ``contains``; paging:
        ``page``, ``per_page``.
        """
        return self._client._page(self._search(params))


class AsyncInventory(_InventoryRequests, AsyncResource):
    """Numbers available to buy, for :class:`~voxnumbers_client.AsyncClient`."""

    def search(self, **params: Unpack[InventorySearchParams]) -> AsyncPaginator[AvailableNumber]:
        """Search inventory: ``await`` for the first page or ``async for`` over all."""
        return self._client._page(self._search(params))


__all__ = ["AsyncInventory", "Inventory"]
