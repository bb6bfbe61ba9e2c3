"""Rules of accounts and API keys: issuing, revoking, authenticating."""

from __future__ import annotations

import base64
import binascii
import hmac
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.accounts import repository
from voxnumbers.accounts.schemas import Account, ApiKey, Caller, IssuedKey
from voxnumbers.accounts.usage import KeyUsage
from voxnumbers.audit import service as audit
from voxnumbers.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from voxnumbers.kit.apikeys import digest_key, generate_key, looks_like_key
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.ids import is_well_formed, new_id

# What an issued key's audit entry says of its secret (never the secret itself).
_SECRET_ISSUED = {"secret": (None, "issued")}


async def create_account(conn: AsyncConnection, name: str) -> Account:
    """A new active account."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed.on("name", "must be 1 to 200 characters")
    account = Account(id=new_id("acc"), name=name, status="active", created_at=utc_now())
    await repository.insert_account(conn, account)
    await audit.record_change(
        conn, "account.created", account.id, account_id=account.id, after=account
    )
    return account


async def issue_key(conn: AsyncConnection, account_id: str, *, test: bool = False) -> IssuedKey:
    """A new key for the account; its secret is returned here and never again."""
    if await _find_account(conn, account_id) is None:
        raise NotFound(f"No account {account_id!r}.")
    material = generate_key(test=test)
    key = ApiKey(
        id=new_id("key"),
        account_id=account_id,
        hint=material.hint,
        mode=material.mode,
        created_at=utc_now(),
    )
    await repository.insert_key(conn, key, material.digest)
    await audit.record_change(
        conn, "key.created", key.id, account_id=account_id, after=key, extra=_SECRET_ISSUED
    )
    return IssuedKey(key=key, secret=material.secret)


async def revoke_key(conn: AsyncConnection, key_id: str) -> ApiKey:
    """Revoke a key (idempotent); requests with it are refused from then on."""
    before = await repository.find_key(conn, key_id) if is_well_formed(key_id, "key") else None
    if before is None:
        raise NotFound(f"No API key {key_id!r}.")
    await repository.revoke_key(conn, key_id, utc_now())
    key = await repository.find_key(conn, key_id)
    assert key is not None
    if key.revoked_at != before.revoked_at:
        await audit.record_change(
            conn, "key.revoked", key.id, account_id=key.account_id, before=before, after=key
        )
    return key


async def list_keys(conn: AsyncConnection, account_id: str) -> list[ApiKey]:
    if await _find_account(conn, account_id) is None:
        raise NotFound(f"No account {account_id!r}.")
    return await repository.list_keys(conn, account_id)


async def authenticate(
    conn: AsyncConnection, authorization: str | None, usage: KeyUsage | None = None
) -> Caller:
    """The caller of a request from its ``Authorization`` header, Bearer or Basic.

    Basic carries the account id as user name and the key as password. Every failure is the
    same ``401`` so a caller learns nothing about which part was wrong.
    """
    secret, claimed_account = _credentials_from_header(authorization)
    if not looks_like_key(secret):
        raise Unauthorized()
    caller = await repository.find_caller_by_digest(conn, digest_key(secret))
    if caller is None:
        raise Unauthorized()
    if claimed_account is not None and not hmac.compare_digest(
        claimed_account.encode(), caller.public_account_id.encode()
    ):
        raise Unauthorized()
    if usage is not None:
        usage.seen(caller.key_id)
    return caller


def authorize_account(caller: Caller, account_id: str) -> None:
    """The path's account must be the key's: anything else is the same ``403``, whether the
    account exists or not."""
    if not hmac.compare_digest(
        account_id.encode("utf-8", "surrogateescape"), caller.public_account_id.encode()
    ):
        raise Forbidden()


def _credentials_from_header(authorization: str | None) -> tuple[str, str | None]:
    if not authorization:
        raise Unauthorized()
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value, None
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise Unauthorized() from exc
        user, sep, password = decoded.partition(":")
        if sep and user and password:
            return password, user
    raise Unauthorized()


async def save_key_usage(conn: AsyncConnection, notes: dict[str, datetime]) -> None:
    """Write a batch of ``last_used_at`` notes taken from ``KeyUsage``."""
    await repository.record_key_usage(conn, notes)


async def find_account_by_name(conn: AsyncConnection, name: str) -> Account | None:
    """The oldest account of this name, or ``None``."""
    return await repository.find_account_by_name(conn, name)


async def any_account(conn: AsyncConnection) -> bool:
    """Whether any account exists (a fresh database has none)."""
    return await repository.any_account(conn)


async def list_accounts(conn: AsyncConnection) -> list[Account]:
    return await repository.list_accounts(conn)


async def get_account(conn: AsyncConnection, account_id: str) -> Account:
    """One account; ``404`` when there is none with this id."""
    account = await _find_account(conn, account_id)
    if account is None:
        raise NotFound(f"No account {account_id!r}.")
    return account


async def _find_account(conn: AsyncConnection, account_id: str) -> Account | None:
    """The account, or None; an id that is not one of ours (``acc_`` and lower-case letters
    and digits) is answered without asking the database, which refuses some of them (NUL)."""
    if not is_well_formed(account_id, "acc"):
        return None
    return await repository.find_account(conn, account_id)


async def list_accounts_page(
    conn: AsyncConnection, *, page: int, per_page: int
) -> tuple[list[Account], int]:
    """A page of every account, oldest first, and how many there are."""
    total = await repository.count_accounts(conn)
    offset = (page - 1) * per_page
    items = (
        await repository.list_accounts(conn, limit=per_page, offset=offset)
        if offset < total
        else []
    )
    return items, total
