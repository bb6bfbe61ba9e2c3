"""A purchase answers from the row it inserted: it never reads the new number back. The
statements it runs are counted (``before_cursor_execute`` sees every one, those run on the
driver directly included), on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from tests.factories import US_NUMBERS, entry, make_tenant, stock
from voxnumbers.db.engine import Database
from voxnumbers.kit.worlds import world_of
from voxnumbers.numbers import repository as numbers_repository
from voxnumbers.numbers import service as numbers
from voxnumbers.numbers.schemas import PurchaseRequest

NUMBER = US_NUMBERS[0]

# The live purchase: take the number off sale (DELETE … RETURNING), insert it, insert its
# event, look up the webhook endpoints to deliver it to, insert its audit entry. The counts
# are written at commit, outside the purchase.
LIVE_STATEMENTS = 5
# A test world's purchase: look for the world's earlier purchase of the number (locked),
# insert it unless the world holds it, then the same event, endpoints and audit entry.
TEST_WORLD_STATEMENTS = 5


@contextmanager
def counted(database: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _reads_of_numbers(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("SELECT") and "numbers" in s]


@pytest.mark.parametrize("live", [True, False], ids=["live", "test world"])
async def test_a_purchase_never_reads_the_number_it_inserted(database, live):
    tenant = await make_tenant(database)
    account_id = world_of(tenant.account_id, live=live)
    await stock(database, entry(NUMBER))
    async with database.transaction() as conn:
        await conn.exec_driver_sql("SELECT 1")  # the transaction is open before counting
        with counted(database) as statements:
            bought = await numbers.purchase_number(
                conn, account_id, PurchaseRequest(e164=NUMBER, country="us")
            )
    expected = LIVE_STATEMENTS if live else TEST_WORLD_STATEMENTS
    assert len(statements) == expected, statements
    if live:
        assert _reads_of_numbers(statements) == []
    async with database.transaction() as conn:
        stored = await numbers_repository.find_number(conn, account_id, NUMBER)
    assert bought == stored
