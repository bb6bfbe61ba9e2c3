"""Rules of owned numbers: listing and buying, routing, release and the operator's
transitions. Handlers and other features call these functions; they never commit. The
types they take and return that other features handle (``NumberRecord``, ``NumberFilter``,
``ListableStatus``, ``Destination``) are re-exported here: another feature needs nothing
else of numbers."""

from voxnumbers.numbers.schemas import (
    Destination,
    ListableStatus,
    NumberFilter,
    NumberRecord,
    RoutingField,
)
from voxnumbers.numbers.service.common import actionable
from voxnumbers.numbers.service.counts import fold_count_slots
from voxnumbers.numbers.service.export import EXPORT_MEDIA_TYPES, export_numbers
from voxnumbers.numbers.service.listing import (
    ListFilters,
    get_number,
    list_numbers,
    number_filter,
    readable_number,
)
from voxnumbers.numbers.service.purchase import owned_row, purchase_number
from voxnumbers.numbers.service.release import (
    cancel_release,
    cancellation_status,
    early_termination_fee,
    preview_release,
    release_number,
    release_status,
    sweep_expired_releases,
)
from voxnumbers.numbers.service.routing import (
    assign_application,
    assign_trunk,
    count_routed,
    route_numbers,
    routing_change,
    unassign_application,
    unassign_trunk,
    unroute_all,
    unroute_before_delete,
    unroute_numbers,
    unrouting_change,
)
from voxnumbers.numbers.service.seeding import seed_owned_numbers
from voxnumbers.numbers.service.selection import (
    find_records,
    matching_numbers,
    matching_records,
    routing_target_exists,
)
from voxnumbers.numbers.service.transitions import activate, reinstate, suspend

__all__ = [
    "EXPORT_MEDIA_TYPES",
    "Destination",
    "ListFilters",
    "ListableStatus",
    "NumberFilter",
    "NumberRecord",
    "RoutingField",
    "actionable",
    "activate",
    "assign_application",
    "assign_trunk",
    "cancel_release",
    "cancellation_status",
    "count_routed",
    "early_termination_fee",
    "export_numbers",
    "find_records",
    "fold_count_slots",
    "get_number",
    "list_numbers",
    "matching_numbers",
    "matching_records",
    "number_filter",
    "owned_row",
    "preview_release",
    "purchase_number",
    "readable_number",
    "reinstate",
    "release_number",
    "release_status",
    "route_numbers",
    "routing_change",
    "routing_target_exists",
    "seed_owned_numbers",
    "suspend",
    "sweep_expired_releases",
    "unassign_application",
    "unassign_trunk",
    "unroute_all",
    "unroute_before_delete",
    "unroute_numbers",
    "unrouting_change",
]
