"""Configuration from arguments and VOX_* variables, headers, timeouts, closing."""

from __future__ import annotations

import httpx
import pytest
from fake_api import ACCOUNT_ID, API_KEY, FakeTryVox

from voxnumbers_client import (
    DEFAULT_BASE_URL,
    AsyncClient,
    Client,
    NotFoundError,
    VoxConfigError,
    __version__,
)


def test_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, fake: FakeTryVox
) -> None:
    monkeypatch.setenv("VOX_API_KEY", API_KEY)
    monkeypatch.setenv("VOX_ACCOUNT_ID", ACCOUNT_ID)
    monkeypatch.setenv("VOX_BASE_URL", "http://localhost:8000/")

    with Client(transport=fake.transport) as client:
        client.numbers.list()

    assert (client.account_id, client.base_url) == (ACCOUNT_ID, "http://localhost:8000")
    assert str(fake.requests[0].url).startswith("http://localhost:8000/v1/account/acc_123abc/")


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOX_API_KEY", "tvx_sk_test_env")
    monkeypatch.setenv("VOX_ACCOUNT_ID", "acc_env")
    client = Client("tvx_sk_test_arg", account_id="acc_arg")
    assert client.account_id == "acc_arg"
    assert client.base_url == DEFAULT_BASE_URL == "https://api.tryvox.io"


def test_a_base_url_with_a_path_prefix_is_kept(fake: FakeTryVox) -> None:
    client = Client(
        API_KEY, account_id=ACCOUNT_ID, base_url="https://gw.example/vox", transport=fake.transport
    )
    with pytest.raises(NotFoundError):  # the fake serves /v1 only at the root
        client.numbers.list()
    assert str(fake.requests[0].url).startswith("https://gw.example/vox/v1/account/")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"account_id": ACCOUNT_ID}, "VOX_API_KEY"),
        ({"api_key": API_KEY}, "VOX_ACCOUNT_ID"),
        ({"api_key": API_KEY, "account_id": ACCOUNT_ID, "max_retries": -1}, "max_retries"),
    ],
)
def test_missing_settings_are_reported(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(VoxConfigError, match=message):
        Client(**kwargs)  # type: ignore[arg-type]


def test_every_request_is_authenticated_and_identified(fake: FakeTryVox) -> None:
    with Client(API_KEY, account_id=ACCOUNT_ID, transport=fake.transport) as client:
        client.numbers.list()
    headers = fake.requests[0].headers
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"].startswith(f"voxnumbers-client/{__version__} ")


def test_the_key_never_shows_in_repr() -> None:
    client = Client(API_KEY, account_id=ACCOUNT_ID)
    assert API_KEY not in repr(client) and API_KEY not in repr(client._config)


def test_timeouts_are_configurable_and_applied(fake: FakeTryVox) -> None:
    client = Client(API_KEY, account_id=ACCOUNT_ID, timeout=4.5, transport=fake.transport)
    assert client.timeout == httpx.Timeout(4.5)
    client.numbers.list()
    assert fake.requests[0].extensions["timeout"] == httpx.Timeout(4.5).as_dict()
    assert Client(API_KEY, account_id=ACCOUNT_ID).timeout.connect == 10.0


def test_close_and_context_manager(fake: FakeTryVox) -> None:
    client = Client(API_KEY, account_id=ACCOUNT_ID, transport=fake.transport)
    with client as entered:
        assert entered is client
    assert client._http.is_closed
    assert client.max_retries == 2


async def test_async_close_and_context_manager(fake: FakeTryVox) -> None:
    async with AsyncClient(API_KEY, account_id=ACCOUNT_ID, transport=fake.transport) as client:
        assert (await client.numbers.get("+14155551234")).country == "US"
    assert client._http.is_closed
