"""The console's pages (thin: read the query or form, call one service function, render).

Every page but sign-in needs a session (``session``); every POST carries its CSRF token
(checked by ``web.provide_session``). After a change the browser is sent to the page that
shows its result (POST, redirect, GET), so reloading never repeats it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.response import Stream, Template
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.applications import service as applications
from voxnumbers.applications.schemas import ApplicationCreate
from voxnumbers.console import service
from voxnumbers.console.schemas import (
    ConsoleSession,
    EventsQuery,
    InventoryQuery,
    NumbersQuery,
    PageQuery,
    SignInForm,
)
from voxnumbers.console.web import (
    PREFIX,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    form_of,
    page,
    query_of,
    read_sign_in_form,
    secure_cookie,
    see_other,
)
from voxnumbers.events import service as events
from voxnumbers.events.schemas import WebhookRequest
from voxnumbers.events.types import EVENT_TYPES
from voxnumbers.inventory import service as inventory
from voxnumbers.jobs import service as jobs
from voxnumbers.numbers import service as numbers
from voxnumbers.numbers.schemas import (
    SORT_KEYS,
    ApplicationTarget,
    ListableStatus,
    PurchaseRequest,
    RoutingTarget,
)
from voxnumbers.settings import Settings
from voxnumbers.trunks import service as trunks
from voxnumbers.trunks.schemas import CredentialRequest, IpAclRequest, TrunkRequest

Conn = NamedDependency[AsyncConnection]
T = TypeVar("T", bound=msgspec.Struct)
Session = NamedDependency[ConsoleSession]
AppSettings = NamedDependency[Settings]
AnyRequest = Request[Any, Any, Any]
# A page's object, named by its URL (a number, a trunk's id…).
InPath = FromPath[str]


def to_number(request: AnyRequest, e164: str) -> Response[Any]:
    """After a change to a number, its page."""
    return see_other(request, f"{PREFIX}/numbers/{quote(e164)}")


def to_trunk(request: AnyRequest, trunk_id: str) -> Response[Any]:
    """After a change to a trunk or its parts (credentials, IP ACL), the trunk's page."""
    return see_other(request, f"{PREFIX}/trunks/{trunk_id}")


async def paged_list(
    request: AnyRequest,
    session: ConsoleSession,
    template: str,
    list_page: Callable[..., Awaitable[object]],
    **context: Any,
) -> Template:
    """A page of one of the account's lists: ``list_page`` (a service's list, given all but
    ``page`` and ``per_page``) asked for the page the query names."""
    query = query_of(request, PageQuery)
    result = await list_page(page=query.page, per_page=query.per_page)
    return page(request, template, session, result=result, **context)


# --- signing in and out --------------------------------------------------------------------


def sign_in_page(
    request: AnyRequest, *, error: dict[str, Any] | None = None, status_code: int = 200
) -> Template:
    """The sign-in form, with a fresh token for its own CSRF cookie."""
    token = service.new_token()
    response = page(
        request,
        "signin.html",
        None,
        csrf=token,
        error=error,
        status=status_code,
        status_code=status_code,
    )
    response.cookies.append(
        Cookie(
            key=SIGN_IN_COOKIE,
            value=token,
            path=PREFIX,
            httponly=True,
            samesite="strict",
            secure=secure_cookie(request),
            max_age=3600,
        )
    )
    return response


@get("/sign-in", opt={"public": True})
async def show_sign_in(request: AnyRequest) -> Template:
    return sign_in_page(request)


@post("/sign-in", opt={"public": True, "error_page": sign_in_page})
async def sign_in(request: AnyRequest, conn: Conn, state: State) -> Response[Any]:
    """Check the key, open a session, set its cookie (which never holds the key)."""
    form = await read_sign_in_form(request, SignInForm)
    opened = await service.sign_in(conn, form.api_key, state.key_usage)
    response = see_other(request, f"{PREFIX}/numbers")
    response.cookies.append(
        Cookie(
            key=SESSION_COOKIE,
            value=opened.token,
            path=PREFIX,
            httponly=True,
            samesite="strict",
            secure=secure_cookie(request),
            max_age=int(service.SESSION_LIFETIME.total_seconds()),
        )
    )
    response.delete_cookie(SIGN_IN_COOKIE, path=PREFIX)
    return response


