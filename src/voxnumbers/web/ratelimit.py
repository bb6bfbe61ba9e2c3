"""Rate limits per API key on ``/v1`` (``spec/API.md`` §7), and the headers announcing them.

The limit is checked by the guards (``accounts.guards``, ``admin.guards``) right after
authentication, so it counts requests per key (``KeyHolder.key_id``: an API key's id, or an
operator token's) and never counts unauthenticated ones. Over the limit the request is
refused ``429 RATE_LIMITED`` with ``Retry-After``. Every response to an authenticated request
(successes, errors, replays, refusals) then carries the two header fields of
draft-ietf-httpapi-ratelimit-headers-11 (May 2026), added as the response starts::

    RateLimit-Policy: "default";q=600;w=60
    RateLimit: "default";r=99;t=1

``q``/``w``: the sustained quota, ``VOX_RATE_LIMIT_PER_MINUTE`` requests per 60 seconds.
``r``: requests the key may make right now (at most ``VOX_RATE_LIMIT_BURST``). ``t``: seconds
until ``r`` grows again, i.e. the draft's "effective window" within which the key can make no
more than ``r`` requests; on a 429 it equals ``Retry-After``, as the draft asks (§6).

Limits are shared by every instance through Redis when ``VOX_REDIS_URL`` is set, per process
otherwise, and per process while Redis is unreachable (see ``voxnumbers.kit.ratelimit``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Protocol

from litestar import Litestar
from litestar.types import Message, Scope

from voxnumbers.errors import RateLimited
from voxnumbers.kit.ratelimit import Decision, Quota, RateLimiter, RedisStore
from voxnumbers.settings import Settings, SettingsError

_STATE = "rate_limit"
POLICY = "default"


class KeyHolder(Protocol):
    """Whoever a request is counted against: an authenticated caller and its key's id."""

    @property
    def key_id(self) -> str: ...


class RateLimits:
    """The API's rate limiting around one :class:`RateLimiter` (or none when limits are
    off): the check the guards call, a ``before_send`` hook adding the header
    fields, and a lifespan closing Redis."""

    def __init__(self, limiter: RateLimiter | None) -> None:
        self.limiter = limiter
        self._policy = b""
        if limiter is not None:
            self._policy = f'"{POLICY}";q={limiter.quota.per_minute};w=60'.encode()

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        """Limits as configured by ``VOX_RATE_LIMIT_*`` and ``VOX_REDIS_*``."""
        if settings.rate_limit_per_minute == 0:
            return cls(None)
        try:
            quota = Quota(settings.rate_limit_per_minute, settings.rate_limit_burst)
        except ValueError as exc:
            raise SettingsError(
                "VOX_RATE_LIMIT_PER_MINUTE must be 0 (off) or positive, "
                "and VOX_RATE_LIMIT_BURST at least 1"
            ) from exc
        shared = None
        if settings.redis_url:
            shared = RedisStore(
                settings.redis_url,
                settings.redis_key_prefix,
                timeout_seconds=settings.redis_timeout_seconds,
            )
        return cls(RateLimiter(quota, shared))

    async def check(self, caller: KeyHolder, scope: Scope) -> None:
        """Count the caller's request against its key's quota; ``429`` when over it."""
        if self.limiter is None:
            return
        decision = await self.limiter.check(caller.key_id)
        scope["state"][_STATE] = decision
        if not decision.allowed:
            raise RateLimited(
                f"Too many requests for this API key; retry in {decision.retry_after_seconds} s.",
                headers={"Retry-After": str(decision.retry_after_seconds)},
            )

    async def add_headers(self, message: Message, scope: Scope) -> None:
        """``before_send`` hook: the RateLimit fields on every response to a counted request."""
        if message["type"] != "http.response.start":
            return
        decision: Decision | None = scope.get("state", {}).get(_STATE)
        if decision is None:
            return
        message["headers"] = [
            *message.get("headers", ()),
            (b"ratelimit-policy", self._policy),
            (b"ratelimit", _service_limit(decision)),
        ]

    @contextlib.asynccontextmanager
    async def lifespan(self, _: Litestar) -> AsyncIterator[None]:
        """Close the Redis connections at shutdown."""
        try:
            yield
        finally:
            if self.limiter is not None:
                await self.limiter.aclose()


def _service_limit(decision: Decision) -> bytes:
    return f'"{POLICY}";r={decision.remaining};t={decision.reset_seconds}'.encode()
