"""The account's numbers a bulk operation selects, read as stored: what another feature
(a bulk job's plan and its items) needs of them without reaching into the repository."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.numbers import repository
from voxnumbers.numbers.schemas import NumberFilter, NumberRecord


async def find_records(
    conn: AsyncConnection, account_id: str, e164s: Sequence[str]
) -> dict[str, NumberRecord]:
    """The account's numbers among ``e164s``, as stored, by number (no lock: a plan)."""
    return await repository.find_records(conn, account_id, e164s)


async def matching_records(
    conn: AsyncConnection, account_id: str, where: NumberFilter, after: str | None, limit: int
) -> list[NumberRecord]:
    """Up to ``limit`` of the account's numbers a list filter matches, as stored, in
    ``e164`` order after ``after``."""
    return await repository.matching_records(conn, account_id, where, after, limit)


def matching_numbers(account_id: str, where: NumberFilter) -> Select[Any]:
    """``SELECT e164`` of the account's numbers a list filter matches, its values bound, for
    a statement that copies the selection (a bulk job's items)."""
    return repository.matching_numbers(account_id, where)


# Whether the account has this trunk (or application), held until commit so that a
# concurrent delete of it waits for the numbers routed to it.
routing_target_exists = repository.routing_target_exists
