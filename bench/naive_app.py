"""Reference (c): the list as a user would first write it, for the same tables.

Litestar with its defaults, SQLAlchemy ORM models mapped onto the service's tables, an
API-key lookup per request, ``COUNT(*)`` over the filtered query and ``OFFSET`` paging, a
plain ``dict`` returned. Same paths and JSON shape as the service (list, get one, purchase).
Kept in ``bench/`` only: it exists to be measured against.

    BENCH_DATABASE_URL=postgresql+asyncpg://... \\
        granian --interface asgi --factory bench.naive_app:app_from_environment
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Litestar, Request, get, post
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException, NotFoundException
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from voxnumbers.db.types import Timestamp  # the tables store times this way on SQLite


class Base(DeclarativeBase):
    pass


class Number(Base):
    __tablename__ = "numbers"

    e164: Mapped[str] = mapped_column(primary_key=True)
    account_id: Mapped[str]
    country: Mapped[str]
    type: Mapped[str]
    region: Mapped[str]
    capabilities: Mapped[int]
    monthly_fee_cents: Mapped[int]
    setup_fee_cents: Mapped[int]
    needs_provisioning: Mapped[bool]
    status: Mapped[str]
    trunk_id: Mapped[str | None]
    application_id: Mapped[str | None]
    created_at: Mapped[datetime] = mapped_column(Timestamp())
    updated_at: Mapped[datetime] = mapped_column(Timestamp())
    released_at: Mapped[datetime | None] = mapped_column(Timestamp(), default=None)
    available_after: Mapped[datetime | None] = mapped_column(Timestamp(), default=None)
    previous_trunk_id: Mapped[str | None] = mapped_column(default=None)
    previous_application_id: Mapped[str | None] = mapped_column(default=None)


class InventoryNumber(Base):
    __tablename__ = "inventory_numbers"

    e164: Mapped[str] = mapped_column(primary_key=True)
    country: Mapped[str]
    type: Mapped[str]
    region: Mapped[str]
    capabilities: Mapped[int]
    monthly_fee_cents: Mapped[int]
    setup_fee_cents: Mapped[int]
    needs_provisioning: Mapped[bool]
    added_at: Mapped[datetime] = mapped_column(Timestamp())


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(primary_key=True)
    account_id: Mapped[str]
    digest: Mapped[str]
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp())


@dataclass
class PurchaseIn:
    e164: str
    country: str


CAPABILITIES = ("voice", "sms", "mms")


def as_dict(number: Number) -> dict[str, Any]:
    return {
        "e164": number.e164,
        "country": number.country,
        "type": number.type,
        "region": number.region,
        "status": number.status,
        "capabilities": [c for i, c in enumerate(CAPABILITIES) if number.capabilities & (1 << i)],
        "monthly_fee": number.monthly_fee_cents / 100,
        "setup_fee": number.setup_fee_cents / 100,
        "currency": "USD",
        "trunk_id": number.trunk_id,
        "application_id": number.application_id,
        "created_at": number.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updated_at": number.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


async def check_key(
    session: AsyncSession, request: Request[Any, Any, Any], account_id: str
) -> None:
    secret = request.headers.get("authorization", "").removeprefix("Bearer ")
    digest = hashlib.sha256(secret.encode()).hexdigest()
    key = await session.scalar(
        select(ApiKey).where(ApiKey.digest == digest, ApiKey.revoked_at.is_(None))
    )
    if key is None or key.account_id != account_id:
        raise NotAuthorizedException()


@get("/v1/account/{account_id:str}/numbers")
async def list_numbers(
    request: Request[Any, Any, Any],
    account_id: str,
    country: str | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> dict[str, Any]:
    async with request.app.state.sessions() as session:
        await check_key(session, request, account_id)
        query = select(Number).where(Number.account_id == account_id)
        if country:
            query = query.where(Number.country == country.upper())
        if status:
            query = query.where(Number.status == status)
        else:
            query = query.where(Number.status != "released")
        total = await session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await session.scalars(
            query.order_by(Number.created_at, Number.e164)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        data = [as_dict(number) for number in rows]
    return {
        "data": data,
        "pagination": {
            "total": total,
            "count": len(data),
            "per_page": per_page,
            "current_page": page,
            "total_pages": (total + per_page - 1) // per_page,
        },
    }


@get("/v1/account/{account_id:str}/numbers/{e164:str}")
async def get_number(request: Request[Any, Any, Any], account_id: str, e164: str) -> dict[str, Any]:
    async with request.app.state.sessions() as session:
        await check_key(session, request, account_id)
        number = await session.get(Number, e164)
        if number is None or number.account_id != account_id:
            raise NotFoundException()
        return as_dict(number)


@post("/v1/account/{account_id:str}/numbers/purchase-from-inventory")
async def purchase(
    request: Request[Any, Any, Any], account_id: str, data: PurchaseIn
) -> dict[str, Any]:
    async with request.app.state.sessions() as session, session.begin():
        await check_key(session, request, account_id)
        item = await session.get(InventoryNumber, data.e164, with_for_update=True)
        if item is None:
            raise NotFoundException()
        now = datetime.now(UTC)
        number = Number(
            e164=item.e164,
            account_id=account_id,
            country=item.country,
            type=item.type,
            region=item.region,
            capabilities=item.capabilities,
            monthly_fee_cents=item.monthly_fee_cents,
            setup_fee_cents=item.setup_fee_cents,
            needs_provisioning=item.needs_provisioning,
            status="pending" if item.needs_provisioning else "active",
            trunk_id=None,
            application_id=None,
            created_at=now,
            updated_at=now,
        )
        await session.delete(item)
        session.add(number)
    return as_dict(number)


def app_from_environment() -> Litestar:
    url = os.environ["BENCH_DATABASE_URL"]
    connect_args = {}
    if url.startswith("postgresql"):  # lets the harness find (and pin) its connections
        connect_args = {"server_settings": {"application_name": "bench-naive"}}
    engine = create_async_engine(url, connect_args=connect_args)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    return Litestar(
        route_handlers=[list_numbers, get_number, purchase],
        state=State({"sessions": sessions}),
    )
