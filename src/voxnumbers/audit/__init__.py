"""The audit log: who changed what, when, from where; written in the change's transaction.

Every service that changes something calls ``record`` (re-exported here) inside the
transaction of the change; the actor comes from ``kit.actors`` (``acting_as``)."""

from voxnumbers.audit.service import changes_between, record, record_change, record_many_from
from voxnumbers.kit.actors import SYSTEM, Actor, acting_as, current_actor

__all__ = [
    "SYSTEM",
    "Actor",
    "acting_as",
    "changes_between",
    "current_actor",
    "record",
    "record_change",
    "record_many_from",
]
