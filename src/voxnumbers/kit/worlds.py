"""Live and test worlds of an account (``spec/API.md`` §10), as internal account ids.

Every public account (``acc_…``) has two rows in ``accounts``: its live row, whose id is the
public id, and its test row, whose id is the public id with ``_test`` appended (never the
shape of an id ``new_id`` makes, so no public account can take it). Every tenant table keys
its rows by this internal id: a query ``WHERE account_id = :world`` sees one world only.
The public id alone is shown to clients and compared with the path.
"""

from __future__ import annotations

TEST_SUFFIX = "_test"


def world_of(public_id: str, *, live: bool) -> str:
    """The internal account id of the live or test world of a public account."""
    return public_id if live else public_id + TEST_SUFFIX


def world_of_mode(public_id: str, mode: str) -> str:
    """The world a key of ``mode`` (``live`` or ``test``) acts in."""
    return world_of(public_id, live=mode != "test")


def is_live(world_id: str) -> bool:
    """Whether an internal account id is a live world."""
    return not world_id.endswith(TEST_SUFFIX)


def public_id_of(world_id: str) -> str:
    """The public account id a world belongs to."""
    return world_id.removesuffix(TEST_SUFFIX)
