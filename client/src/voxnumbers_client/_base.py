"""What the sync and async clients share: settings, building requests, reading answers.

Only sending differs between :class:`~voxnumbers_client.Client` and
:class:`~voxnumbers_client.AsyncClient`; everything before and after the I/O is here.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

import httpx

from voxnumbers_client import _json
from voxnumbers_client._config import TEST_KEY_PREFIX, ClientConfig
from voxnumbers_client._errors import VoxResponseError, error_from_response
from voxnumbers_client._request import APIRequest
from voxnumbers_client._retry import RetryPolicy

T = TypeVar("T")
HttpClientT = TypeVar("HttpClientT", httpx.Client, httpx.AsyncClient)

#: Methods with side effects: each logical call gets one ``Idempotency-Key`` for all attempts.
IDEMPOTENT_BY_KEY = frozenset({"POST", "DELETE"})


@dataclass(frozen=True, slots=True)
class RawResponse:
    """The HTTP side of an API answer: what ``client.last_response`` holds.

    ``etag`` is the object's version (single-object reads and writes), to send back as
    ``if_match=`` so a write is refused (``PreconditionFailedError``) if the object changed
    meanwhile; ``request_id`` is what to quote to support; ``http`` is the ``httpx.Response``.
    """

    status_code: int
    headers: httpx.Headers
    request_id: str | None
    etag: str | None
    http: httpx.Response

    @classmethod
    def of(cls, response: httpx.Response) -> RawResponse:
        headers = response.headers
        return cls(
            response.status_code,
            headers,
            headers.get("x-request-id"),
            headers.get("etag"),
            response,
        )


class BaseClient(Generic[HttpClientT]):
    """Settings and the request/response handling common to both clients."""

    _http: HttpClientT

    def __init__(self, config: ClientConfig, http: HttpClientT) -> None:
        self._config = config
        self._http = http
        self._retry = RetryPolicy(max_retries=config.max_retries)
        # Per thread and per asyncio task: concurrent calls each see their own answer.
        self._last_response: ContextVar[RawResponse | None] = ContextVar(
            "vox_last_response", default=None
        )

    @property
    def last_response(self) -> RawResponse | None:
        """The HTTP answer to this client's last call in the current thread or asyncio task
        (errors included): status, headers, request id and ETag."""
        return self._last_response.get()

    def _remember(self, response: httpx.Response) -> httpx.Response:
        self._last_response.set(RawResponse.of(response))
        return response

    @property
    def account_id(self) -> str:
        """The account every call acts on."""
        return self._config.account_id

    @property
    def mode(self) -> Literal["live", "test"]:
        """Which of the account's two worlds the key acts in: ``"test"`` for a
        ``tvx_sk_test_…`` key (the account's test data only), ``"live"`` otherwise."""
        return "test" if self._config.api_key.startswith(TEST_KEY_PREFIX) else "live"

    @property
    def livemode(self) -> bool:
        """``True`` when the key acts on live data (``mode == "live"``)."""
        return self.mode == "live"

    @property
    def base_url(self) -> str:
        """The API's root URL, without a trailing slash."""
        return self._config.base_url

    @property
    def max_retries(self) -> int:
        """How many times a failed request may be retried."""
        return self._config.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeouts applied to every request."""
        return self._config.timeout

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base_url} account={self.account_id} mode={self.mode}>"

    def _build_request(self, call: APIRequest[T]) -> httpx.Request:
        """The HTTP request for ``call``; sent as-is on every attempt (same idempotency key)."""
        headers: dict[str, str] = {}
        content: bytes | None = None
        if call.body is not None:
            content = _json.dumps(call.body).encode()
            headers["Content-Type"] = "application/json"
        if call.method in IDEMPOTENT_BY_KEY:
            headers["Idempotency-Key"] = call.idempotency_key or str(uuid.uuid4())
        if call.if_match is not None:
            headers["If-Match"] = call.if_match
        headers.update(call.headers)
        return self._http.build_request(
            call.method, call.path, params=call.params, content=content, headers=headers
        )

    @staticmethod
    def _parse(call: APIRequest[T], response: httpx.Response) -> T:
        """The result of ``call`` from its (fully read) response, or the API's error raised."""
        if response.is_error:
            raise error_from_response(response)
        try:
            return call.parse(_json.loads(response.content))
        except ValueError as exc:
            raise VoxResponseError(
                f"Unexpected response to {call.method} {call.path} "
                f"(HTTP {response.status_code}): {exc}"
            ) from exc
