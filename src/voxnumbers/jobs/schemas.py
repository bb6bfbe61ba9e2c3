"""Request and response shapes of bulk operations and jobs (``spec/API.md`` §9)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from voxnumbers.kit.money import Money
from voxnumbers.kit.pagination import Page
from voxnumbers.numbers.service import ListableStatus
from voxnumbers.vocabulary import Capability, NumberType

BulkAction = Literal["assign_trunk", "assign_application", "unassign", "release", "cancel_release"]
JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
Outcome = Literal["changed", "unchanged", "failed"]
MAX_NUMBERS = 100_000
# A body of 100,000 numbers, each up to 16 characters quoted and separated, with room for
# spaces: what ``web.body`` admits on the bulk route (every other route keeps its limit).
MAX_BODY_BYTES = 4 * 1024 * 1024

TargetId = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class BulkFilter(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The list's filters (``GET …/numbers``), as a JSON object."""

    country: str | None = None
    status: ListableStatus | None = None
    type: NumberType | None = None
    region: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    capability: list[Capability] | None = None
    trunk_id: TargetId | None = None
    application_id: TargetId | None = None
    routed: bool | None = None
    contains: Annotated[str, msgspec.Meta(min_length=1, max_length=16)] | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_since: datetime | None = None


class BulkRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST …/numbers/bulk``: an action, its target for the assign actions, and
    the numbers it applies to, listed or selected by a filter (exactly one of the two)."""

    action: BulkAction
    trunk_id: TargetId | msgspec.UnsetType = msgspec.UNSET
    application_id: TargetId | msgspec.UnsetType = msgspec.UNSET
    numbers: (
        Annotated[
            list[Annotated[str, msgspec.Meta(min_length=1, max_length=32)]],
            msgspec.Meta(min_length=1, max_length=MAX_NUMBERS),
        ]
        | msgspec.UnsetType
    ) = msgspec.UNSET
    filter: BulkFilter | msgspec.UnsetType = msgspec.UNSET
    dry_run: bool = False


class Conflict(msgspec.Struct, kw_only=True):
    """A number the action cannot apply to, with what its single-number endpoint answers."""

    e164: str
    code: str
    message: str


class BulkPlan(msgspec.Struct, kw_only=True):
    """Answer of a dry run: what the job would do, nothing changed."""

    action: BulkAction
    dry_run: bool
    matched: int
    would_change: int
    unchanged: int
    conflict_count: int
    conflicts: list[Conflict]
    early_termination_fee_total: Money
    currency: Literal["USD"]


class Job(msgspec.Struct, kw_only=True):
    """A bulk job and its progress."""

    id: str
    action: BulkAction
    status: JobStatus
    matched: int
    processed: int
    changed: int
    unchanged: int
    failed: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobPage(Page[Job]):
    data: list[Job]


class ItemError(msgspec.Struct, kw_only=True):
    code: str
    message: str


class JobResult(msgspec.Struct, kw_only=True):
    """What the job did to one number."""

    e164: str
    outcome: Outcome
    error: ItemError | None


class JobResultPage(Page[JobResult]):
    data: list[JobResult]


class JobRecord(Job, kw_only=True):
    """A job as stored: the job the API shows, with what it does not show."""

    seq: int
    account_id: str
    target_id: str | None
    lease_owner: str | None
    locked_until: datetime | None
    created_by: str | None = None  # the key that created it (its changes are audited as its)

    @property
    def is_finished(self) -> bool:
        return self.status in ("succeeded", "failed", "cancelled")


class ItemOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """One number's outcome, as the runner records it."""

    e164: str
    outcome: Outcome
    error_code: str | None = None
    error_message: str | None = None


def _only(*members: str) -> dict[str, Any]:
    return {"not": {"anyOf": [{"required": [member]} for member in members]}}


# What BulkRequest's types cannot say, in JSON Schema (the OpenAPI description carries it):
# exactly one of ``numbers`` and ``filter``; the assign actions take their target, and the
# other actions no target.
BULK_REQUEST_RULES: dict[str, Any] = {
    "allOf": [
        {"oneOf": [{"required": ["numbers"]}, {"required": ["filter"]}]},
        {
            "anyOf": [
                {
                    "properties": {"action": {"const": "assign_trunk"}},
                    "required": ["trunk_id"],
                    **_only("application_id"),
                },
                {
                    "properties": {"action": {"const": "assign_application"}},
                    "required": ["application_id"],
                    **_only("trunk_id"),
                },
                {
                    "properties": {"action": {"enum": ["unassign", "release", "cancel_release"]}},
                    **_only("trunk_id", "application_id"),
                },
            ]
        },
    ]
}
