"""What every user command needs: the global options and the one client built from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import typer

if TYPE_CHECKING:
    from voxnumbers_client._client import Client


class ClientFactory(Protocol):
    """Builds the client of a command (``Client`` itself; tests pass a fake-backed one)."""

    def __call__(
        self, api_key: str | None = None, *, account_id: str | None, base_url: str | None
    ) -> Client: ...


@dataclass
class CliState:
    """The root options (``--api-key``, ``--base-url``, ``--account``), kept in ``ctx.obj``.

    The client is built on first use, so ``--help`` and commands that need no API work
    without any settings.
    """

    api_key: str | None
    account_id: str | None
    base_url: str | None
    factory: ClientFactory | None = None
    _client: Client | None = field(default=None, repr=False)

    def client(self) -> Client:
        """The command's client; a missing setting is a usage error (exit code 2)."""
        if self._client is None:
            if not self.api_key:
                raise typer.BadParameter("No API key: pass --api-key or set VOX_API_KEY.")
            if not self.account_id:
                raise typer.BadParameter("No account: pass --account or set VOX_ACCOUNT_ID.")
            factory = self.factory
            if factory is None:
                from voxnumbers_client._client import Client

                factory = Client
            self._client = factory(self.api_key, account_id=self.account_id, base_url=self.base_url)
        return self._client

    def close(self) -> None:
        """Close the client if one was built."""
        if self._client is not None:
            self._client.close()


def client_of(ctx: typer.Context) -> Client:
    """The client for a command, from the state the root callback stored."""
    state = ctx.find_object(CliState)
    if state is None:
        raise RuntimeError("user commands must run under the root 'vox' app")
    return state.client()
