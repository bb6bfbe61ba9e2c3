"""Demo data for ``vox serve``: numbers for sale, a demo account that owns some, and a key.

Made only on an empty database, and only once: a restart finds the demo account, re-reads
the key saved in the state file, and prints the same key again (or a fresh one when the
saved one no longer works). The numbers are generated from each country's example numbers
in ``phonenumbers`` with seeded random trailing digits, so every database gets the same
catalogue and every number is valid and of the type it is sold as.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import phonenumbers
from rich.markup import escape
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.accounts import service as accounts
from voxnumbers.cli.runtime import err, out
from voxnumbers.db.engine import Database
from voxnumbers.errors import Unauthorized
from voxnumbers.inventory import service as inventory
from voxnumbers.inventory.schemas import InventoryEntry
from voxnumbers.kit.clock import utc_now
from voxnumbers.kit.e164 import InvalidNumber, normalize_e164, number_facts
from voxnumbers.kit.money import parse_cents
from voxnumbers.kit.worlds import world_of
from voxnumbers.numbers import service as numbers
from voxnumbers.settings import Settings
from voxnumbers.vocabulary import to_mask

DEMO_ACCOUNT_NAME = "Demo account"

_PLAN_TYPES = {
    "local": phonenumbers.PhoneNumberType.FIXED_LINE,
    "mobile": phonenumbers.PhoneNumberType.MOBILE,
    "toll_free": phonenumbers.PhoneNumberType.TOLL_FREE,
}


@dataclass(frozen=True, slots=True)
class _Offer:
    """Numbers of one country and type for sale, and what they cost."""

    country: str
    type: str
    count: int
    monthly_fee: str
    setup_fee: str = "0"
    capabilities: str = "voice"
    needs_provisioning: bool = False  # e.g. an address or identity check before activation
    vary: int = 4  # trailing digits drawn at random; more digits spread over more areas


# fmt: off
_CATALOGUE = (
    _Offer("US", "local", 650, "1.15", capabilities="voice,sms", vary=9),
    _Offer("US", "toll_free", 150, "2.00", capabilities="voice,sms", vary=6),
    _Offer("CA", "local", 150, "1.15", capabilities="voice,sms", vary=9),
    _Offer("GB", "local", 120, "1.50", vary=9),
    _Offer("GB", "mobile", 80, "3.50", capabilities="voice,sms"),
    _Offer("GB", "toll_free", 50, "2.50"),
    _Offer("IE", "local", 60, "1.50", vary=6),
    _Offer("IE", "mobile", 40, "3.00", capabilities="voice,sms"),
    _Offer("DE", "local", 100, "1.75", needs_provisioning=True, vary=8),
    _Offer("DE", "mobile", 60, "3.00", capabilities="voice,sms"),
    _Offer("DE", "toll_free", 40, "3.50", setup_fee="5.00"),
    _Offer("FR", "local", 80, "1.80", needs_provisioning=True, vary=8),
    _Offer("FR", "mobile", 50, "3.25", capabilities="voice,sms"),
    _Offer("FR", "toll_free", 30, "3.50"),
    _Offer("ES", "local", 60, "1.60", vary=8),
    _Offer("ES", "mobile", 40, "3.00", capabilities="voice,sms"),
    _Offer("IT", "mobile", 40, "3.25", capabilities="voice,sms"),
    _Offer("IT", "toll_free", 30, "3.50"),
    _Offer("NL", "local", 60, "1.50", vary=8),
    _Offer("NL", "mobile", 40, "3.00", capabilities="voice,sms,mms"),
    _Offer("BE", "local", 40, "1.60", vary=7),
    _Offer("SE", "local", 40, "1.80"),
    _Offer("SE", "mobile", 40, "3.50", capabilities="voice,sms"),
    _Offer("CH", "local", 40, "2.20", vary=8),
    _Offer("AT", "local", 40, "1.90"),
    _Offer("PL", "local", 40, "1.40", vary=7),
    _Offer("AU", "local", 80, "3.00", vary=8),
    _Offer("AU", "mobile", 60, "4.50", capabilities="voice,sms,mms"),
    _Offer("AU", "toll_free", 30, "5.00"),
    _Offer("NZ", "local", 40, "2.50", vary=6),
    _Offer("JP", "local", 60, "4.00", setup_fee="5.00", needs_provisioning=True),
    _Offer("JP", "toll_free", 30, "6.00", setup_fee="10.00"),
    _Offer("SG", "local", 40, "5.00"),
    _Offer("IN", "local", 80, "2.50", setup_fee="10.00", needs_provisioning=True, vary=8),
    _Offer("IN", "mobile", 40, "3.00", capabilities="voice,sms", needs_provisioning=True),
    _Offer("BR", "local", 60, "2.00", needs_provisioning=True, vary=8),
    _Offer("BR", "mobile", 40, "3.50", capabilities="voice,sms"),
    _Offer("MX", "local", 60, "2.00", vary=9),
    _Offer("ZA", "local", 40, "2.00", vary=8),
    _Offer("ZA", "mobile", 30, "3.50", capabilities="voice,sms"),
)

# What the demo account owns: (country, type, status, days since purchase, days since release).
# A pending number comes from an offer that needs provisioning, as a purchase would make it.
_OWNED = (
    ("US", "local", "active", 200, None),
    ("US", "local", "active", 45, None),
    ("US", "toll_free", "active", 120, None),
    ("GB", "local", "active", 30, None),
    ("GB", "mobile", "active", 10, None),
    ("DE", "local", "pending", 1, None),
    ("IN", "local", "pending", 2, None),
    ("FR", "mobile", "suspended", 95, None),
    ("AU", "local", "suspended", 60, None),
    ("US", "local", "released", 150, 5),
    ("CA", "local", "released", 40, 20),
)
# fmt: on


@dataclass(frozen=True, slots=True)
class DemoInfo:
    """What ``vox serve`` prints about the demo: whose key, which key, what was made."""

    account_id: str
    key: str
    created: bool  # made now (False: found from an earlier start)
    numbers_for_sale: int = 0
    countries: int = 0
    numbers_owned: int = 0


async def ensure_demo(
    database: Database, state_file: Path, *, cooling_off_days: int | None = None
) -> DemoInfo | None:
    """The demo account and a working key for it, creating the demo data on an empty
    database (no accounts, no inventory). A database with data but no demo account is
    somebody's real one: ``None``, and nothing is touched.

    The key is saved in ``state_file`` (JSON, mode 0600) so that a restart shows the same
    key; a saved key that no longer authenticates is replaced (the demo account's other test
    keys are revoked). Running this any number of times never duplicates anything.
    """
    days = Settings().cooling_off_days if cooling_off_days is None else cooling_off_days
    cooling_off = timedelta(days=days)
    saved = _read_state(state_file)
    # A write transaction on SQLite is exclusive: two servers starting at once cannot both
    # find the database empty.
    async with database.transaction() as conn:
        demo = await accounts.find_account_by_name(conn, DEMO_ACCOUNT_NAME)
        if demo is not None:
            info = await _reuse_demo(conn, demo.id, saved)
        elif await _is_empty(conn):
            info = await _create_demo(conn, cooling_off)
        else:
            return None
    if saved != {"account_id": info.account_id, "key": info.key}:
        _write_state(state_file, info)
    return info


def print_demo_banner(info: DemoInfo, settings: Settings) -> None:
    """The demo account, its key and a curl command to paste (printed unwrapped)."""
    if info.created:
        out.print(
            f"[bold green]Demo data created:[/] {info.numbers_for_sale:,} numbers for sale "
            f"live in {info.countries} countries; the demo account's test world owns "
            f"{info.numbers_owned} numbers (active, pending, suspended and released). The key "
            "below is a test key: it sees the test world and its generated inventory.",
            highlight=False,
        )
    else:
        out.print("[bold green]Demo account ready.[/]", highlight=False)
    out.print(f"  account  {info.account_id}", markup=False, highlight=False, soft_wrap=True)
    out.print(f"  API key  {info.key}", markup=False, highlight=False, soft_wrap=True)
    out.print("For the README's examples and the vox commands:", highlight=False)
    out.print(
        f"export VOX_ACCOUNT_ID={info.account_id} VOX_API_KEY={info.key} "
        f"VOX_BASE_URL={demo_base_url(settings)}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    out.print("List the demo account's numbers:", highlight=False)
    url = f"{demo_base_url(settings)}/v1/account/{info.account_id}/numbers"
    curl = f'curl -s -H "Authorization: Bearer {info.key}" {url}'
    out.print(curl, markup=False, highlight=False, soft_wrap=True)


def demo_base_url(settings: Settings) -> str:
    """Where a local client reaches the server: the public URL when set, else host:port
    (a wildcard listen address is reached through the loopback address)."""
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/")
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(  # noqa: S104
        settings.host, settings.host
    )
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


async def _is_empty(conn: AsyncConnection) -> bool:
    return not await accounts.any_account(conn) and not await inventory.any_for_sale(conn)


async def _reuse_demo(conn: AsyncConnection, account_id: str, saved: dict[str, str]) -> DemoInfo:
    """The saved key when it still works for the demo account; else a new one."""
    if saved.get("account_id") == account_id and saved.get("key"):
        try:
            caller = await accounts.authenticate(conn, f"Bearer {saved['key']}")
        except Unauthorized:
            caller = None
        if caller is not None and caller.public_account_id == account_id:
            return DemoInfo(account_id=account_id, key=saved["key"], created=False)
    for key in await accounts.list_keys(conn, account_id):
        if key.mode == "test" and key.revoked_at is None:
            await accounts.revoke_key(conn, key.id)
    issued = await accounts.issue_key(conn, account_id, test=True)
    return DemoInfo(account_id=account_id, key=issued.secret, created=False)


async def _create_demo(conn: AsyncConnection, cooling_off: timedelta) -> DemoInfo:
    now = utc_now()
    catalogue = demo_catalogue(now)
    account = await accounts.create_account(conn, DEMO_ACCOUNT_NAME)
    # The demo's numbers are the test world's: its printed key is a test key.
    owned = _owned_rows(world_of(account.id, live=False), catalogue, now, cooling_off)
    taken = {row["e164"] for row in owned}
    for_sale = [
        entry for entries in catalogue.values() for entry in entries if entry.e164 not in taken
    ]
    await inventory.add_to_inventory(conn, for_sale)
    await numbers.seed_owned_numbers(conn, owned)
    issued = await accounts.issue_key(conn, account.id, test=True)
    return DemoInfo(
        account_id=account.id,
        key=issued.secret,
        created=True,
        numbers_for_sale=len(for_sale),
        countries=len({entry.country for entry in for_sale}),
        numbers_owned=len(owned),
    )


def demo_catalogue(added_at: datetime) -> dict[tuple[str, str], list[InventoryEntry]]:
    """Every demo number, by (country, type), in the order generated (always the same)."""
    seen: set[str] = set()
    return {(offer.country, offer.type): _generate(offer, added_at, seen) for offer in _CATALOGUE}


def _generate(offer: _Offer, added_at: datetime, seen: set[str]) -> list[InventoryEntry]:
    example = phonenumbers.example_number_for_type(offer.country, _PLAN_TYPES[offer.type])
    if example is None:
        raise RuntimeError(f"phonenumbers has no {offer.type} example for {offer.country}")
    code, national = str(example.country_code), phonenumbers.national_significant_number(example)
    fixed = national[: max(len(national) - offer.vary, 1)]
    random_digits = random.Random(f"{offer.country}/{offer.type}")  # same numbers every time
    entries: list[InventoryEntry] = []
    for _ in range(offer.count * 50):  # ample: most offers need ~1.2 draws per number
        tail = "".join(random_digits.choices("0123456789", k=len(national) - len(fixed)))
        try:
            e164 = normalize_e164(f"+{code}{fixed}{tail}")
        except InvalidNumber:
            continue
        facts = number_facts(e164)
        if e164 in seen or facts.country != offer.country or facts.type != offer.type:
            continue
        seen.add(e164)
        entries.append(
            InventoryEntry(
                e164=e164,
                country=facts.country,
                type=offer.type,
                region=facts.region,
                capabilities=to_mask(offer.capabilities.split(",")),
                monthly_fee_cents=parse_cents(offer.monthly_fee),
                setup_fee_cents=parse_cents(offer.setup_fee),
                needs_provisioning=offer.needs_provisioning,
                added_at=added_at,
            )
        )
        if len(entries) == offer.count:
            return entries
    raise RuntimeError(f"could not generate {offer.count} {offer.type} numbers in {offer.country}")


def _owned_rows(
    account_id: str,
    catalogue: dict[tuple[str, str], list[InventoryEntry]],
    now: datetime,
    cooling_off: timedelta,
) -> list[dict[str, Any]]:
    """Full ``numbers`` rows for the demo account, one status each as listed in ``_OWNED``
    (taken from the end of each offer, so what stays for sale starts the same way)."""
    used: dict[tuple[str, str], int] = {}
    rows = []
    for country, kind, status, bought_days_ago, released_days_ago in _OWNED:
        used[country, kind] = used.get((country, kind), 0) + 1
        entry = catalogue[country, kind][-used[country, kind]]
        bought = now - timedelta(days=bought_days_ago)
        released = now - timedelta(days=released_days_ago) if released_days_ago else None
        rows.append(
            numbers.owned_row(
                account_id,
                entry,
                status=status,
                created_at=bought,
                updated_at=released or bought,
                released_at=released,
                available_after=released + cooling_off if released else None,
            )
        )
    return rows


def _read_state(state_file: Path) -> dict[str, str]:
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(state, dict):
        return {}
    return {name: value for name, value in state.items() if isinstance(value, str)}


def _write_state(state_file: Path, info: DemoInfo) -> None:
    """Save the key where only this user can read it (written aside, then renamed in)."""
    state = {"account_id": info.account_id, "key": info.key}
    partial = state_file.with_name(state_file.name + ".tmp")
    try:
        state_file.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(state, handle)
        os.chmod(partial, 0o600)  # in case it existed with wider permissions
        os.replace(partial, state_file)
    except OSError as exc:
        err.print(
            f"[yellow]warning:[/] could not save the demo key in {escape(str(state_file))} "
            f"({escape(str(exc))}); "
            "a new key will be issued at the next start",
            highlight=False,
        )