@post("/sign-out")
async def sign_out(request: AnyRequest, conn: Conn, session: Session) -> Response[Any]:
    """End the session in the database, then forget the cookie."""
    await service.sign_out(conn, request.cookies.get(SESSION_COOKIE))
    response = see_other(request, f"{PREFIX}/sign-in")
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


@get("/")
async def home(request: AnyRequest) -> Response[Any]:
    """The numbers page (the guard sends a browser without a session to sign in first)."""
    return see_other(request, f"{PREFIX}/numbers")


# --- numbers -------------------------------------------------------------------------------


# One statement answers the page and its total, as for the API's list (web/unitofwork.py).
@get("/numbers", opt={"snapshot": False})
async def list_numbers(request: AnyRequest, conn: Conn, session: Session) -> Template:
    query = query_of(request, NumbersQuery)
    result = await service.numbers_page(conn, session.account_id, query)
    return page(
        request,
        "numbers.html",
        session,
        partial="_numbers_results.html",
        query=query,
        result=result,
        statuses=[status.value for status in ListableStatus],
        sorts=SORT_KEYS,
    )


@get("/numbers/export")
async def export_numbers(request: AnyRequest, state: State, conn: Conn, session: Session) -> Stream:
    """What the numbers page lists, every page of it, as CSV or NDJSON. (``conn``: the
    request's own transaction ends before the stream starts, on a transaction of its own.)"""
    query = query_of(request, NumbersQuery)
    where, order = service.export_filter(query)

    async def lines() -> AsyncIterator[bytes]:
        async with state.database.transaction(write=False) as export_conn:
            async for chunk in numbers.export_numbers(
                export_conn, session.account_id, where, order, query.format
            ):
                yield chunk

    return Stream(
        lines(),
        media_type=numbers.EXPORT_MEDIA_TYPES[query.format],
        headers={"Content-Disposition": f'attachment; filename="numbers.{query.format}"'},
    )


@get("/numbers/{e164:str}")
async def show_number(
    request: AnyRequest, conn: Conn, session: Session, settings: AppSettings, e164: InPath
) -> Template:
    view = await service.number_view(conn, session.account_id, e164, sip_domain=settings.sip_domain)
    return page(request, "number.html", session, view=view)


@post("/numbers/{e164:str}/trunk")
async def route_to_trunk(request: AnyRequest, conn: Conn, session: Session, e164: InPath) -> Any:
    target = await form_of(request, RoutingTarget)
    routing = await numbers.assign_trunk(conn, session.account_id, e164, target.trunk_id)
    return to_number(request, routing.e164)


@post("/numbers/{e164:str}/trunk/remove")
async def remove_trunk(request: AnyRequest, conn: Conn, session: Session, e164: InPath) -> Any:
    routing = await numbers.unassign_trunk(conn, session.account_id, e164)
    return to_number(request, routing.e164)


@post("/numbers/{e164:str}/application")
async def route_to_application(
    request: AnyRequest, conn: Conn, session: Session, e164: InPath
) -> Any:
    target = await form_of(request, ApplicationTarget)
    routing = await numbers.assign_application(
        conn, session.account_id, e164, target.application_id
    )
    return to_number(request, routing.e164)


@post("/numbers/{e164:str}/application/remove")
async def remove_application(
    request: AnyRequest, conn: Conn, session: Session, e164: InPath
) -> Any:
    routing = await numbers.unassign_application(conn, session.account_id, e164)
    return to_number(request, routing.e164)


@get("/numbers/{e164:str}/release")
async def preview_release(
    request: AnyRequest, conn: Conn, session: Session, settings: AppSettings, e164: InPath
) -> Template:
    """What a release would cost, and the button that does it."""
    preview = await numbers.preview_release(conn, session.account_id, e164, settings)
    return page(request, "release.html", session, partial="_release_preview.html", preview=preview)


@post("/numbers/{e164:str}/release")
async def release_number(
    request: AnyRequest, conn: Conn, session: Session, settings: AppSettings, e164: InPath
) -> Any:
    release = await numbers.release_number(conn, session.account_id, e164, settings)
    return to_number(request, release.e164)


