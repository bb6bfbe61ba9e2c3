"""The console's HTTP plumbing: its transaction, session and CSRF check, how pages and
errors are rendered, and the router that serves it all at ``/console``.

A console request runs exactly like an API request: in the request's unit of work
(``conn`` is the API's own provider), the session lookup being its first statement as the
key lookup is the API's. Errors are turned into the API's envelope by the API's own
handlers (``web/envelope.py``), and the page shows that envelope's message and request id.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import msgspec
from jinja2 import Environment, PackageLoader, select_autoescape
from litestar import Request, Response, Router
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from voxnumbers.console import service
from voxnumbers.console.forms import CSRF_FIELD, read_form
from voxnumbers.console.schemas import ConsoleSession
from voxnumbers.errors import Forbidden
from voxnumbers.kit.actors import Actor, act_as
from voxnumbers.web.envelope import EXCEPTION_HANDLERS
from voxnumbers.web.providers import provide_settings
from voxnumbers.web.requestid import request_origin
from voxnumbers.web.unitofwork import TransactionMiddleware, provide_transaction, unit_of_work

T = TypeVar("T", bound=msgspec.Struct)

PREFIX = "/console"
SESSION_COOKIE = "vox_console"
SIGN_IN_COOKIE = "vox_console_signin"  # the sign-in form's own CSRF token (double submit)
CSRF_HEADER = "x-csrf-token"
_READS = frozenset({"GET", "HEAD"})
_SESSION = "console_session"
_STATIC = Path(__file__).parent / "static"
# Everything the console loads comes from this server: the browser refuses anything else.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class SignInRequired(Exception):
    """No live session: the browser is sent to the sign-in page."""


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """The console's templates (Jinja2, autoescaped), shipped in this package."""
    environment = Environment(
        loader=PackageLoader("voxnumbers.console", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship in the package: no stat() of each on every page
    )
    environment.filters["when"] = _when
    environment.filters["pairs"] = lambda values: [(value, value) for value in values]
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))


def _when(moment: Any) -> str:
    """A time as the API writes it, to the second, in UTC."""
    return moment.strftime("%Y-%m-%d %H:%M:%SZ") if moment is not None else "—"


# --- the session, CSRF ---------------------------------------------------------------------


async def require_session(connection: ASGIConnection[Any, Any, Any, Any], _: Any) -> None:
    """The guard of every page but sign-in: the browser's live session, looked up as the
    unit of work's first statement, as the API's guard looks up the key
    (``SignInRequired`` without one). A guard, so it runs before the handler's
    dependencies open the transaction it shares."""
    if connection.route_handler.opt.get("public"):
        return
    token = connection.cookies.get(SESSION_COOKIE)
    session = await unit_of_work(connection).first_statement(
        lambda conn: service.find_session(conn, token)
    )
    if session is None:
        raise SignInRequired()
    connection.scope["state"][_SESSION] = session
    act_as(Actor("key", session.key_id).from_request(*request_origin(connection.scope)))


async def provide_session(request: Request[Any, Any, Any]) -> ConsoleSession:
    """The session ``require_session`` found. Every request that may change something must
    carry its CSRF token, in the form or in the ``X-CSRF-Token`` header (htmx)."""
    session: ConsoleSession = request.scope["state"][_SESSION]
    if request.method not in _READS:
        given = request.headers.get(CSRF_HEADER)
        if given is None:
            given = (await request.form()).get(CSRF_FIELD)
        service.check_csrf(session.csrf_token, given)
    return session


async def read_sign_in_form(request: Request[Any, Any, Any], into: type[T]) -> T:
    """The sign-in form, which comes before any session: its token must match the one the
    sign-in page set in its own cookie (double submit; the cookie is SameSite=Strict)."""
    form = await request.form()
    expected = request.cookies.get(SIGN_IN_COOKIE)
    if not expected:
        raise Forbidden("The sign-in form has expired; reload the page.")
    service.check_csrf(expected, form.get(CSRF_FIELD))
    return read_form(form.dict(), into)


async def form_of(request: Request[Any, Any, Any], into: type[T]) -> T:
    """The request's form body as an ``into`` (``400`` naming a bad field)."""
    return read_form((await request.form()).dict(), into)


def query_of(request: Request[Any, Any, Any], into: type[T]) -> T:
    """The request's query string as an ``into`` (``400`` naming a bad field)."""
    return read_form(request.query_params.dict(), into)


