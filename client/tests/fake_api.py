"""An in-memory TryVox numbers API, served to the SDK through ``httpx.MockTransport``.

It implements the endpoints of ``spec/API.md`` closely enough to exercise the client for
real: authentication and the account in the path, exact pagination with validation, cursor
paging, the error envelope with request ids, idempotency keys with replay, streamed
exports, routing and release rules, and events. It deliberately shares no code with the
SDK (it encodes its own JSON), so the SDK is never tested against itself.

Failures can be injected ahead of the next requests (``fail_next``, ``disconnect_next``,
``lose_next_response``) to test retries.
"""

from __future__ import annotations

import base64
import csv
import io
import ipaddress
import itertools
import json
import math
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

API_KEY = "tvx_sk_test_4eC39HqLyjWDarjtT1zdp7dc"
ACCOUNT_ID = "acc_123abc"
NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
NUMBER_KEYS = (
    "e164",
    "country",
    "type",
    "region",
    "status",
    "capabilities",
    "monthly_fee",
    "setup_fee",
    "currency",
    "trunk_id",
    "application_id",
    "created_at",
    "updated_at",
)
INVENTORY_KEYS = (
    "e164",
    "country",
    "type",
    "region",
    "capabilities",
    "monthly_fee",
    "setup_fee",
    "currency",
)
CAPABILITIES = ("voice", "sms", "mms")
STATUSES = ("active", "pending", "suspended", "released")
PAGE_PARAMS = ("page", "per_page")  # every list; only the numbers list also has "cursor"
NUMBER_FILTERS = (
    "country",
    "status",
    "type",
    "capability",
    "region",
    "trunk_id",
    "application_id",
    "routed",
    "contains",
    "created_after",
    "created_before",
    "updated_since",
    "sort",
)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(cents: int) -> float:
    return cents / 100