@post("/numbers/{e164:str}/cancel-release")
async def cancel_release(request: AnyRequest, conn: Conn, session: Session, e164: InPath) -> Any:
    number = await numbers.cancel_release(conn, session.account_id, e164)
    return to_number(request, number.e164)


# --- inventory -----------------------------------------------------------------------------


@get("/inventory")
async def search_inventory(request: AnyRequest, conn: Conn, session: Session) -> Template:
    query = query_of(request, InventoryQuery)
    result = await inventory.search_inventory(
        conn,
        session.account_id,
        country=query.country,
        number_type=query.type,
        region=query.region,
        capabilities=query.capability,
        contains=query.contains,
        page=query.page,
        per_page=query.per_page,
    )
    return page(
        request,
        "inventory.html",
        session,
        partial="_inventory_results.html",
        query=query,
        result=result,
    )


@post("/inventory/buy")
async def buy_number(request: AnyRequest, conn: Conn, session: Session) -> Any:
    purchase = await form_of(request, PurchaseRequest)
    number = await numbers.purchase_number(conn, session.account_id, purchase)
    return to_number(request, number.e164)


# --- trunks --------------------------------------------------------------------------------


@get("/trunks")
async def list_trunks(
    request: AnyRequest, conn: Conn, session: Session, settings: AppSettings
) -> Template:
    list_page = partial(
        trunks.list_trunks, conn, session.account_id, sip_domain=settings.sip_domain
    )
    return await paged_list(request, session, "trunks.html", list_page)


@post("/trunks")
async def create_trunk(
    request: AnyRequest, conn: Conn, session: Session, settings: AppSettings
) -> Any:
    trunk_request = await form_of(request, TrunkRequest)
    trunk = await trunks.create_trunk(
        conn, session.account_id, trunk_request, sip_domain=settings.sip_domain
    )
    return to_trunk(request, trunk.id)


@get("/trunks/{trunk_id:str}")
async def show_trunk(
    request: AnyRequest, conn: Conn, session: Session, settings: AppSettings, trunk_id: InPath
) -> Template:
    view = await service.trunk_view(
        conn, session.account_id, trunk_id, sip_domain=settings.sip_domain
    )
    return page(request, "trunk.html", session, view=view)


@post("/trunks/{trunk_id:str}/delete")
async def delete_trunk(
    request: AnyRequest, conn: Conn, session: Session, settings: AppSettings, trunk_id: InPath
) -> Any:
    await trunks.delete_trunk(
        conn, session.account_id, trunk_id, force=False, sip_domain=settings.sip_domain
    )
    return see_other(request, f"{PREFIX}/trunks")


def _trunk_collection_routes(
    collection: str,
    form: type[T],
    add: Callable[[AsyncConnection, str, str, T], Awaitable[object]],
    remove: Callable[[AsyncConnection, str, str, str], Awaitable[object]],
) -> list[HTTPRouteHandler]:
    """The two routes of a trunk's ``collection`` (its credentials, its IP ACL): add one
    from its form, remove one by its button; each leads back to the trunk's page."""

    async def add_one(request: AnyRequest, conn: Conn, session: Session, trunk_id: InPath) -> Any:
        await add(conn, session.account_id, trunk_id, await form_of(request, form))
        return to_trunk(request, trunk_id)

    async def remove_one(
        request: AnyRequest, conn: Conn, session: Session, trunk_id: InPath, item_id: InPath
    ) -> Any:
        await remove(conn, session.account_id, trunk_id, item_id)
        return to_trunk(request, trunk_id)

    path = f"/trunks/{{trunk_id:str}}/{collection}"
    return [post(path)(add_one), post(f"{path}/{{item_id:str}}/delete")(remove_one)]


_CREDENTIAL_ROUTES = _trunk_collection_routes(
    "credentials", CredentialRequest, trunks.create_credential, trunks.delete_credential
)
_ACL_ROUTES = _trunk_collection_routes(
    "ip-acl", IpAclRequest, trunks.create_acl_entry, trunks.delete_acl_entry
)


# --- applications --------------------------------------------------------------------------


@get("/applications")
async def list_applications(request: AnyRequest, conn: Conn, session: Session) -> Template:
    list_page = partial(applications.list_applications, conn, session.account_id)
    return await paged_list(request, session, "applications.html", list_page)


