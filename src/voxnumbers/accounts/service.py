"""Rules of accounts and API keys: issuing, revoking, authenticating; and the issuing and
revoking every kind of secret shares (API keys here, operator tokens in admin)."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, NamedTuple, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.accounts import repository
from voxnumbers.accounts.schemas import Account, ApiKey, Caller, IssuedKey
from voxnumbers.accounts.usage import KeyUsage
from voxnumbers.audit import service as audit
from voxnumbers.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from voxnumbers.kit.apikeys import digest_key, generate_key, looks_like_key
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.ids import is_well_formed, new_id

# --- secrets: API keys here, operator tokens in admin -------------------------------------


class Revocable(Protocol):
    """A stored secret's record: its id, its account (``None``: an operator's) and when it
    was revoked (``None``: in use)."""

    @property
    def id(self) -> str: ...

    @property
    def account_id(self) -> str | None: ...

    @property
    def revoked_at(self) -> datetime | None: ...


Secret = TypeVar("Secret", bound=Revocable)


class SecretStorage(NamedTuple, Generic[Secret]):
    """The repository functions that keep one kind of secret."""

    insert: Callable[[AsyncConnection, Secret, str], Awaitable[None]]
    find: Callable[[AsyncConnection, str], Awaitable[Secret | None]]
    mark_revoked: Callable[[AsyncConnection, str, datetime], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SecretKind(Generic[Secret]):
    """One kind of secret: how its records are named, kept and audited."""

    audited_as: str  # the audit actions' object type: "<audited_as>.created", ".revoked"
    id_prefix: str
    noun: str  # as a not-found message names it
    issued_field: str  # what a creation's audit entry says was issued (never its value)
    storage: SecretStorage[Secret]


async def _audit_secret(
    conn: AsyncConnection,
    kind: SecretKind[Secret],
    happened: str,
    before: Secret | None,
    after: Secret,
    extra: dict[str, tuple[str | None, str]] | None = None,
) -> None:
    await audit.record_change(
        conn,
        f"{kind.audited_as}.{happened}",
        after.id,
        account_id=after.account_id,
        before=before,
        after=after,
        extra=extra,
    )


async def store_issued(
    conn: AsyncConnection, kind: SecretKind[Secret], record: Secret, digest: str
) -> None:
    """Keep a new secret's record and digest, and audit its creation."""
    await kind.storage.insert(conn, record, digest)
    await _audit_secret(conn, kind, "created", None, record, {kind.issued_field: (None, "issued")})


async def revoke_secret(conn: AsyncConnection, kind: SecretKind[Secret], secret_id: str) -> Secret:
    """Revoke a secret (idempotent: only the first revocation is audited); requests with it
    are refused from then on."""
    find = kind.storage.find
    found = await find(conn, secret_id) if is_well_formed(secret_id, kind.id_prefix) else None
    if found is None:
        raise NotFound(f"No {kind.noun} {secret_id!r}.")
    await kind.storage.mark_revoked(conn, secret_id, utc_now())
    revoked = await find(conn, secret_id)
    assert revoked is not None
    if revoked.revoked_at != found.revoked_at:
        await _audit_secret(conn, kind, "revoked", found, revoked)
    return revoked


API_KEYS: SecretKind[ApiKey] = SecretKind(
    audited_as="key",
    id_prefix="key",
    noun="API key",
    issued_field="secret",
    storage=SecretStorage(repository.insert_key, repository.find_key, repository.revoke_key),
)


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
    await store_issued(conn, API_KEYS, key, material.digest)
    return IssuedKey(key=key, secret=material.secret)


async def revoke_key(conn: AsyncConnection, key_id: str) -> ApiKey:
    """Revoke a key (idempotent); requests with it are refused from then on."""
    return await revoke_secret(conn, API_KEYS, key_id)


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
