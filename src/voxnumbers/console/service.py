"""Rules of the web console's sessions: sign in with an API key, recognise a browser by its
cookie, check the CSRF token of a form, sign out.

The cookie holds a random token (256 bits) and the database only its SHA-256, like API
keys. The API key itself is checked once, at sign-in, and never stored or sent back: a
session refers to the key by its id.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, date, datetime, time, timedelta

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.accounts import service as accounts
from voxnumbers.accounts.usage import KeyUsage
from voxnumbers.applications import service as applications
from voxnumbers.applications.schemas import Application
from voxnumbers.console import repository
from voxnumbers.console.schemas import ConsoleSession, NewSession, NumbersQuery
from voxnumbers.errors import Forbidden, Unauthorized
from voxnumbers.events import service as events
from voxnumbers.events.schemas import Event
from voxnumbers.kit.apikeys import key_hint
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.pagination import PER_PAGE_DEFAULT, PER_PAGE_MAX
from voxnumbers.numbers import service as numbers
from voxnumbers.numbers.schemas import ListOrder, Number, NumberFilter, NumberPage
from voxnumbers.trunks import service as trunks
from voxnumbers.trunks.schemas import CredentialPage, IpAclPage, Trunk

SESSION_LIFETIME = timedelta(hours=12)


def new_token() -> str:
    """A random URL-safe token of 256 bits (session cookies, CSRF tokens)."""
    return secrets.token_urlsafe(32)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


async def sign_in(conn: AsyncConnection, api_key: str, usage: KeyUsage | None = None) -> NewSession:
    """A new session for the key's account (``401`` for a missing, unknown or revoked key,
    exactly as the API answers it). Expired sessions of every account are swept here, so
    the table only holds live ones plus those of the last few hours."""
    try:
        caller = await accounts.authenticate(conn, f"Bearer {api_key.strip()}", usage)
    except Unauthorized:
        raise Unauthorized(
            "That API key was not accepted: it is unknown or revoked, or its account is suspended."
        ) from None
    now = utc_now()
    await repository.delete_expired_sessions(conn, now)
    token = new_token()
    session = ConsoleSession(
        account_id=caller.account_id,
        key_id=caller.key_id,
        mode=caller.mode,
        hint=key_hint(api_key.strip()),
        csrf_token=new_token(),
        public_account_id=caller.public_account_id,
    )
    await repository.insert_session(
        conn, _digest(token), session, created_at=now, expires_at=now + SESSION_LIFETIME
    )
    return NewSession(token=token, session=session)


async def find_session(conn: AsyncConnection, token: str | None) -> ConsoleSession | None:
    """The live session of this cookie, if any (expired, signed out, revoked key and
    suspended account all read as none)."""
    if not token or len(token) > 100:
        return None
    return await repository.find_session(conn, _digest(token), utc_now())


async def sign_out(conn: AsyncConnection, token: str | None) -> None:
    """End the session server-side: the cookie's token means nothing from now on."""
    if token and len(token) <= 100:
        await repository.delete_session(conn, _digest(token))


def check_csrf(expected: str, given: str | None) -> None:
    """A state-changing form must carry the token its page was rendered with (``403``)."""
    if not given or not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise Forbidden("This form has expired or did not come from the console; reload the page.")


# --- what a page shows, gathered from the features' services ---------------------------------


class NumberView(msgspec.Struct, kw_only=True):
    """The number page: the number, where it may route to, and its recent events."""

    number: Number
    trunks: list[Trunk]
    applications: list[Application]
    events: list[Event]
    events_total: int


async def number_view(
    conn: AsyncConnection, account_id: str, e164: str, *, sip_domain: str
) -> NumberView:
    number = await numbers.get_number(conn, account_id, e164)
    trunk_page = await trunks.list_trunks(
        conn, account_id, page=1, per_page=PER_PAGE_MAX, sip_domain=sip_domain
    )
    application_page = await applications.list_applications(
        conn, account_id, page=1, per_page=PER_PAGE_MAX
    )
    event_page = await events.list_events(
        conn, account_id, type=None, e164=number.e164, page=1, per_page=PER_PAGE_DEFAULT
    )
    return NumberView(
        number=number,
        trunks=trunk_page.data,
        applications=application_page.data,
        events=event_page.data,
        events_total=event_page.pagination.total,
    )


class TrunkView(msgspec.Struct, kw_only=True):
    """The trunk page: the trunk, its credentials and its IP ACL."""

    trunk: Trunk
    credentials: CredentialPage
    acl: IpAclPage


async def trunk_view(
    conn: AsyncConnection, account_id: str, trunk_id: str, *, sip_domain: str
) -> TrunkView:
    trunk = await trunks.get_trunk(conn, account_id, trunk_id, sip_domain=sip_domain)
    return TrunkView(
        trunk=trunk,
        credentials=await trunks.list_credentials(
            conn, account_id, trunk.id, page=1, per_page=PER_PAGE_MAX
        ),
        acl=await trunks.list_acl_entries(
            conn, account_id, trunk.id, page=1, per_page=PER_PAGE_MAX
        ),
    )


async def numbers_page(conn: AsyncConnection, account_id: str, query: NumbersQuery) -> NumberPage:
    """The numbers page: the list of the API, with the same filters, sort and paging."""
    return await numbers.list_numbers(
        conn,
        account_id,
        list_filters(query),
        page=query.page,
        per_page=query.per_page,
        sort=query.sort,
    )


def list_filters(query: NumbersQuery) -> numbers.ListFilters:
    """The query's filters as ``numbers.list_numbers`` takes them: dates are midnight UTC."""

    def midnight(day: date | None) -> datetime | None:
        return datetime.combine(day, time(), UTC) if day else None

    return numbers.ListFilters(
        country=query.country,
        status=query.status.value if query.status else None,
        trunk_id=query.trunk_id,
        application_id=query.application_id,
        routed=query.routed,
        type=query.type,
        region=query.region,
        capabilities=tuple(query.capability),
        contains=query.contains,
        created_after=midnight(query.created_after),
        created_before=midnight(query.created_before),
    )


def export_filter(query: NumbersQuery) -> tuple[NumberFilter, ListOrder]:
    """The filter and order of an export of what the numbers page lists."""
    return numbers.number_filter(list_filters(query)), ListOrder.parse(query.sort)