@post("/applications")
async def create_application(request: AnyRequest, conn: Conn, session: Session) -> Any:
    application = await form_of(request, ApplicationCreate)
    await applications.create_application(conn, session.account_id, application)
    return see_other(request, f"{PREFIX}/applications")


@post("/applications/{application_id:str}/delete")
async def delete_application(
    request: AnyRequest, conn: Conn, session: Session, application_id: InPath
) -> Any:
    await applications.delete_application(conn, session.account_id, application_id, force=False)
    return see_other(request, f"{PREFIX}/applications")


# --- events and webhooks -------------------------------------------------------------------


@get("/events")
async def list_events(request: AnyRequest, conn: Conn, session: Session) -> Template:
    query = query_of(request, EventsQuery)
    result = await events.list_events(
        conn,
        session.account_id,
        type=query.type,
        e164=query.e164,
        page=query.page,
        per_page=query.per_page,
    )
    return page(
        request, "events.html", session, query=query, result=result, event_types=EVENT_TYPES
    )


@get("/webhooks")
async def list_webhooks(request: AnyRequest, conn: Conn, session: Session) -> Template:
    list_page = partial(events.list_webhooks, conn, session.account_id)
    return await paged_list(request, session, "webhooks.html", list_page, event_types=EVENT_TYPES)


@post("/webhooks")
async def create_webhook(request: AnyRequest, conn: Conn, session: Session) -> Template:
    """The new endpoint's signing secret is shown on this page once, as the API answers it
    once: this answer is a page, not a redirect, so nothing stores or repeats it."""
    endpoint = await events.create_webhook(
        conn, session.account_id, await form_of(request, WebhookRequest)
    )
    return page(request, "webhook_created.html", session, endpoint=endpoint, status_code=201)


@post("/webhooks/{webhook_id:str}/delete")
async def delete_webhook(
    request: AnyRequest, conn: Conn, session: Session, webhook_id: InPath
) -> Any:
    await events.delete_webhook(conn, session.account_id, webhook_id)
    return see_other(request, f"{PREFIX}/webhooks")


# --- bulk jobs -------------------------------------------------------------------------------
# ``/jobs`` lists the account's jobs; a job's page shows its progress, which htmx asks for
# again every second (``_job_progress.html``) until the job ends.

FINISHED_JOBS = frozenset({"succeeded", "failed", "cancelled"})
PROBLEMS_SHOWN = 50


@get("/jobs")
async def list_jobs(request: AnyRequest, conn: Conn, session: Session) -> Template:
    list_page = partial(jobs.list_jobs, conn, session.account_id, status=None)
    return await paged_list(request, session, "jobs.html", list_page)


@get("/jobs/{job_id:str}")
async def show_job(request: AnyRequest, conn: Conn, session: Session, job_id: InPath) -> Template:
    job = await jobs.get_job(conn, session.account_id, job_id)
    problems = await jobs.list_results(
        conn, session.account_id, job_id, outcome="failed", page=1, per_page=PROBLEMS_SHOWN
    )
    return page(
        request,
        "job.html",
        session,
        partial="_job_progress.html",
        job=job,
        finished=job.status in FINISHED_JOBS,
        problems=problems,
    )


@post("/jobs/{job_id:str}/cancel")
async def cancel_job(request: AnyRequest, conn: Conn, session: Session, job_id: InPath) -> Any:
    await jobs.cancel_job(conn, session.account_id, job_id)
    return see_other(request, f"{PREFIX}/jobs/{job_id}")


route_handlers = [
    show_sign_in,
    sign_in,
    sign_out,
    home,
    list_numbers,
    export_numbers,
    show_number,
    route_to_trunk,
    remove_trunk,
    route_to_application,
    remove_application,
    preview_release,
    release_number,
    cancel_release,
    search_inventory,
    buy_number,
    list_trunks,
    create_trunk,
    show_trunk,
    delete_trunk,
    *_CREDENTIAL_ROUTES,
    *_ACL_ROUTES,
    list_applications,
    create_application,
    delete_application,
    list_events,
    list_webhooks,
    create_webhook,
    delete_webhook,
    list_jobs,
    show_job,
    cancel_job,
]