# --- responses -----------------------------------------------------------------------------


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def page(
    request: Request[Any, Any, Any],
    template: str,
    session: ConsoleSession | None,
    *,
    partial: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """A page (or, for htmx asking for ``partial``'s target, just that part of it)."""
    name = partial if partial and is_htmx(request) else template

    def page_url(number: int) -> str:
        return url_with(request, request.url.path, page=str(number))

    def export_url(format: str) -> str:
        return url_with(request, f"{PREFIX}/numbers/export", format=format, page=None)

    return Template(
        template_name=name,
        context={
            "session": session,
            "path": request.url.path,
            "page_url": page_url,
            "export_url": export_url,
            **context,
        },
        status_code=status_code,
        media_type="text/html",
    )


def url_with(request: Request[Any, Any, Any], path: str, **changes: str | None) -> str:
    """``path`` with the request's query, ``changes`` made (``None`` drops a name)."""
    pairs = [
        (name, value)
        for name, values in request.query_params.dict().items()
        if name not in changes
        for value in values
        if value
    ]
    pairs.extend((name, value) for name, value in changes.items() if value is not None)
    return f"{path}?{urlencode(pairs)}" if pairs else path


def see_other(request: Request[Any, Any, Any], url: str) -> Response[Any]:
    """After a change, the page to show (POST, redirect, GET); htmx navigates there."""
    if is_htmx(request):
        return Response(content=b"", status_code=200, headers={"HX-Redirect": url})
    return Redirect(path=url, status_code=303)


def secure_cookie(request: Request[Any, Any, Any]) -> bool:
    """Cookies are ``Secure`` whenever the console is served over HTTPS."""
    return request.url.scheme == "https"


# --- errors --------------------------------------------------------------------------------


def render_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Any failure of a console request as a page: the API's envelope for it (rendered by the
    API's own handlers), its message and request id shown. A route may name the page its
    errors show on (``opt={"error_page": …}``: the sign-in form shows a wrong key)."""
    if isinstance(exc, SignInRequired):
        return see_other(request, f"{PREFIX}/sign-in")
    envelope = _envelope_of(request, exc)
    error = msgspec.json.decode(envelope.content)["error"]
    status = envelope.status_code or 500
    headers = {k: v for k, v in envelope.headers.items() if k.lower() == "retry-after"}
    error_page: Callable[..., Response[Any]] | None = request.route_handler.opt.get("error_page")
    if error_page is not None:
        response = error_page(request, error=error, status_code=status)
    else:
        response = Template(
            template_name="_error.html" if is_htmx(request) else "error.html",
            context={
                "error": error,
                "status": status,
                "session": request.scope["state"].get(_SESSION),
                "path": request.url.path,
            },
            status_code=status,
            media_type="text/html",
        )
    response.headers.update(headers)
    if is_htmx(request):
        response.headers["HX-Retarget"] = "#messages"
    return response


def _envelope_of(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    for kind in type(exc).__mro__:
        handler = EXCEPTION_HANDLERS.get(kind)
        if handler is not None:
            response: Response[bytes] = handler(request, exc)
            return response
    raise exc  # unreachable: ``Exception`` has a handler


# --- the router ----------------------------------------------------------------------------


def _content_security_policy(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                ]
            await send(message)

        await app(scope, receive, send_with_policy)

    return middleware


def console_router(route_handlers: list[Any]) -> Router:
    """``/console``: the pages, their transaction and session, and the static assets."""
    static = create_static_files_router(
        path="/static", directories=[_STATIC], include_in_schema=False, name="console-static"
    )
    # What a request meets, in order: the middleware, the session's guard, the handler's
    # dependencies; what it fails with is rendered as a page.
    pages = Router(
        path="/",
        middleware=[TransactionMiddleware, _content_security_policy],
        guards=[require_session],
        dependencies={
            "conn": Provide(provide_transaction),
            "session": Provide(provide_session),
            "settings": Provide(provide_settings, sync_to_thread=False),
        },
        route_handlers=route_handlers,
        # Every kind the API renders, so the console's handler wins over the app's for each.
        exception_handlers=dict.fromkeys([*EXCEPTION_HANDLERS, SignInRequired], render_error),
    )
    return Router(path=PREFIX, route_handlers=[pages, static], include_in_schema=False)
