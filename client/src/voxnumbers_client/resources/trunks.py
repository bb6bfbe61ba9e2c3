"""``client.trunks``: SIP trunks, their credentials and IP ACLs (API.md §4)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Unpack

from voxnumbers_client._errors import PreconditionFailedError
from voxnumbers_client._models import IpAclEntry, Trunk, TrunkCredential
from voxnumbers_client._pagination import AsyncPaginator, Page, PageRequest, page_parser
from voxnumbers_client._params import PageParams, TrunkFields, TrunkUpdate
from voxnumbers_client._request import APIRequest, check_keywords, compact, encode_query
from voxnumbers_client.resources._base import AsyncResource, Resource, SyncResource

if TYPE_CHECKING:
    from voxnumbers_client._client import AsyncClient, Client


#: Reads and writes ``update`` tries when the trunk keeps changing under it.
UPDATE_ATTEMPTS = 3


class _TrunkRequests(Resource):
    def _write(
        self,
        method: str,
        path: str,
        name: str,
        auth_type: str,
        fields: TrunkFields,
        key: str | None,
    ) -> APIRequest[Trunk]:
        check_keywords(TrunkFields, fields)
        body = compact({"name": name, "auth_type": auth_type, **fields})
        return APIRequest(method, path, Trunk.from_json, body=body, idempotency_key=key)

    def _create(
        self, name: str, auth_type: str, fields: TrunkFields, key: str | None
    ) -> APIRequest[Trunk]:
        return self._write("POST", self._path("trunks"), name, auth_type, fields, key)

    def _replace(
        self,
        trunk_id: str,
        name: str,
        auth_type: str,
        fields: TrunkFields,
        if_match: str | None = None,
    ) -> APIRequest[Trunk]:
        call = self._write("PUT", self._path("trunks", trunk_id), name, auth_type, fields, None)
        return dataclasses.replace(call, if_match=if_match)

    def _updated(
        self, trunk_id: str, current: Trunk, etag: str | None, changes: TrunkUpdate
    ) -> APIRequest[Trunk]:
        """The PUT that writes ``current`` with ``changes`` applied, if it is still current."""
        check_keywords(TrunkUpdate, changes)
        merged = {
            "name": current.name,
            "auth_type": current.auth_type,
            "termination_uri": current.termination_uri,
            "origination_uris": current.origination_uris,
            "max_channels": current.max_channels,
            **changes,
        }
        name, auth_type = merged.pop("name"), merged.pop("auth_type")
        return self._replace(trunk_id, name, auth_type, merged, if_match=etag)  # type: ignore[arg-type]

    def _list(self, params: PageParams) -> PageRequest[Trunk]:
        query = encode_query(PageParams, params)
        return APIRequest("GET", self._path("trunks"), page_parser(Trunk.from_json), query)

    def _get(self, trunk_id: str) -> APIRequest[Trunk]:
        return APIRequest("GET", self._path("trunks", trunk_id), Trunk.from_json)

    def _delete(self, trunk_id: str, force: bool, key: str | None) -> APIRequest[Trunk]:
        query = (("force", "true"),) if force else ()
        path = self._path("trunks", trunk_id)
        return APIRequest("DELETE", path, Trunk.from_json, query, idempotency_key=key)


class _CredentialRequests(Resource):
    def _create(
        self, trunk_id: str, username: str, password: str, key: str | None
    ) -> APIRequest[TrunkCredential]:
        path = self._path("trunks", trunk_id, "credentials")
        body = {"username": username, "password": password}
        return APIRequest("POST", path, TrunkCredential.from_json, body=body, idempotency_key=key)

    def _list(self, trunk_id: str, params: PageParams) -> PageRequest[TrunkCredential]:
        path = self._path("trunks", trunk_id, "credentials")
        parse = page_parser(TrunkCredential.from_json)
        return APIRequest("GET", path, parse, encode_query(PageParams, params))

    def _delete(
        self, trunk_id: str, credential_id: str, key: str | None
    ) -> APIRequest[TrunkCredential]:
        path = self._path("trunks", trunk_id, "credentials", credential_id)
        return APIRequest("DELETE", path, TrunkCredential.from_json, idempotency_key=key)


class _IpAclRequests(Resource):
    def _create(
        self, trunk_id: str, ip: str, mask: int | None, description: str | None, key: str | None
    ) -> APIRequest[IpAclEntry]:
        path = self._path("trunks", trunk_id, "ip-acl")
        body = compact({"ip": ip, "mask": mask, "description": description})
        return APIRequest("POST", path, IpAclEntry.from_json, body=body, idempotency_key=key)

    def _list(self, trunk_id: str, params: PageParams) -> PageRequest[IpAclEntry]:
        path = self._path("trunks", trunk_id, "ip-acl")
        parse = page_parser(IpAclEntry.from_json)
        return APIRequest("GET", path, parse, encode_query(PageParams, params))

    def _delete(self, trunk_id: str, acl_id: str, key: str | None) -> APIRequest[IpAclEntry]:
        path = self._path("trunks", trunk_id, "ip-acl", acl_id)
        return APIRequest("DELETE", path, IpAclEntry.from_json, idempotency_key=key)


# --- sync ----------------------------------------------------------------------------------


class TrunkCredentials(_CredentialRequests, SyncResource):
    """``client.trunks.credentials``: usernames that may authenticate on a trunk."""

    def create(
        self, trunk_id: str, username: str, password: str, *, idempotency_key: str | None = None
    ) -> TrunkCredential:
        """Add a credential (password of 12+ characters, stored hashed, never returned)."""
        return self._client._request(self._create(trunk_id, username, password, idempotency_key))

    def list(self, trunk_id: str, **params: Unpack[PageParams]) -> Page[TrunkCredential]:
        """List a trunk's credentials."""
        return self._client._page(self._list(trunk_id, params))

    def delete(
        self, trunk_id: str, credential_id: str, *, idempotency_key: str | None = None
    ) -> TrunkCredential:
        """Remove a credential."""
        return self._client._request(self._delete(trunk_id, credential_id, idempotency_key))


