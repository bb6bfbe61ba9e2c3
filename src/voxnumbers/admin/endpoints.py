"""HTTP surface of the admin API, ``/admin/v1`` (thin: parse, call one service function).

Guarded by operator tokens (``admin.guards.authorize_operator``); same envelope, transaction,
idempotency and rate limits as ``/v1``."""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, post
from litestar.params import JSONBody, Parameter

from voxnumbers.admin import service
from voxnumbers.admin.schemas import (
    UPLOAD_MAX_BYTES,
    AccountCreate,
    AccountPage,
    AccountView,
    CreatedKey,
    ImportResult,
    InventoryUpload,
    KeyCreate,
    KeyPage,
    KeyView,
    SuspendRequest,
)
from voxnumbers.audit import service as audit
from voxnumbers.audit.schemas import ActorId, AuditPage, Cursor, Limit, ObjectId, ObjectType, Since
from voxnumbers.inventory import service as inventory
from voxnumbers.inventory.schemas import AvailableNumber, AvailableNumberPage
from voxnumbers.kit.pagination import PER_PAGE_DEFAULT, PageNumber, PerPage
from voxnumbers.numbers import service as numbers
from voxnumbers.numbers.schemas import Number
from voxnumbers.vocabulary import NumberType
from voxnumbers.web.handlers import Conn, answers
from voxnumbers.web.openapi import error_responses

AccountId = Annotated[str, Parameter(description="The account's id (`acc_…`).", max_length=40)]
KeyId = Annotated[str, Parameter(description="The key's id (`key_…`).", max_length=40)]
E164Path = Annotated[
    str, Parameter(description="The number: `+14155551234`, `%2B14155551234` or `14155551234`.")
]
_NUMBER = "/numbers/{e164:str}"


@post("/accounts", summary="Create an account", **answers(201, 400, 409, 413, 415))
async def create_account(conn: Conn, data: JSONBody[AccountCreate]) -> AccountView:
    return await service.create_account(conn, data.name)


@get("/accounts", summary="List accounts", responses=error_responses(400))
async def list_accounts(
    conn: Conn, page: PageNumber = 1, per_page: PerPage = PER_PAGE_DEFAULT
) -> AccountPage:
    """Every account, oldest first, with the exact total."""
    return await service.list_accounts(conn, page=page, per_page=per_page)


@get("/accounts/{account_id:str}", summary="Get an account", responses=error_responses(404))
async def get_account(conn: Conn, account_id: AccountId) -> AccountView:
    return await service.get_account(conn, account_id)


@post(
    "/accounts/{account_id:str}/keys",
    summary="Issue an API key",
    **answers(201, 400, 404, 409, 413, 415),
)
async def create_key(conn: Conn, account_id: AccountId, data: JSONBody[KeyCreate]) -> CreatedKey:
    """A new key of the account; the answer holds the ``secret``, shown only this once."""
    return await service.issue_key(conn, account_id, test=data.test)


@get(
    "/accounts/{account_id:str}/keys",
    summary="List an account's API keys",
    responses=error_responses(404),
)
async def list_keys(conn: Conn, account_id: AccountId) -> KeyPage:
    """The account's keys (hints only: keys are stored hashed)."""
    return await service.list_keys(conn, account_id)


@post("/keys/{key_id:str}/revoke", summary="Revoke an API key", **answers(200, 404, 409))
async def revoke_key(conn: Conn, key_id: KeyId) -> KeyView:
    """Requests with the key are refused from now on; answers its final state."""
    return await service.revoke_key(conn, key_id)


@post(
    "/inventory/import",
    summary="Put numbers up for sale from CSV",
    status_code=200,
    request_max_body_size=UPLOAD_MAX_BYTES,
    responses=error_responses(400, 409, 413, 415),
)
async def import_inventory(conn: Conn, data: JSONBody[InventoryUpload]) -> ImportResult:
    """Every row is validated as ``vox admin inventory import`` does; numbers already for
    sale or owned are left as they are."""
    return await service.import_inventory(conn, data)


@get("/inventory", summary="List numbers for sale", responses=error_responses(400))
async def list_inventory(
    conn: Conn,
    country: Annotated[str | None, Parameter(description="ISO 3166-1 alpha-2 code.")] = None,
    type: Annotated[NumberType | None, Parameter(description="local, toll_free or mobile.")] = None,
    contains: Annotated[str | None, Parameter(description="Digits the number contains.")] = None,
    page: PageNumber = 1,
    per_page: PerPage = PER_PAGE_DEFAULT,
) -> AvailableNumberPage:
    """Numbers anyone may buy now, in ``e164`` order, with the exact total."""
    return await inventory.search_inventory(
        conn,
        None,
        country=country,
        number_type=type,
        region=None,
        capabilities=[],
        contains=contains,
        page=page,
        per_page=per_page,
    )


@delete("/inventory/{e164:str}", summary="Remove a number from sale", **answers(200, 400, 404, 409))
async def remove_inventory(conn: Conn, e164: E164Path) -> AvailableNumber:
    """Take a number off sale; answers what was removed."""
    return await inventory.remove_from_inventory(conn, e164)


@post(f"{_NUMBER}/activate", summary="Activate a pending number", **answers(200, 400, 404, 409))
async def activate_number(conn: Conn, e164: E164Path) -> Number:
    return await numbers.activate(conn, e164)


@post(f"{_NUMBER}/suspend", summary="Suspend a number", **answers(200, 400, 404, 409, 413, 415))
async def suspend_number(conn: Conn, e164: E164Path, data: JSONBody[SuspendRequest]) -> Number:
    """Active to suspended; the reason is sent in the ``number.suspended`` event."""
    return await numbers.suspend(conn, e164, data.reason)


@post(f"{_NUMBER}/reinstate", summary="Reinstate a suspended number", **answers(200, 400, 404, 409))
async def reinstate_number(conn: Conn, e164: E164Path) -> Number:
    return await numbers.reinstate(conn, e164)


@get("/audit-log", summary="List the audit log of every account", responses=error_responses(400))
async def admin_audit_log(
    conn: Conn,
    account_id: Annotated[
        str | None,
        Parameter(description="Only this account's changes.", min_length=1, max_length=40),
    ] = None,
    object_type: ObjectType = None,
    object_id: ObjectId = None,
    actor_id: ActorId = None,
    since: Since = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> AuditPage:
    """Who changed what, over every account and the operators' own changes, newest first."""
    return await audit.list_entries(
        conn,
        account_id=account_id,
        object_type=object_type,
        object_id=object_id,
        actor_id=actor_id,
        since=since,
        cursor=cursor,
        limit=limit,
    )


admin_handlers = [
    create_account,
    list_accounts,
    get_account,
    create_key,
    list_keys,
    revoke_key,
    import_inventory,
    list_inventory,
    remove_inventory,
    activate_number,
    suspend_number,
    reinstate_number,
    admin_audit_log,
]