class Failure(Exception):
    """An error the fake answers with, rendered in the API's envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or []
        self.headers = headers or {}


def invalid(field_name: str, reason: str) -> Failure:
    return Failure(
        400,
        "VALIDATION_FAILED",
        f"Invalid value for '{field_name}': {reason}",
        [{"field": field_name, "reason": reason}],
    )


def not_found(what: str) -> Failure:
    return Failure(404, "NOT_FOUND", f"{what} was not found.")


def conflict(message: str, details: list[dict[str, str]] | None = None) -> Failure:
    return Failure(409, "CONFLICT", message, details)


class DualStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body produced lazily, chunk by chunk, for sync and async clients alike."""

    def __init__(self, chunks: Callable[[], Iterator[bytes]]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks():
            yield chunk


@dataclass
class Call:
    """One parsed request as the handlers see it."""

    request: httpx.Request
    path: dict[str, str]
    body: Any
    query: httpx.QueryParams

    def one(self, name: str) -> str | None:
        values = self.query.get_list(name)
        if len(values) > 1:
            raise invalid(name, "must not be repeated")
        return values[0] if values else None


Handler = Callable[[Call], "tuple[int, Any] | httpx.Response"]


@dataclass
class FakeTryVox:
    """The fake server: its state, its routes and its fault injection."""

    now: datetime = NOW
    owned: int = 47
    requests: list[httpx.Request] = field(default_factory=list)
    numbers: dict[str, dict[str, Any]] = field(default_factory=dict)
    inventory: dict[str, dict[str, Any]] = field(default_factory=dict)
    trunks: dict[str, dict[str, Any]] = field(default_factory=dict)
    credentials: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    acls: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    applications: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    export_chunks_sent: int = 0
    _faults: deque[Callable[[httpx.Request], httpx.Response | None]] = field(default_factory=deque)
    _idempotency: dict[str, tuple[str, httpx.Response]] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self._seed()
        self.transport = httpx.MockTransport(self.handle)

    # -- fault injection ----------------------------------------------------------------

    def fail_next(
        self, status: int, code: str, *, retry_after: str | None = None, times: int = 1
    ) -> None:
        """Answer the next ``times`` requests with this error, without handling them."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}

        def fail(request: httpx.Request) -> httpx.Response:
            return self._error(Failure(status, code, f"Injected {code}.", headers=headers))

        self._faults.extend([fail] * times)

    def disconnect_next(self, times: int = 1) -> None:
        """Fail the next ``times`` requests before they reach the server."""

        def disconnect(request: httpx.Request) -> None:
            raise httpx.ConnectError("connection refused", request=request)

        self._faults.extend([disconnect] * times)

    def lose_next_response(self) -> None:
        """Handle the next request fully, then drop the connection before answering."""

        def lose(request: httpx.Request) -> None:
            self._dispatch(request)
            raise httpx.ReadError("connection reset by peer", request=request)

        self._faults.append(lose)

    # -- HTTP ---------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self._faults:
            injected = self._faults.popleft()(request)
            if injected is not None:
                return injected
        return self._dispatch(request)

    def _dispatch(self, request: httpx.Request) -> httpx.Response:
        try:
            self._authenticate(request)
            handler, path = self._route(request)
            call = Call(request, path, self._body(request), request.url.params)
            key = request.headers.get("Idempotency-Key")
            if key and request.method in ("POST", "DELETE"):
                return self._idempotent(key, request, lambda: self._respond(handler(call)))
            return self._respond(handler(call))
        except Failure as failure:
            return self._error(failure)

    def _idempotent(
        self, key: str, request: httpx.Request, run: Callable[[], httpx.Response]
    ) -> httpx.Response:
        fingerprint = f"{request.method} {request.url.raw_path!r} {request.content!r}"
        if key in self._idempotency:
            seen, response = self._idempotency[key]
            if seen != fingerprint:
                raise conflict(
                    "This Idempotency-Key was used with a different request.",
                    [{"field": "Idempotency-Key", "reason": "reused with another request"}],
                )
            return httpx.Response(
                response.status_code,
                headers={**response.headers, "Idempotent-Replayed": "true"},
                content=response.content,
            )
        response = run()
        self._idempotency[key] = (fingerprint, response)
        return response

    def _respond(self, result: tuple[int, Any] | httpx.Response) -> httpx.Response:
        if isinstance(result, httpx.Response):
            return result
        status, payload = result
        return httpx.Response(status, json=payload, headers={"X-Request-ID": self._request_id()})

    def _error(self, failure: Failure) -> httpx.Response:
        request_id = self._request_id()
        error: dict[str, Any] = {"code": failure.code, "message": failure.message}
        if failure.details:
            error["details"] = failure.details
        error["request_id"] = request_id
        headers = {"X-Request-ID": request_id, **failure.headers}
        return httpx.Response(failure.status, json={"error": error}, headers=headers)

    def _request_id(self) -> str:
        return f"req_{next(self._ids):06d}"

    def _authenticate(self, request: httpx.Request) -> None:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme == "Bearer" and credentials == API_KEY:
            return
        if scheme == "Basic":
            decoded = base64.b64decode(credentials).decode()
            if decoded == f"{ACCOUNT_ID}:{API_KEY}":
                return
        raise Failure(401, "UNAUTHORIZED", "A valid API key is required.")

    def _body(self, request: httpx.Request) -> Any:
        if request.method not in ("POST", "PUT", "PATCH") or not request.content:
            return None
        if len(request.content) > 64 * 1024:
            raise Failure(413, "PAYLOAD_TOO_LARGE", "The request body is too large.")
        if request.headers.get("Content-Type", "").split(";")[0] != "application/json":
            raise Failure(415, "UNSUPPORTED_MEDIA_TYPE", "Request bodies must be JSON.")
        try:
            return json.loads(request.content)
        except ValueError:
            raise invalid("body", "is not valid JSON") from None

    def _route(self, request: httpx.Request) -> tuple[Handler, dict[str, str]]:
        raw = request.url.raw_path.split(b"?")[0].decode()
        segments = [httpx.URL("/" + s).path[1:] for s in raw.strip("/").split("/")]
        if segments[:2] != ["v1", "account"] or len(segments) < 4:
            raise not_found("This route")
        if segments[2] != ACCOUNT_ID:
            raise Failure(403, "FORBIDDEN", "This API key cannot access that account.")
        allowed = False
        for method, template, handler in self._routes():
            path = _match(template, segments[3:])
            if path is None:
                continue
            if method == request.method:
                return handler, path
            allowed = True
        if allowed:
            raise Failure(405, "METHOD_NOT_ALLOWED", "This method is not allowed here.")
        raise not_found("This route")

    def _routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", "numbers", self.list_numbers),
            ("GET", "numbers/export", self.export_numbers),
            ("POST", "numbers/purchase-from-inventory", self.purchase),
            ("GET", "numbers/{e164}", self.get_number),
            ("DELETE", "numbers/{e164}", self.release),
            ("POST", "numbers/{e164}/assign", self.assign_trunk),
            ("DELETE", "numbers/{e164}/assign", self.unassign),
            ("POST", "numbers/{e164}/application", self.assign_application),
            ("DELETE", "numbers/{e164}/application", self.unassign),
            ("GET", "numbers/{e164}/release-preview", self.release_preview),
            ("POST", "numbers/{e164}/cancel-release", self.cancel_release),
            ("GET", "inventory/numbers", self.search_inventory),
            ("POST", "trunks", self.create_trunk),
            ("GET", "trunks", self.list_trunks),
            ("GET", "trunks/{trunk_id}", self.get_trunk),
            ("PUT", "trunks/{trunk_id}", self.replace_trunk),
            ("DELETE", "trunks/{trunk_id}", self.delete_trunk),
            ("POST", "trunks/{trunk_id}/credentials", self.create_credential),
            ("GET", "trunks/{trunk_id}/credentials", self.list_credentials),
            ("DELETE", "trunks/{trunk_id}/credentials/{item_id}", self.delete_credential),
            ("POST", "trunks/{trunk_id}/ip-acl", self.create_acl),
            ("GET", "trunks/{trunk_id}/ip-acl", self.list_acls),
            ("DELETE", "trunks/{trunk_id}/ip-acl/{item_id}", self.delete_acl),
            ("POST", "applications", self.create_application),
            ("GET", "applications", self.list_applications),
            ("GET", "applications/{app_id}", self.get_application),
            ("PATCH", "applications/{app_id}", self.update_application),
            ("DELETE", "applications/{app_id}", self.delete_application),
            ("POST", "webhooks", self.create_webhook),
            ("GET", "webhooks", self.list_webhooks),
            ("GET", "webhooks/{webhook_id}", self.get_webhook),
            ("DELETE", "webhooks/{webhook_id}", self.delete_webhook),
            ("GET", "events", self.list_events),
        ]

    # -- numbers ------------------------------------------------------------------------

    def list_numbers(self, call: Call) -> tuple[int, Any]:
        rows = self._filtered_numbers(call, extra=(*PAGE_PARAMS, "cursor"))
        return 200, self._page(call, [self._number_json(n) for n in rows], cursor_paging=True)

    def export_numbers(self, call: Call) -> httpx.Response:
        fmt = call.one("format")
        if fmt not in ("csv", "ndjson"):
            raise invalid("format", "must be one of csv, ndjson")
        rows = [self._number_json(n) for n in self._filtered_numbers(call, extra=("format",))]

        def chunks() -> Iterator[bytes]:
            if fmt == "csv":
                yield (",".join(NUMBER_KEYS) + "\n").encode()
            for row in rows:
                self.export_chunks_sent += 1
                yield _csv_line(row) if fmt == "csv" else (json.dumps(row) + "\n").encode()

        media = "text/csv" if fmt == "csv" else "application/x-ndjson"
        return httpx.Response(
            200,
            headers={"Content-Type": media, "X-Request-ID": self._request_id()},
            stream=DualStream(chunks),
        )

    def get_number(self, call: Call) -> tuple[int, Any]:
        return 200, self._number_json(self._owned(call.path["e164"]))

    def purchase(self, call: Call) -> tuple[int, Any]:
        body = _object(call.body)
        e164 = _e164(_required_text(body, "e164"), "e164")
        country = _required_text(body, "country").upper()
        if e164 in self.numbers:
            raise conflict("This number is already owned.")
        item = self.inventory.get(e164)
        if item is None:
            raise not_found("This number")
        if item["country"] != country:
            raise invalid("country", "does not match the number")
        del self.inventory[e164]
        status = "pending" if item.pop("needs_provisioning") else "active"
        number = {
            **item,
            "status": status,
            "trunk_id": None,
            "application_id": None,
            "created_at": self.now,
            "updated_at": self.now,
            "released_at": None,
            "routing_before_release": None,
        }
        self.numbers[e164] = number
        self._event("number.purchased", number)
        return 201, self._number_json(number)

    def assign_trunk(self, call: Call) -> tuple[int, Any]:
        trunk_id = _required_text(_object(call.body), "trunk_id")
        if trunk_id not in self.trunks:
            raise invalid("trunk_id", "no such trunk in this account")
        return self._set_route(call.path["e164"], trunk_id, None)

    def assign_application(self, call: Call) -> tuple[int, Any]:
        app_id = _required_text(_object(call.body), "application_id")
        if app_id not in self.applications:
            raise invalid("application_id", "no such application in this account")
        return self._set_route(call.path["e164"], None, app_id)

    def unassign(self, call: Call) -> tuple[int, Any]:
        number = self._owned(call.path["e164"])
        target = "trunk_id" if call.request.url.path.endswith("/assign") else "application_id"
        if number[target] is None:
            return 200, self._routing_json(number)
        other = "application_id" if target == "trunk_id" else "trunk_id"
        return self._set_route(number["e164"], **{target: None, other: number[other]})

    def _set_route(self, e164: str, trunk_id: str | None, application_id: str | None) -> Any:
        number = self._owned(e164)
        if number["status"] == "released":
            raise conflict("A released number cannot be routed.")
        number.update(trunk_id=trunk_id, application_id=application_id, updated_at=self.now)
        self._event("number.routing_changed", number)
        return 200, self._routing_json(number)

    def release_preview(self, call: Call) -> tuple[int, Any]:
        number = self._owned(call.path["e164"])
        fee = self._termination_fee(number)
        warnings = (
            ["Bought less than 90 days ago: an early termination fee applies."] if fee else []
        )
        if number["trunk_id"] or number["application_id"]:
            warnings.append("The number's routing will be removed.")
        return 200, {
            "e164": number["e164"],
            "can_release": number["status"] in ("active", "suspended"),
            "early_termination_fee": money(fee),
            "currency": "USD",
            "cooling_off_period_days": 30,
            "warnings": warnings,
        }

    def release(self, call: Call) -> tuple[int, Any]:
        number = self._owned(call.path["e164"])
        if number["status"] == "released":
            raise conflict("This number is already released.")
        if number["status"] == "pending":
            raise conflict("A pending number cannot be released.")
        fee = self._termination_fee(number)
        number["routing_before_release"] = (number["trunk_id"], number["application_id"])
        number.update(
            status="released",
            trunk_id=None,
            application_id=None,
            released_at=self.now,
            updated_at=self.now,
        )
        self._event("number.released", number, early_termination_fee=money(fee))
        return 200, {
            "e164": number["e164"],
            "status": "released",
            "released_at": iso(self.now),
            "early_termination_fee": money(fee),
            "currency": "USD",
            "cooling_off_period_days": 30,
            "available_after": iso(self.now + timedelta(days=30)),
        }

    def cancel_release(self, call: Call) -> tuple[int, Any]:
        number = self._owned(call.path["e164"])
        if number["status"] != "released":
            raise conflict("This number is not released.")
        trunk_id, app_id = number["routing_before_release"]
        number.update(
            status="active",
            updated_at=self.now,
            released_at=None,
            trunk_id=trunk_id if trunk_id in self.trunks else None,
            application_id=app_id if app_id in self.applications else None,
        )
        self._event("number.release_cancelled", number)
        return 200, self._number_json(number)

    def search_inventory(self, call: Call) -> tuple[int, Any]:
        _check_params(call, ("country", "type", "region", "capability", "contains", *PAGE_PARAMS))
        rows = sorted(self.inventory.values(), key=lambda n: n["e164"])
        rows = [n for n in rows if self._matches_common(call, n)]
        items = [{k: self._wire(k, n[k]) for k in INVENTORY_KEYS} for n in rows]
        return 200, self._page(call, items)

    # -- trunks -------------------------------------------------------------------------

    def create_trunk(self, call: Call) -> tuple[int, Any]:
        trunk_id = f"trunk_{next(self._ids):06x}"
        trunk = {
            "id": trunk_id,
            **self._trunk_fields(call.body),
            "sip_domain": f"trunk-{trunk_id.removeprefix('trunk_')}.sip.tryvox.test",
            "status": "active",
            "created_at": iso(self.now),
            "updated_at": iso(self.now),
        }
        self.trunks[trunk_id] = trunk
        return 201, trunk

    def list_trunks(self, call: Call) -> tuple[int, Any]:
        _check_params(call, PAGE_PARAMS)
        return 200, self._page(call, list(self.trunks.values()))

    def get_trunk(self, call: Call) -> tuple[int, Any]:
        return 200, self._trunk(call.path["trunk_id"])

    def replace_trunk(self, call: Call) -> tuple[int, Any]:
        trunk = self._trunk(call.path["trunk_id"])
        trunk.update(self._trunk_fields(call.body), updated_at=iso(self.now))
        return 200, trunk

    def delete_trunk(self, call: Call) -> tuple[int, Any]:
        trunk = self._trunk(call.path["trunk_id"])
        self._detach("trunk_id", trunk["id"], force=call.one("force") == "true")
        del self.trunks[trunk["id"]]
        return 200, {**trunk, "status": "deleted"}

    def create_credential(self, call: Call) -> tuple[int, Any]:
        trunk = self._trunk(call.path["trunk_id"])
        body = _object(call.body)
        username = _required_text(body, "username")
        if len(_required_text(body, "password")) < 12:
            raise invalid("password", "must be at least 12 characters")
        item = {
            "id": f"cred_{next(self._ids):06x}",
            "trunk_id": trunk["id"],
            "username": username,
            "created_at": iso(self.now),
        }
        self.credentials.setdefault(trunk["id"], {})[item["id"]] = item
        return 201, item

    def list_credentials(self, call: Call) -> tuple[int, Any]:
        trunk = self._trunk(call.path["trunk_id"])
        return 200, self._page(call, list(self.credentials.get(trunk["id"], {}).values()))

    def delete_credential(self, call: Call) -> tuple[int, Any]:
        return 200, self._delete_child(self.credentials, call, "Credential")

    def create_acl(self, call: Call) -> tuple[int, Any]:
        trunk = self._trunk(call.path["trunk_id"])
        body = _object(call.body)
        try:
            ip = ipaddress.ip_address(_required_text(body, "ip"))
        except ValueError:
            raise invalid("ip", "is not an IP address") from None
        mask = body.get("mask", 32 if ip.version == 4 else 128)
        cidr = str(ipaddress.ip_network(f"{ip}/{mask}", strict=False))
        item = {
            "id": f"acl_{next(self._ids):06x}",
            "trunk_id": trunk["id"],
            "ip": str(ip),
            "mask": mask,
            "cidr": cidr,
            "description": body.get("description"),
            "created_at": iso(self.now),
        }
        self.acls.setdefault(trunk["id"], {})[item["id"]] = item
        return 201, item

    def list_acls(self, call: Call) -> tuple[int, Any]:
        trunk = self._trunk(call.path["trunk_id"])
        return 200, self._page(call, list(self.acls.get(trunk["id"], {}).values()))

    def delete_acl(self, call: Call) -> tuple[int, Any]:
        return 200, self._delete_child(self.acls, call, "ACL entry")

    # -- applications, webhooks, events -------------------------------------------------

    def create_application(self, call: Call) -> tuple[int, Any]:
        body = _object(call.body)
        app_id = f"app_{next(self._ids):06x}"
        app = {
            "id": app_id,
            "name": _required_text(body, "name"),
            "answer_url": None,
            "answer_method": "POST",
            "hangup_url": None,
            "hangup_method": "POST",
            "fallback_url": None,
            "created_at": iso(self.now),
            "updated_at": iso(self.now),
            "has_webhook_secret": False,
        }
        self.applications[app_id] = app
        return 201, self._apply_application(app, body)

    def list_applications(self, call: Call) -> tuple[int, Any]:
        _check_params(call, PAGE_PARAMS)
        return 200, self._page(call, list(self.applications.values()))

    def get_application(self, call: Call) -> tuple[int, Any]:
        return 200, self._application(call.path["app_id"])

    def update_application(self, call: Call) -> tuple[int, Any]:
        app = self._application(call.path["app_id"])
        return 200, self._apply_application(app, _object(call.body))

    def delete_application(self, call: Call) -> tuple[int, Any]:
        app = self._application(call.path["app_id"])
        self._detach("application_id", app["id"], force=call.one("force") == "true")
        return 200, self.applications.pop(app["id"])

    def create_webhook(self, call: Call) -> tuple[int, Any]:
        body = _object(call.body)
        url = _required_text(body, "url")
        loopback = url.startswith(("http://localhost", "http://127.0.0.1", "http://[::1]"))
        if not url.startswith("https://") and not loopback:
            raise invalid("url", "must be an https URL (http only for localhost)")
        hook = {
            "id": f"whk_{next(self._ids):06x}",
            "url": url,
            "event_types": body.get("event_types", []),
            "status": "active",
            "created_at": iso(self.now),
        }
        self.webhooks[hook["id"]] = hook
        return 201, {**hook, "secret": f"whsec_{hook['id']}"}

    def list_webhooks(self, call: Call) -> tuple[int, Any]:
        _check_params(call, PAGE_PARAMS)
        return 200, self._page(call, list(self.webhooks.values()))

    def get_webhook(self, call: Call) -> tuple[int, Any]:
        hook = self.webhooks.get(call.path["webhook_id"])
        if hook is None:
            raise not_found("This webhook endpoint")
        return 200, hook

    def delete_webhook(self, call: Call) -> tuple[int, Any]:
        hook = self.webhooks.pop(call.path["webhook_id"], None)
        if hook is None:
            raise not_found("This webhook endpoint")
        return 200, {**hook, "status": "deleted"}

    def list_events(self, call: Call) -> tuple[int, Any]:
        _check_params(call, ("type", "e164", *PAGE_PARAMS))
        kind, e164 = call.one("type"), call.one("e164")
        rows = [e for e in self.events if kind in (None, e["type"]) and e164 in (None, e["e164"])]
        rows.reverse()  # newest first
        return 200, self._page(call, rows)

    # -- helpers ------------------------------------------------------------------------

    def _page(self, call: Call, items: list[Any], *, cursor_paging: bool = False) -> dict[str, Any]:
        per_page = _int_param(call, "per_page", 20, 1, 100)
        cursor = call.one("cursor") if cursor_paging else None
        if cursor is not None and call.one("page") is not None:
            raise invalid("page", "cannot be combined with cursor")
        if cursor is not None:
            offset = _decode_cursor(cursor)
            page = offset // per_page + 1
        else:
            page = _int_param(call, "page", 1, 1, None)
            offset = (page - 1) * per_page
        chunk = items[offset : offset + per_page]
        pagination: dict[str, Any] = {
            "total": len(items),
            "count": len(chunk),
            "per_page": per_page,
            "current_page": page,
            "total_pages": math.ceil(len(items) / per_page),
        }
        if cursor is not None:
            more = offset + per_page < len(items)
            pagination["next_cursor"] = _encode_cursor(offset + per_page) if more else None
        return {"data": chunk, "pagination": pagination}

    def _filtered_numbers(self, call: Call, extra: tuple[str, ...]) -> list[dict[str, Any]]:
        _check_params(call, (*NUMBER_FILTERS, *extra))
        status = call.one("status")
        if status is not None and status not in STATUSES:
            raise invalid("status", "must be one of active, pending, suspended, released")
        rows = [
            n
            for n in self.numbers.values()
            if (n["status"] == status if status else n["status"] != "released")
            and self._matches_common(call, n)
            and call.one("trunk_id") in (None, n["trunk_id"])
            and call.one("application_id") in (None, n["application_id"])
            and (
                call.one("routed") is None
                or (call.one("routed") == "true") == bool(n["trunk_id"] or n["application_id"])
            )
        ]
        sort = call.one("sort") or "created_at"
        field_name = sort.lstrip("-")
        if field_name not in ("created_at", "e164", "updated_at"):
            raise invalid("sort", "unknown sort key")
        rows.sort(key=lambda n: (n[field_name], n["e164"]), reverse=sort.startswith("-"))
        return rows

    def _matches_common(self, call: Call, number: dict[str, Any]) -> bool:
        country = call.one("country")
        if country is not None and not (len(country) == 2 and country.isalpha()):
            raise invalid("country", "must be an ISO 3166-1 alpha-2 code")
        wanted = call.query.get_list("capability")
        return (
            (country is None or number["country"] == country.upper())
            and call.one("type") in (None, number["type"])
            and call.one("region") in (None, number["region"])
            and all(c in number["capabilities"] for c in wanted)
            and (call.one("contains") or "") in number["e164"]
        )

    def _owned(self, raw: str) -> dict[str, Any]:
        number = self.numbers.get(_e164(raw, "e164"))
        if number is None:
            raise not_found("This number")
        return number

    def _trunk(self, trunk_id: str) -> dict[str, Any]:
        if trunk_id not in self.trunks:
            raise not_found("This trunk")
        return self.trunks[trunk_id]

    def _application(self, app_id: str) -> dict[str, Any]:
        if app_id not in self.applications:
            raise not_found("This application")
        return self.applications[app_id]

    def _delete_child(self, store: dict[str, dict[str, Any]], call: Call, what: str) -> Any:
        trunk = self._trunk(call.path["trunk_id"])
        item = store.get(trunk["id"], {}).pop(call.path["item_id"], None)
        if item is None:
            raise not_found(f"This {what}")
        return item

    def _detach(self, key: str, target: str, *, force: bool) -> None:
        routed = [n for n in self.numbers.values() if n[key] == target]
        if routed and not force:
            raise conflict(f"{len(routed)} numbers still route here; pass force=true.")
        for number in routed:
            number.update({key: None, "updated_at": self.now})

    def _trunk_fields(self, body: Any) -> dict[str, Any]:
        body = _object(body)
        auth_type = _required_text(body, "auth_type")
        if auth_type not in ("ip", "credential"):
            raise invalid("auth_type", "must be ip or credential")
        return {
            "name": _required_text(body, "name"),
            "auth_type": auth_type,
            "termination_uri": body.get("termination_uri"),
            "origination_uris": body.get("origination_uris", []),
            "max_channels": body.get("max_channels", 0),
        }

    def _apply_application(self, app: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        for key, value in body.items():
            if (key not in app and key != "webhook_secret") or key == "has_webhook_secret":
                raise invalid(key, "unknown field")
            if key == "webhook_secret":
                app["has_webhook_secret"] = value is not None
            else:
                app[key] = value
        app["updated_at"] = iso(self.now)
        return app

    def _termination_fee(self, number: dict[str, Any]) -> int:
        return 2500 if self.now - number["created_at"] < timedelta(days=90) else 0

    def _event(self, kind: str, number: dict[str, Any], **more: Any) -> None:
        """As the server records them: ``data`` holds the number after the change."""
        self.events.append(
            {
                "id": f"evt_{len(self.events) + 1:06d}",
                "type": kind,
                "e164": number["e164"],
                "data": {"number": self._number_json(number), **more},
                "created_at": iso(self.now),
            }
        )

    def _number_json(self, number: dict[str, Any]) -> dict[str, Any]:
        return {key: self._wire(key, number[key]) for key in NUMBER_KEYS}

    def _routing_json(self, number: dict[str, Any]) -> dict[str, Any]:
        keys = ("e164", "trunk_id", "application_id", "status", "updated_at")
        return {key: self._wire(key, number[key]) for key in keys}

    @staticmethod
    def _wire(key: str, value: Any) -> Any:
        if key.endswith("_fee"):
            return money(value)
        if isinstance(value, datetime):
            return iso(value)
        return value

    def _seed(self) -> None:
        self.trunks["trunk_abc123"] = {
            "id": "trunk_abc123",
            "name": "Primary",
            "auth_type": "ip",
            "termination_uri": "sip:pbx.example.com",
            "origination_uris": [],
            "max_channels": 0,
            "sip_domain": "trunk-abc123.sip.tryvox.test",
            "status": "active",
            "created_at": iso(NOW - timedelta(days=400)),
            "updated_at": iso(NOW - timedelta(days=400)),
        }
        self.applications["app_xyz789"] = {
            "id": "app_xyz789",
            "name": "IVR",
            "answer_url": "https://example.com/answer",
            "answer_method": "POST",
            "hangup_url": None,
            "hangup_method": "POST",
            "fallback_url": None,
            "created_at": iso(NOW - timedelta(days=400)),
            "updated_at": iso(NOW - timedelta(days=400)),
            "has_webhook_secret": False,
        }
        march, april = (
            datetime(2026, 3, 15, 8, 20, tzinfo=UTC),
            datetime(2026, 4, 9, 10, 30, tzinfo=UTC),
        )
        seed = [
            ("+14155551234", "US", "CA", "trunk_abc123", None, march),
            ("+919876543210", "IN", "Maharashtra", None, "app_xyz789", april),
        ]
        for i in range(self.owned - len(seed)):
            created = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=7 * i)
            seed.append((f"+1212555{2000 + i:04d}", "US", "NY", None, None, created))
        for i, (e164, country, region, trunk_id, app_id, created) in enumerate(seed):
            self.numbers[e164] = {
                "e164": e164,
                "country": country,
                "type": "local",
                "region": region,
                "status": "suspended" if i % 10 == 9 else "active",
                "capabilities": ["voice", "sms", "mms"] if i % 2 == 0 else ["voice", "sms"],
                "monthly_fee": 125 if country == "US" else 250,
                "setup_fee": 0,
                "currency": "USD",
                "trunk_id": trunk_id,
                "application_id": app_id,
                "created_at": created,
                "updated_at": created,
                "released_at": None,
                "routing_before_release": None,
            }
        for i in range(30):
            e164 = f"+1646555{3000 + i:04d}" if i < 25 else f"+1800555{3000 + i:04d}"
            self.inventory[e164] = {
                "e164": e164,
                "country": "US",
                "type": "local" if i < 25 else "toll_free",
                "region": "NY" if i < 25 else "",
                "capabilities": list(CAPABILITIES[: 1 + i % 3]),
                "monthly_fee": 100 if i < 25 else 200,
                "setup_fee": 50 if i % 4 == 0 else 0,
                "currency": "USD",
                "needs_provisioning": i % 5 == 4,
            }


def _match(template: str, segments: list[str]) -> dict[str, str] | None:
    parts = template.split("/")
    if len(parts) != len(segments):
        return None
    values: dict[str, str] = {}
    for part, segment in zip(parts, segments, strict=True):
        if part.startswith("{"):
            values[part[1:-1]] = segment
        elif part != segment:
            return None
    return values


def _check_params(call: Call, allowed: tuple[str, ...]) -> None:
    for name in call.query:
        if name not in allowed:
            raise invalid(name, "unknown parameter")
        if name != "capability":
            call.one(name)


def _int_param(call: Call, name: str, default: int, low: int, high: int | None) -> int:
    raw = call.one(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
        bounds = f"between {low} and {high}" if high else f"at least {low}"
        raise invalid(name, f"must be an integer {bounds}")
    return int(raw)


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    if cursor == "":
        return 0
    try:
        return int(base64.urlsafe_b64decode(cursor).decode().removeprefix("o:"))
    except ValueError:
        raise invalid("cursor", "is not a cursor from this API") from None


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid("body", "must be a JSON object")
    return body


def _required_text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise invalid(name, "is required")
    return value


def _e164(raw: str, field_name: str) -> str:
    digits = raw.removeprefix("+")
    if not digits.isdigit() or not 8 <= len(digits) <= 15:
        raise invalid(field_name, "is not an E.164 number")
    return "+" + digits


def _csv_line(row: dict[str, Any]) -> bytes:
    """A row as the server's export writes it: lists joined with ``|``, ``\\n`` endings."""
    out = io.StringIO()
    values = [_csv_cell(key, value) for key, value in row.items()]
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue().encode()


def _csv_cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "|".join(value)
    return f"{value:.2f}" if key.endswith("_fee") else str(value)