class TrunkIpAcl(_IpAclRequests, SyncResource):
    """``client.trunks.ip_acl``: address ranges allowed on a trunk."""

    def create(
        self,
        trunk_id: str,
        ip: str,
        *,
        mask: int | None = None,
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> IpAclEntry:
        """Allow ``ip``/``mask`` (mask defaults to 32 for IPv4, 128 for IPv6)."""
        call = self._create(trunk_id, ip, mask, description, idempotency_key)
        return self._client._request(call)

    def list(self, trunk_id: str, **params: Unpack[PageParams]) -> Page[IpAclEntry]:
        """List a trunk's ACL entries."""
        return self._client._page(self._list(trunk_id, params))

    def delete(
        self, trunk_id: str, acl_id: str, *, idempotency_key: str | None = None
    ) -> IpAclEntry:
        """Remove an ACL entry."""
        return self._client._request(self._delete(trunk_id, acl_id, idempotency_key))


class Trunks(_TrunkRequests, SyncResource):
    """SIP trunks; ``credentials`` and ``ip_acl`` manage who may use each trunk."""

    def __init__(self, client: Client) -> None:
        super().__init__(client)
        self.credentials = TrunkCredentials(client)
        self.ip_acl = TrunkIpAcl(client)

    def create(
        self,
        name: str,
        auth_type: str,
        *,
        idempotency_key: str | None = None,
        **fields: Unpack[TrunkFields],
    ) -> Trunk:
        """Create a trunk; ``auth_type`` is ``ip`` or ``credential``; ``fields``:
        ``termination_uri``, ``origination_uris``, ``max_channels`` (0 = unlimited)."""
        return self._client._request(self._create(name, auth_type, fields, idempotency_key))

    def list(self, **params: Unpack[PageParams]) -> Page[Trunk]:
        """List the account's trunks."""
        return self._client._page(self._list(params))

    def get(self, trunk_id: str) -> Trunk:
        """Fetch one trunk."""
        return self._client._request(self._get(trunk_id))

    def replace(
        self,
        trunk_id: str,
        name: str,
        auth_type: str,
        *,
        if_match: str | None = None,
        **fields: Unpack[TrunkFields],
    ) -> Trunk:
        """Replace the whole trunk (PUT): fields not passed return to their defaults.
        ``if_match``: an ETag; ``PreconditionFailedError`` if the trunk changed since."""
        return self._client._request(self._replace(trunk_id, name, auth_type, fields, if_match))

    def update(self, trunk_id: str, **changes: Unpack[TrunkUpdate]) -> Trunk:
        """Change only the fields passed: reads the trunk, then writes it back changed with
        ``If-Match``, so a change made meanwhile by someone else is never overwritten (the
        read and write are tried again, up to 3 times, before ``PreconditionFailedError``)."""
        for attempt in range(UPDATE_ATTEMPTS):
            current, response = self._client._exchange(self._get(trunk_id))
            call = self._updated(trunk_id, current, response.headers.get("etag"), changes)
            try:
                return self._client._request(call)
            except PreconditionFailedError:
                if attempt == UPDATE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def delete(
        self, trunk_id: str, *, force: bool = False, idempotency_key: str | None = None
    ) -> Trunk:
        """Delete a trunk; ``force=True`` first unassigns the numbers routed to it."""
        return self._client._request(self._delete(trunk_id, force, idempotency_key))


# --- async ---------------------------------------------------------------------------------


class AsyncTrunkCredentials(_CredentialRequests, AsyncResource):
    """Trunk credentials, for :class:`~voxnumbers_client.AsyncClient`."""

    async def create(
        self, trunk_id: str, username: str, password: str, *, idempotency_key: str | None = None
    ) -> TrunkCredential:
        """Add a credential."""
        call = self._create(trunk_id, username, password, idempotency_key)
        return await self._client._request(call)

    def list(self, trunk_id: str, **params: Unpack[PageParams]) -> AsyncPaginator[TrunkCredential]:
        """List a trunk's credentials."""
        return self._client._page(self._list(trunk_id, params))

    async def delete(
        self, trunk_id: str, credential_id: str, *, idempotency_key: str | None = None
    ) -> TrunkCredential:
        """Remove a credential."""
        call = self._delete(trunk_id, credential_id, idempotency_key)
        return await self._client._request(call)


class AsyncTrunkIpAcl(_IpAclRequests, AsyncResource):
    """Trunk IP ACLs, for :class:`~voxnumbers_client.AsyncClient`."""

    async def create(
        self,
        trunk_id: str,
        ip: str,
        *,
        mask: int | None = None,
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> IpAclEntry:
        """Allow ``ip``/``mask``."""
        call = self._create(trunk_id, ip, mask, description, idempotency_key)
        return await self._client._request(call)

    def list(self, trunk_id: str, **params: Unpack[PageParams]) -> AsyncPaginator[IpAclEntry]:
        """List a trunk's ACL entries."""
        return self._client._page(self._list(trunk_id, params))

    async def delete(
        self, trunk_id: str, acl_id: str, *, idempotency_key: str | None = None
    ) -> IpAclEntry:
        """Remove an ACL entry."""
        return await self._client._request(self._delete(trunk_id, acl_id, idempotency_key))


class AsyncTrunks(_TrunkRequests, AsyncResource):
    """SIP trunks, for :class:`~voxnumbers_client.AsyncClient`."""

    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client)
        self.credentials = AsyncTrunkCredentials(client)
        self.ip_acl = AsyncTrunkIpAcl(client)

    async def create(
        self,
        name: str,
        auth_type: str,
        *,
        idempotency_key: str | None = None,
        **fields: Unpack[TrunkFields],
    ) -> Trunk:
        """Create a trunk."""
        return await self._client._request(self._create(name, auth_type, fields, idempotency_key))

    def list(self, **params: Unpack[PageParams]) -> AsyncPaginator[Trunk]:
        """List the account's trunks."""
        return self._client._page(self._list(params))

    async def get(self, trunk_id: str) -> Trunk:
        """Fetch one trunk."""
        return await self._client._request(self._get(trunk_id))

    async def replace(
        self,
        trunk_id: str,
        name: str,
        auth_type: str,
        *,
        if_match: str | None = None,
        **fields: Unpack[TrunkFields],
    ) -> Trunk:
        """Replace the whole trunk (PUT), if still at the ETag ``if_match`` when given."""
        call = self._replace(trunk_id, name, auth_type, fields, if_match)
        return await self._client._request(call)

    async def update(self, trunk_id: str, **changes: Unpack[TrunkUpdate]) -> Trunk:
        """Change only the fields passed (read, then write with ``If-Match``)."""
        for attempt in range(UPDATE_ATTEMPTS):
            current, response = await self._client._exchange(self._get(trunk_id))
            call = self._updated(trunk_id, current, response.headers.get("etag"), changes)
            try:
                return await self._client._request(call)
            except PreconditionFailedError:
                if attempt == UPDATE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def delete(
        self, trunk_id: str, *, force: bool = False, idempotency_key: str | None = None
    ) -> Trunk:
        """Delete a trunk (``force=True`` unassigns its numbers)."""
        return await self._client._request(self._delete(trunk_id, force, idempotency_key))


__all__ = [
    "AsyncTrunkCredentials",
    "AsyncTrunkIpAcl",
    "AsyncTrunks",
    "TrunkCredentials",
    "TrunkIpAcl",
    "Trunks",
]
