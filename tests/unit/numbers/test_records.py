"""How a stored number becomes a ``NumberRecord``."""

from __future__ import annotations

from voxnumbers.db.tables import numbers
from voxnumbers.numbers.schemas import NumberRecord


def test_a_record_has_the_tables_columns_in_their_order() -> None:
    """The repository makes records by position from ``select(numbers)`` rows: a column
    added, removed or moved without the record would shift every field after it."""
    assert list(NumberRecord.__struct_fields__) == [column.name for column in numbers.c]
