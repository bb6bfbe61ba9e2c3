"""Base classes of the resources: where their paths start and which client sends them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from voxnumbers_client._request import account_path

if TYPE_CHECKING:
    from voxnumbers_client._client import AsyncClient, Client


class Resource:
    """Builds the requests of one group of endpoints; knows nothing of I/O."""

    def __init__(self, account_id: str) -> None:
        self._account_id = account_id

    def _path(self, *segments: str) -> str:
        return account_path(self._account_id, *segments)


class SyncResource(Resource):
    """A resource of :class:`~voxnumbers_client.Client`."""

    def __init__(self, client: Client) -> None:
        super().__init__(client.account_id)
        self._client = client


class AsyncResource(Resource):
    """A resource of :class:`~voxnumbers_client.AsyncClient`."""

    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client.account_id)
        self._client = client
