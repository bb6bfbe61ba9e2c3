"""Rules of operators: operator tokens, and the admin API's operations over the features'
services (the same functions the ``vox admin`` commands call)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.accounts import service as accounts
from voxnumbers.accounts.schemas import ApiKey, Caller
from voxnumbers.admin import repository
from voxnumbers.admin.schemas import (
    AccountPage,
    AccountView,
    CreatedKey,
    ImportProblem,
    ImportResult,
    InventoryUpload,
    IssuedOperatorToken,
    KeyPage,
    KeyView,
    OperatorToken,
)
from voxnumbers.errors import Unauthorized, ValidationFailed
from voxnumbers.inventory import service as inventory
from voxnumbers.kit.apikeys import digest_key, generate_operator_token, looks_like_operator_token
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.ids import new_id
from voxnumbers.kit.pagination import pagination

OPERATOR_MODE = "operator"
_NO_OPERATOR = "A valid operator token is required (Authorization: Bearer tvx_op_...)."
IMPORT_BATCH = 5_000
OPERATOR_TOKENS = accounts.SecretKind(
    audited_as="operator_token",
    id_prefix="opt",
    noun="operator token",
    issued_field="token",
    storage=accounts.SecretStorage(
        repository.insert_token, repository.find_token, repository.revoke_token
    ),
)


# --- operator tokens ------------------------------------------------------------------------


async def create_operator_token(conn: AsyncConnection, name: str) -> IssuedOperatorToken:
    """A new operator token; the token is returned here and never again (only its SHA-256
    is stored)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed.on("name", "must be 1 to 200 characters")
    material = generate_operator_token()
    token = OperatorToken(
        id=new_id("opt"),
        name=name,
        hint=material.hint,
        created_at=utc_now(),
    )
    await accounts.store_issued(conn, OPERATOR_TOKENS, token, material.digest)
    return IssuedOperatorToken(token=token, secret=material.secret)


async def list_operator_tokens(conn: AsyncConnection) -> list[OperatorToken]:
    return await repository.list_tokens(conn)


async def revoke_operator_token(conn: AsyncConnection, token_id: str) -> OperatorToken:
    """Revoke an operator token (idempotent); the admin API refuses it from then on."""
    return await accounts.revoke_secret(conn, OPERATOR_TOKENS, token_id)


async def authenticate_operator(conn: AsyncConnection, authorization: str | None) -> Caller:
    """The operator calling the admin API, from ``Authorization: Bearer tvx_op_…``: a
    ``Caller`` whose key and scope are the token's id (rate limits, idempotency keys).
    Anything else, customer keys included, is the same ``401``."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    secret = value.strip()
    if scheme.lower() != "bearer" or not looks_like_operator_token(secret):
        raise Unauthorized(_NO_OPERATOR)
    token_id = await repository.find_active_id_by_digest(conn, digest_key(secret))
    if token_id is None:
        raise Unauthorized(_NO_OPERATOR)
    return Caller(
        account_id=token_id, key_id=token_id, mode=OPERATOR_MODE, public_account_id=token_id
    )


async def save_token_usage(conn: AsyncConnection, notes: dict[str, datetime]) -> None:
    """Write a batch of operator tokens' ``last_used_at`` (ids of API keys are ignored)."""
    await repository.record_usage(
        conn, {token_id: at for token_id, at in notes.items() if token_id.startswith("opt_")}
    )


# --- accounts and keys ----------------------------------------------------------------------


async def create_account(conn: AsyncConnection, name: str) -> AccountView:
    account = await accounts.create_account(conn, name)
    return AccountView(**_fields(account))


async def list_accounts(conn: AsyncConnection, *, page: int, per_page: int) -> AccountPage:
    items, total = await accounts.list_accounts_page(conn, page=page, per_page=per_page)
    return AccountPage(
        data=[AccountView(**_fields(a)) for a in items],
        pagination=pagination(total, len(items), page, per_page),
    )


async def get_account(conn: AsyncConnection, account_id: str) -> AccountView:
    return AccountView(**_fields(await accounts.get_account(conn, account_id)))


async def issue_key(conn: AsyncConnection, account_id: str, *, test: bool) -> CreatedKey:
    issued = await accounts.issue_key(conn, account_id, test=test)
    return CreatedKey(**_fields(issued.key), secret=issued.secret)


async def list_keys(conn: AsyncConnection, account_id: str) -> KeyPage:
    return KeyPage(data=[_key(k) for k in await accounts.list_keys(conn, account_id)])


async def revoke_key(conn: AsyncConnection, key_id: str) -> KeyView:
    return _key(await accounts.revoke_key(conn, key_id))


# --- inventory ------------------------------------------------------------------------------


async def import_inventory(conn: AsyncConnection, upload: InventoryUpload) -> ImportResult:
    """Validate an uploaded CSV row by row with the rules of ``vox admin inventory import``
    and put its numbers up for sale in the request's transaction."""
    checked = inventory.validate_csv_text(upload.csv)
    inventory.import_problems(checked, skip_invalid=upload.skip_invalid)
    added = await inventory.import_entries(conn, checked.entries, IMPORT_BATCH)
    return ImportResult(
        added=added,
        present=len(checked.entries) - added,
        invalid=len(checked.problems),
        problems=[ImportProblem(line=p.line, reason=p.reason) for p in checked.problems],
    )


def _key(key: ApiKey) -> KeyView:
    return KeyView(**_fields(key))


def _fields(obj: object) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}  # type: ignore[attr-defined]
