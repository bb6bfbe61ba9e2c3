"""The SQL that every table of account-owned objects shares: add one, find one, count them,
read a page of them (oldest first), change or delete one.

Every query names the account as well as the object, so another account's row is simply
not there. A table whose rows sit under a parent (a trunk's credentials) also names the
parent. The table's columns carry the names of the item's fields: a row read is the item.
An id not of the table's form (``<prefix>_`` and lower-case letters and digits, as
``kit.ids`` makes them) cannot exist: it is not found, without asking the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from functools import partial
from typing import Any, Generic, TypeVar

import msgspec
from sqlalchemy import Column, ColumnElement, Select, Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.kit.ids import is_well_formed
from voxnumbers.kit.pagination import Pagination, read_page

Item = TypeVar("Item", bound=msgspec.Struct)


@dataclass(eq=False)
class AccountRows(Generic[Item]):
    """The rows of ``table`` read as ``item_type`` (one column per field), with ids
    ``<id_prefix>_…``.

    ``parent`` is the column naming the object the rows belong to, if any; ``visible`` a
    condition the rows must meet to be seen at all (a deleted one is not)."""

    table: Table
    item_type: type[Item]
    _: KW_ONLY
    id_prefix: str
    parent: Column[Any] | None = None
    visible: ColumnElement[bool] | None = None
    columns: tuple[Column[Any], ...] = field(init=False)

    def __post_init__(self) -> None:
        self.columns = tuple(self.table.c[name] for name in self.item_type.__struct_fields__)

    async def insert(self, conn: AsyncConnection, item: Item, **stored: Any) -> None:
        """Add ``item``'s row; ``stored`` are the columns the item does not show (its
        account, a password hash)."""
        await conn.execute(self.table.insert().values(**msgspec.structs.asdict(item), **stored))

    async def find(
        self,
        conn: AsyncConnection,
        account_id: str,
        object_id: str,
        *,
        parent_id: str | None = None,
        for_update: bool = False,
    ) -> Item | None:
        """The account's object, optionally locked (PostgreSQL) until the transaction ends,
        so nothing can be attached to it or route to it meanwhile."""
        if not is_well_formed(object_id, self.id_prefix):
            return None
        query = self._owned(select(*self.columns), account_id, parent_id).where(
            self.table.c.id == object_id
        )
        if for_update:
            query = query.with_for_update()
        row = (await conn.execute(query)).first()
        return self.item_type(**row._mapping) if row else None

    async def count(
        self, conn: AsyncConnection, account_id: str, *, parent_id: str | None = None
    ) -> int:
        query = self._owned(select(func.count()).select_from(self.table), account_id, parent_id)
        return int((await conn.execute(query)).scalar_one())

    async def read_page(
        self,
        conn: AsyncConnection,
        account_id: str,
        *,
        parent_id: str | None = None,
        page: int,
        per_page: int,
    ) -> tuple[list[Item], Pagination]:
        """Page ``page`` of the account's objects, oldest first, and its pagination block
        (with the exact total)."""
        total = await self.count(conn, account_id, parent_id=parent_id)
        read = partial(self.page, conn, account_id, parent_id=parent_id)
        return await read_page(read, total, page, per_page)

    async def page(
        self,
        conn: AsyncConnection,
        account_id: str,
        *,
        parent_id: str | None = None,
        limit: int,
        offset: int,
    ) -> list[Item]:
        """``limit`` of the account's objects from ``offset`` on, oldest first
        (``created_at``, then ``id``: a total order)."""
        query = (
            self._owned(select(*self.columns), account_id, parent_id)
            .order_by(self.table.c.created_at, self.table.c.id)
            .limit(limit)
            .offset(offset)
        )
        return [self.item_type(**row._mapping) for row in await conn.execute(query)]

    async def update(
        self, conn: AsyncConnection, account_id: str, object_id: str, values: Mapping[str, Any]
    ) -> None:
        """Write ``values`` (column to value) to the account's object."""
        await conn.execute(
            update(self.table)
            .where(self.table.c.account_id == account_id, self.table.c.id == object_id)
            .values(**values)
        )

    async def delete(self, conn: AsyncConnection, account_id: str, object_id: str) -> None:
        await conn.execute(
            delete(self.table).where(
                self.table.c.account_id == account_id, self.table.c.id == object_id
            )
        )

    def _owned(self, query: Select[Any], account_id: str, parent_id: str | None) -> Select[Any]:
        assert (parent_id is None) == (self.parent is None), "name the parent, and only then"
        query = query.where(self.table.c.account_id == account_id)
        if self.parent is not None:
            query = query.where(self.parent == parent_id)
        if self.visible is not None:
            query = query.where(self.visible)
        return query
