"""Client settings: from arguments first, then the ``VOX_*`` environment, then defaults."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from voxnumbers_client._errors import VoxConfigError
from voxnumbers_client._version import __version__

DEFAULT_BASE_URL = "https://api.tryvox.io"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEFAULT_MAX_RETRIES = 2


#: Keys of an account's test world start so (``tvx_sk_live_…`` keys act on live data).
TEST_KEY_PREFIX = "tvx_sk_test_"


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Resolved settings of one client (the API key is kept out of ``repr``)."""

    api_key: str = field(repr=False)
    account_id: str
    base_url: str
    timeout: httpx.Timeout
    max_retries: int

    @classmethod
    def resolve(
        cls,
        *,
        api_key: str | None,
        account_id: str | None,
        base_url: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int | None,
        environ: Mapping[str, str] | None = None,
    ) -> ClientConfig:
        """Fill each setting from its argument, else ``VOX_API_KEY``/``VOX_ACCOUNT_ID``/
        ``VOX_BASE_URL``, else its default; raise :class:`VoxConfigError` if one is missing."""
        env = os.environ if environ is None else environ
        api_key = api_key or env.get("VOX_API_KEY")
        account_id = account_id or env.get("VOX_ACCOUNT_ID")
        if not api_key:
            raise VoxConfigError("No API key: pass api_key= or set VOX_API_KEY.")
        if not account_id:
            raise VoxConfigError("No account id: pass account_id= or set VOX_ACCOUNT_ID.")
        if max_retries is not None and max_retries < 0:
            raise VoxConfigError("max_retries must be 0 or more.")
        return cls(
            api_key=api_key,
            account_id=account_id,
            base_url=(base_url or env.get("VOX_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
            timeout=httpx.Timeout(timeout) if timeout is not None else DEFAULT_TIMEOUT,
            max_retries=DEFAULT_MAX_RETRIES if max_retries is None else max_retries,
        )

    def headers(self) -> dict[str, str]:
        """Headers sent with every request."""
        return {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/json",
            "User-Agent": (
                f"voxnumbers-client/{__version__} python/{platform.python_version()} "
                f"httpx/{httpx.__version__}"
            ),
        }
