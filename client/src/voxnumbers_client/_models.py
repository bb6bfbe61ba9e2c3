"""Typed results: one frozen dataclass per object of the API, with exactly its fields.

Money is ``decimal.Decimal`` and times are aware ``datetime`` objects. Objects are built from
decoded JSON by :meth:`Model.from_json`, which converts each field according to its type
annotation; keys the SDK does not know yet are ignored, so a newer server does not break an
older SDK.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Self

from voxnumbers_client._json import format_datetime, parse_datetime

Converter = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Model:
    """Base of every API object: parse from JSON with ``from_json``, back with ``to_dict``."""

    @classmethod
    def from_json(cls, data: Any) -> Self:
        """Build the object from a decoded JSON object.

        Raises ``ValueError`` when a documented field is missing or has the wrong type.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"{cls.__name__}: expected a JSON object, got {type(data).__name__}")
        values: dict[str, Any] = {}
        for spec in _field_specs(cls):
            if spec.name in data:
                try:
                    values[spec.name] = spec.convert(data[spec.name])
                except (TypeError, ValueError, ArithmeticError) as exc:
                    raise ValueError(f"{cls.__name__}.{spec.name}: {exc}") from exc
            elif spec.nullable and not spec.has_default:
                values[spec.name] = None
            elif not spec.has_default:
                raise ValueError(f"{cls.__name__}: missing field {spec.name!r}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The object as JSON-shaped data, keys in API order (money stays ``Decimal``)."""
        return {f.name: _to_plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


# --- numbers -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Number(Model):
    """A number owned by the account (API.md §2)."""

    e164: str
    country: str
    type: str
    region: str
    status: str
    capabilities: tuple[str, ...]
    monthly_fee: Decimal
    setup_fee: Decimal
    currency: str
    trunk_id: str | None
    application_id: str | None
    created_at: datetime
    updated_at: datetime
    #: Released numbers only (while cooling off): when released, and when back for sale.
    released_at: datetime | None = None
    available_after: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """The number as the API sent it: the two release times only on released numbers."""
        data = Model.to_dict(self)
        if self.released_at is None and self.available_after is None:
            del data["released_at"], data["available_after"]
        return data


@dataclass(frozen=True, slots=True)
class AvailableNumber(Model):
    """A number in inventory that can be bought now (API.md §3.1b)."""

    e164: str
    country: str
    type: str
    region: str
    capabilities: tuple[str, ...]
    monthly_fee: Decimal
    setup_fee: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class NumberRouting(Model):
    """Where a number routes after an assign or unassign (API.md §3.3)."""

    e164: str
    trunk_id: str | None
    application_id: str | None
    status: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ReleasePreview(Model):
    """What releasing a number would cost (API.md §3.4)."""

    e164: str
    can_release: bool
    early_termination_fee: Decimal
    currency: str
    cooling_off_period_days: int
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NumberRelease(Model):
    """A released number, cooling off until ``available_after`` (API.md §3.4)."""

    e164: str
    status: str
    released_at: datetime
    early_termination_fee: Decimal
    currency: str
    cooling_off_period_days: int
    available_after: datetime


# --- trunks --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Trunk(Model):
    """A SIP trunk (API.md §4)."""

    id: str
    name: str
    auth_type: str
    termination_uri: str | None
    origination_uris: tuple[str, ...]
    max_channels: int
    sip_domain: str
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TrunkCredential(Model):
    """A username allowed to authenticate on a trunk (the password is never returned)."""

    id: str
    trunk_id: str
    username: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class IpAclEntry(Model):
    """An address range allowed to send traffic to a trunk."""

    id: str
    trunk_id: str
    ip: str
    mask: int
    cidr: str
    description: str | None
    created_at: datetime


# --- applications, webhooks, events --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Application(Model):
    """A voice application (API.md §5).

    ``webhook_secret`` is write-only and never returned; ``has_webhook_secret`` says whether
    one is set (``False`` from servers that do not say).
    """

    id: str
    name: str
    answer_url: str | None
    answer_method: str | None
    hangup_url: str | None
    hangup_method: str | None
    fallback_url: str | None
    created_at: datetime
    updated_at: datetime
    has_webhook_secret: bool = False


@dataclass(frozen=True, slots=True)
class WebhookEndpoint(Model):
    """Where the account's events are delivered.

    ``event_types`` lists the types delivered (empty: every type); ``enabled`` is false for
    an endpoint that gets no new deliveries; ``secret`` signs the deliveries and is only
    returned when the endpoint is created.
    """

    id: str
    url: str
    event_types: tuple[str, ...] = ()
    status: str | None = None
    enabled: bool | None = None
    secret: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class WebhookDelivery(Model):
    """One delivery of an event to an endpoint: ``status`` (``pending``, ``delivered``,
    ``failed``), ``attempts``, the endpoint's ``last_response_status`` (``None`` when no
    answer came) and, while pending, ``next_attempt_at``."""

    id: str
    event_id: str
    event_type: str
    status: str
    attempts: int
    created_at: datetime
    e164: str | None = None
    last_response_status: int | None = None
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Event(Model):
    """A recorded change of a number (``number.purchased``, ``number.released``, …).

    ``data["number"]`` is the number as the API showed it after the change (``None`` once it
    left the account); some types add more (``early_termination_fee`` on
    ``number.released``). ``e164`` is ``None`` in webhook deliveries, which carry no such key.
    ``livemode`` is ``False`` for an event of the account's test world (``None`` from a server
    that does not say).
    """

    id: str
    type: str
    created_at: datetime
    e164: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    livemode: bool | None = None


@dataclass(frozen=True, slots=True)
class Pagination(Model):
    """The ``pagination`` object of every list response (the seed's five fields).

    ``next_cursor`` is set only when the list was requested with cursor paging (``None`` on
    the last page).
    """

    total: int
    count: int
    per_page: int
    current_page: int
    total_pages: int
    next_cursor: str | None = None
    #: Whether the server sent ``next_cursor`` (even as null): the list was paged by cursor.
    cursor_paged: bool = field(default=False, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        """Read the pagination object, noting whether it came with ``next_cursor``."""
        parsed = Model.from_json.__func__(cls, data)  # type: ignore[attr-defined]
        return dataclasses.replace(parsed, cursor_paged="next_cursor" in data)  # type: ignore[no-any-return]

    def to_dict(self) -> dict[str, Any]:
        """The pagination object as the server sent it (``next_cursor`` only if it did)."""
        data = Model.to_dict(self)
        del data["cursor_paged"]
        if not self.cursor_paged and data["next_cursor"] is None:
            del data["next_cursor"]
        return data


# --- bulk jobs -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BulkConflict(Model):
    """A number a bulk action cannot apply to, with the code its own endpoint answers."""

    e164: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class BulkPlan(Model):
    """What a bulk action would do: the answer of a dry run (API.md §9)."""

    action: str
    dry_run: bool
    matched: int
    would_change: int
    unchanged: int
    conflict_count: int
    conflicts: tuple[BulkConflict, ...]
    early_termination_fee_total: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Job(Model):
    """A bulk job and its progress (API.md §9)."""

    id: str
    action: str
    status: str
    matched: int
    processed: int
    changed: int
    unchanged: int
    failed: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def done(self) -> bool:
        """Whether the job has ended (``succeeded``, ``failed`` or ``cancelled``)."""
        return self.status in ("succeeded", "failed", "cancelled")

    @property
    def progress(self) -> float:
        """The share of its numbers the job has processed, from 0.0 to 1.0."""
        return 1.0 if self.matched == 0 else min(1.0, self.processed / self.matched)


@dataclass(frozen=True, slots=True)
class JobError(Model):
    """Why a bulk job could not change a number."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class JobResult(Model):
    """What a bulk job did to one number: ``changed``, ``unchanged`` or ``failed``."""

    e164: str
    outcome: str
    error: JobError | None


# --- conversion machinery ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _FieldSpec:
    name: str
    convert: Converter
    nullable: bool
    has_default: bool


_SPECS: dict[type[Model], tuple[_FieldSpec, ...]] = {}


def _field_specs(cls: type[Model]) -> tuple[_FieldSpec, ...]:
    """How to read each field of ``cls`` (worked out once per class)."""
    specs = _SPECS.get(cls)
    if specs is None:
        specs = _SPECS[cls] = _build_field_specs(cls)
    return specs


def _build_field_specs(cls: type[Model]) -> tuple[_FieldSpec, ...]:
    hints = typing.get_type_hints(cls)
    return tuple(
        _FieldSpec(
            name=f.name,
            convert=_converter(hints[f.name]),
            nullable=_is_nullable(hints[f.name]),
            has_default=(
                f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            ),
        )
        for f in dataclasses.fields(cls)
    )


def _is_nullable(hint: Any) -> bool:
    return _is_union(hint) and type(None) in typing.get_args(hint)


def _is_union(hint: Any) -> bool:
    return isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union


def _converter(hint: Any) -> Converter:
    if _is_union(hint):
        (inner,) = (arg for arg in typing.get_args(hint) if arg is not type(None))
        convert = _converter(inner)
        return lambda value: None if value is None else convert(value)
    origin = typing.get_origin(hint)
    if origin is tuple:
        convert_item = _converter(typing.get_args(hint)[0])
        return lambda value: tuple(convert_item(item) for item in _expect(value, list))
    if origin is dict or hint is Any:
        return lambda value: value if hint is Any else dict(_expect(value, dict))
    simple: dict[Any, Converter] = {
        str: lambda value: _expect(value, str),
        bool: lambda value: _expect(value, bool),
        int: _to_int,
        Decimal: _to_decimal,
        datetime: lambda value: parse_datetime(_expect(value, str)),
    }
    if hint in simple:
        return simple[hint]
    if isinstance(hint, type) and issubclass(hint, Model):
        return hint.from_json
    raise TypeError(f"no JSON conversion for {hint!r}")


def _expect(value: Any, kind: type) -> Any:
    if not isinstance(value, kind):
        raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
    return value


def _to_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        raise TypeError(f"expected a number, got {value!r}")
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _to_plain(value: Any) -> Any:
    if isinstance(value, Model):
        return value.to_dict()
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, tuple | list):
        return [_to_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _to_plain(item) for key, item in value.items()}
    return value
