"""Benchmark data: millions of owned numbers and an inventory, loaded in minutes.

    python -m bench.generate --db sqlite --db postgresql --numbers 2000000

At ``--numbers N``: one account ("bench-big") owns N/2 numbers, up to 1,000 small accounts
share the other half (1,000 each at N = 2,000,000), one "bench-buyer" account owns none
(the purchase scenario buys into it), N/4 numbers are for sale, and a CSV of N/2 more
numbers (in no database) is written for the import scenario.

Numbers are valid E.164 without calling phonenumbers per number: a few thousand "blocks"
(a valid prefix whose last 3 or 4 digits are free, checked with phonenumbers once) are
found per country and type, and numbers vary the free digits. A random sample of the
result is then checked with ``phonenumbers.is_valid_number``; the run fails unless every
number of the sample is valid and of its block's country and type.

The database is migrated with the project's own migrations, then loaded with COPY
(PostgreSQL, asyncpg) or large ``executemany`` transactions (SQLite), secondary indexes
dropped during the load and rebuilt after. ``number_counts`` is computed while the rows are
generated, ``number_totals`` summed from it, and both checked against a ``GROUP BY`` of
``numbers`` afterwards. API keys of the big
account, one small account and the buyer go to ``bench/.state.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import csv
import itertools
import random
import shutil
import sqlite3
import string
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import phonenumbers
from alembic.script import ScriptDirectory
from phonenumbers import PhoneNumberType

from bench.common import OUT, POSTGRES_ADMIN_URL, Target, save_state, target
from voxnumbers.accounts import service as accounts_service
from voxnumbers.db.engine import Database
from voxnumbers.kit.e164 import number_facts
from voxnumbers.kit.worlds import world_of
from voxnumbers.migrations import alembic_config, upgrade_to_head
from voxnumbers.vocabulary import to_list

# ~20 countries, US heavy (weights need not sum to 1).
COUNTRY_WEIGHTS = {
    "US": 40.0,
    "GB": 8.0,
    "CA": 6.0,
    "DE": 5.0,
    "FR": 4.0,
    "IN": 4.0,
    "AU": 3.0,
    "BR": 3.0,
    "MX": 3.0,
    "ES": 3.0,
    "IT": 2.5,
    "NL": 2.5,
    "JP": 2.0,
    "SE": 2.0,
    "PL": 2.0,
    "IE": 2.0,
    "BE": 1.5,
    "CH": 1.5,
    "SG": 1.5,
    "ZA": 1.5,
    "NZ": 1.0,
}
# Where a country's plan cannot tell a type apart (US mobiles are "fixed line or mobile"),
# its share goes to "local".
TYPE_WEIGHTS = {"mobile": 0.20, "toll_free": 0.10, "local": 0.70}
_PLAN_TYPES = {
    "local": PhoneNumberType.FIXED_LINE,
    "mobile": PhoneNumberType.MOBILE,
    "toll_free": PhoneNumberType.TOLL_FREE,
}
STATUS_WEIGHTS = {"active": 0.94, "pending": 0.03, "suspended": 0.02, "released": 0.01}
ROUTED_SHARE = 0.5
YEARS_OF_HISTORY = 3
COOLING_OFF_DAYS = 30  # the service's default ``VOX_COOLING_OFF_DAYS``
BLOCK_DENSITY = 0.5  # share of a block's numbers in use (sold or for sale)
SAMPLE_SIZE = 20_000  # numbers checked with phonenumbers after generation
DAY = 86_400

# fees in cents by type: (monthly, setup)
FEES = {"local": (115, 0), "mobile": (200, 100), "toll_free": (300, 0)}

NUMBER_COLUMNS = (
    "e164",
    "account_id",
    "country",
    "type",
    "region",
    "capabilities",
    "monthly_fee_cents",
    "setup_fee_cents",
    "needs_provisioning",
    "status",
    "trunk_id",
    "application_id",
    "created_at",
    "updated_at",
    "released_at",
    "available_after",
    "previous_trunk_id",
    "previous_application_id",
)
INVENTORY_COLUMNS = (
    "e164",
    "country",
    "type",
    "region",
    "capabilities",
    "monthly_fee_cents",
    "setup_fee_cents",
    "needs_provisioning",
    "added_at",
)
ACCOUNT_COLUMNS = ("id", "name", "status", "created_at", "live_account_id")
TRUNK_COLUMNS = (
    "id",
    "account_id",
    "name",
    "auth_type",
    "termination_uri",
    "origination_uris",
    "max_channels",
    "status",
    "created_at",
    "updated_at",
)
APPLICATION_COLUMNS = (
    "id",
    "account_id",
    "name",
    "answer_url",
    "answer_method",
    "hangup_url",
    "hangup_method",
    "fallback_url",
    "webhook_secret",
    "created_at",
    "updated_at",
)
IMPORT_CSV_COLUMNS = (
    "e164",
    "country",
    "type",
    "region",
    "capabilities",
    "monthly_fee",
    "setup_fee",
    "needs_provisioning",
)
# ``number_counts`` columns this generator knows how to fill (the key is the rest).
_COUNT_KEY_COLUMNS = ("account_id", "country", "status", "month")
_ID_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True, slots=True)
class Block:
    """A run of numbers sharing every digit but the last ``free`` ones, all valid."""

    prefix: str  # E.164 without its last ``free`` digits
    free: int
    country: str
    type: str
    region: str
    capabilities: int
    monthly_fee_cents: int
    setup_fee_cents: int

    def e164(self, suffix: int) -> str:
        return self.prefix + str(suffix).zfill(self.free)


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    size: int
    created_at: int
    trunk_ids: tuple[str, ...]
    application_ids: tuple[str, ...]


@dataclass(slots=True)
class Sizes:
    """How much of everything a data set of ``numbers`` owned numbers has."""

    numbers: int
    big: int = 0
    small_accounts: int = 0
    inventory: int = 0
    import_rows: int = 0

    def __post_init__(self) -> None:
        self.big = self.numbers // 2
        self.small_accounts = max(2, min(1000, (self.numbers - self.big) // 1000))
        self.inventory = self.numbers // 4
        self.import_rows = self.numbers // 2

    @property
    def pool(self) -> int:
        return self.numbers + self.inventory + self.import_rows


@dataclass
class Dataset:
    """Everything to load, generated once and deterministic for a seed."""

    sizes: Sizes
    seed: int
    now: int
    blocks: list[Block]
    pool: list[int]  # block index * 10_000 + suffix, shuffled; owned, then inventory, then CSV
    accounts: list[Account]  # big first, then the small ones, then the buyer
    counts: dict[tuple[Any, ...], int] = field(default_factory=dict)
    invalid_in_sample: int = -1
    sample_size: int = 0

    @property
    def big(self) -> Account:
        return self.accounts[0]

    @property
    def small(self) -> Account:
        return self.accounts[1]

    @property
    def buyer(self) -> Account:
        return self.accounts[-1]

    def number(self, code: int) -> tuple[str, Block]:
        index, suffix = divmod(code, 10_000)
        block = self.blocks[index]
        return block.e164(suffix), block

    # -- rows ---------------------------------------------------------------------------

    def account_rows(self, ts: Callable[[int], Any]) -> Iterator[tuple[Any, ...]]:
        for account in self.accounts:
            # The live row, then its (empty) test world's, as ``create_account`` makes them.
            yield (account.id, account.name, "active", ts(account.created_at), None)
            test_world = world_of(account.id, live=False)
            yield (test_world, account.name, "active", ts(account.created_at), account.id)

    def trunk_rows(self, ts: Callable[[int], Any], json_list: Any) -> Iterator[tuple[Any, ...]]:
        for account in self.accounts:
            for n, trunk_id in enumerate(account.trunk_ids):
                created = ts(account.created_at + DAY * (n + 1))
                uri = f"sip:pbx{n}.{account.name}.example.com"
                yield (
                    trunk_id,
                    account.id,
                    f"trunk {n}",
                    "ip",
                    uri,
                    json_list,
                    0,
                    "active",
                    created,
                    created,
                )

    def application_rows(self, ts: Callable[[int], Any]) -> Iterator[tuple[Any, ...]]:
        for account in self.accounts:
            for n, app_id in enumerate(account.application_ids):
                created = ts(account.created_at + DAY * (n + 1))
                url = f"https://{account.name}.example.com/voice/{n}"
                yield (
                    app_id,
                    account.id,
                    f"app {n}",
                    url,
                    "POST",
                    None,
                    "POST",
                    None,
                    None,
                    created,
                    created,
                )

    def owned_rows(self, ts: Callable[[int], Any], with_month: bool) -> Iterator[tuple[Any, ...]]:
        """The owned numbers in purchase order (as a table filled over three years is laid
        out), accounts interleaved; counts them into ``self.counts`` as it goes."""
        rng = random.Random(f"{self.seed}-owned")
        sizes = self.sizes
        owners = list(
            itertools.chain.from_iterable(
                itertools.repeat(i, account.size) for i, account in enumerate(self.accounts)
            )
        )
        rng.shuffle(owners)
        start = self.now - YEARS_OF_HISTORY * 365 * DAY
        created = sorted(rng.randrange(start, self.now - DAY) for _ in range(sizes.numbers))
        statuses = list(STATUS_WEIGHTS)
        status_cum = list(itertools.accumulate(STATUS_WEIGHTS.values()))
        counts: dict[tuple[Any, ...], int] = {}
        month_of = _MonthCursor()
        for i in range(sizes.numbers):
            e164, block = self.number(self.pool[i])
            account = self.accounts[owners[i]]
            created_at = created[i]
            status = statuses[
                min(bisect.bisect(status_cum, rng.random() * status_cum[-1]), len(statuses) - 1)
            ]
            trunk_id = application_id = previous_trunk = previous_app = None
            released_at = available_after = None
            if rng.random() < ROUTED_SHARE:
                if rng.random() < 0.5:
                    trunk_id = rng.choice(account.trunk_ids)
                else:
                    application_id = rng.choice(account.application_ids)
            if status == "released":
                previous_trunk, previous_app = trunk_id, application_id
                trunk_id = application_id = None
                released_at = max(created_at, self.now - rng.randrange(DAY, 29 * DAY))
                available_after = released_at + COOLING_OFF_DAYS * DAY
                updated_at = released_at
            elif rng.random() < 0.5:
                updated_at = created_at
            else:
                updated_at = created_at + rng.randrange(max(1, self.now - created_at))
            key: tuple[Any, ...] = (account.id, block.country, status)
            if with_month:
                key = (*key, month_of(created_at))
            counts[key] = counts.get(key, 0) + 1
            yield (
                e164,
                account.id,
                block.country,
                block.type,
                block.region,
                block.capabilities,
                block.monthly_fee_cents,
                block.setup_fee_cents,
                status == "pending",
                status,
                trunk_id,
                application_id,
                ts(created_at),
                ts(updated_at),
                None if released_at is None else ts(released_at),
                None if available_after is None else ts(available_after),
                previous_trunk,
                previous_app,
            )
        self.counts = counts

    def inventory_rows(self, ts: Callable[[int], Any]) -> Iterator[tuple[Any, ...]]:
        rng = random.Random(f"{self.seed}-inventory")
        first = self.sizes.numbers
        for code in self.pool[first : first + self.sizes.inventory]:
            e164, block = self.number(code)
            added = ts(self.now - rng.randrange(DAY, YEARS_OF_HISTORY * 365 * DAY))
            yield (
                e164,
                block.country,
                block.type,
                block.region,
                block.capabilities,
                block.monthly_fee_cents,
                block.setup_fee_cents,
                rng.random() < 0.05,
                added,
            )

    def import_rows(self) -> Iterator[list[str]]:
        rng = random.Random(f"{self.seed}-import")
        first = self.sizes.numbers + self.sizes.inventory
        for code in self.pool[first : first + self.sizes.import_rows]:
            e164, block = self.number(code)
            yield [
                e164,
                block.country,
                block.type,
                block.region,
                "|".join(to_list(block.capabilities)),
                _money(block.monthly_fee_cents),
                _money(block.setup_fee_cents),
                "true" if rng.random() < 0.05 else "false",
            ]


class _MonthCursor:
    """``yyyymm`` of ascending Unix times, without a date conversion per call."""

    def __init__(self) -> None:
        self.month = 0
        self.start = 0
        self.end = -1

    def __call__(self, ts: int) -> int:
        if not self.start <= ts < self.end:
            day = datetime.fromtimestamp(ts, UTC)
            self.month = day.year * 100 + day.month
            first = day.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            following = first.replace(
                year=first.year + first.month // 12, month=first.month % 12 + 1
            )
            self.start, self.end = int(first.timestamp()), int(following.timestamp())
        return self.month


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _ts_datetime(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _ts_int(ts: int) -> int:
    return ts


def _random_id(rng: random.Random, prefix: str) -> str:
    return f"{prefix}_{''.join(rng.choices(_ID_ALPHABET, k=16))}"


# -- numbering plan ---------------------------------------------------------------------


def _plan_shares(sizes: Sizes) -> dict[tuple[str, str], int]:
    """How many numbers of each (country, type) the pool holds."""
    total_weight = sum(COUNTRY_WEIGHTS.values())
    shares: dict[tuple[str, str], int] = {}
    for country, weight in COUNTRY_WEIGHTS.items():
        in_country = round(sizes.pool * weight / total_weight)
        for kind, kind_weight in TYPE_WEIGHTS.items():
            shares[country, kind] = round(in_country * kind_weight)
    # rounding: the difference goes to US local
    shares["US", "local"] += sizes.pool - sum(shares.values())
    return shares


def _block_is_valid(
    prefix: str, free: int, country: str, kind: str, rng: random.Random
) -> str | None:
    """The block's region when every number of a sample of it is valid, canonical and of this
    country and type (and in one region); ``None`` otherwise."""
    region = None
    suffixes = [
        "0" * free,
        "9" * free,
        *(str(rng.randrange(10**free)).zfill(free) for _ in range(3)),
    ]
    for suffix in suffixes:
        e164 = prefix + suffix
        try:
            parsed = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_valid_number(parsed):
            return None
        if phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) != e164:
            return None
        facts = number_facts(e164)
        if facts.country != country or facts.type != kind:
            return None
        if region is None:
            region = facts.region
        elif facts.region != region:
            return None
    return region


def _find_blocks(
    country: str, kind: str, need: int, rng: random.Random, taken: set[str]
) -> list[Block]:
    """Distinct valid blocks with room for ``need`` numbers at ``BLOCK_DENSITY`` (fewer if
    the plan has too few), varying the digits of the plan's example number."""
    example = phonenumbers.example_number_for_type(country, _PLAN_TYPES[kind])
    if example is None:
        return []
    nsn = phonenumbers.national_significant_number(example)
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    country_code = e164[: len(e164) - len(nsn)]
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(country)
    described = getattr(metadata, {"local": "fixed_line"}.get(kind, kind))
    lengths = [n for n in described.possible_length if 8 <= n <= 10] or [len(nsn)]
    monthly, setup = FEES[kind]
    mask = {"local": 7 if country in ("US", "CA") else 3, "mobile": 3, "toll_free": 1}[kind]
    blocks: list[Block] = []
    room = 0
    for _ in range(300 + need // 10):
        if room >= need:
            break
        length = rng.choice(lengths)
        free = 4 if length >= 8 else 3
        head = (nsn + "".join(rng.choices(string.digits, k=length)))[: length - free]
        keep = rng.randrange(len(head))
        prefix = country_code + head[:keep]
        prefix += "".join(rng.choices(string.digits, k=len(head) - keep))
        if prefix in taken:
            continue
        region = _block_is_valid(prefix, free, country, kind, rng)
        if region is None:
            continue
        taken.add(prefix)
        blocks.append(Block(prefix, free, country, kind, region, mask, monthly, setup))
        room += int(10**free * BLOCK_DENSITY)
    return blocks


def build_dataset(numbers: int, seed: int) -> Dataset:
    """Blocks, the shuffled pool of numbers and the accounts for ``numbers`` owned numbers."""
    sizes = Sizes(numbers)
    rng = random.Random(seed)
    started = time.perf_counter()
    blocks: list[Block] = []
    pool: list[int] = []
    taken: set[str] = set()
    shares = _plan_shares(sizes)
    for country in COUNTRY_WEIGHTS:
        carried = 0
        for kind in TYPE_WEIGHTS:  # local last: it takes what the others could not
            need = shares[country, kind] + carried
            carried = 0
            if need == 0:
                continue
            found = _find_blocks(country, kind, need, rng, taken)
            room = sum(int(10**b.free * 0.9) for b in found)
            if room < need:
                if kind == "local":
                    raise SystemExit(f"not enough valid {country} numbers found ({room} < {need})")
                carried = need - room
                need = room
            if need == 0:
                continue
            per_block, extra = divmod(need, len(found))
            for n, block in enumerate(found):
                use = per_block + (1 if n < extra else 0)
                index = len(blocks)
                blocks.append(block)
                pool.extend(index * 10_000 + s for s in rng.sample(range(10**block.free), use))
    rng.shuffle(pool)
    now = int(time.time())
    accounts = _accounts(sizes, rng, now)
    dataset = Dataset(sizes=sizes, seed=seed, now=now, blocks=blocks, pool=pool, accounts=accounts)
    _check_sample(dataset, rng)
    print(
        f"generated {len(pool):,} distinct numbers in {len(blocks):,} blocks of "
        f"{len(COUNTRY_WEIGHTS)} countries in {time.perf_counter() - started:.1f} s; "
        f"sample of {dataset.sample_size:,} checked with phonenumbers: "
        f"{dataset.invalid_in_sample} invalid "
        f"({dataset.invalid_in_sample / dataset.sample_size:.2%})"
    )
    if dataset.invalid_in_sample:
        raise SystemExit("invalid numbers generated: refusing to load them")
    return dataset


def _accounts(sizes: Sizes, rng: random.Random, now: int) -> list[Account]:
    small_total = sizes.numbers - sizes.big
    per_small, extra = divmod(small_total, sizes.small_accounts)
    plan = [("bench-big", sizes.big, 20)]
    plan += [
        (f"bench-small-{n:04d}", per_small + (1 if n < extra else 0), 2)
        for n in range(sizes.small_accounts)
    ]
    plan.append(("bench-buyer", 0, 1))
    opened = now - (YEARS_OF_HISTORY * 365 + 30) * DAY
    return [
        Account(
            id=_random_id(rng, "acc"),
            name=name,
            size=size,
            created_at=opened,
            trunk_ids=tuple(_random_id(rng, "trunk") for _ in range(routes)),
            application_ids=tuple(_random_id(rng, "app") for _ in range(routes)),
        )
        for name, size, routes in plan
    ]


def _check_sample(dataset: Dataset, rng: random.Random) -> None:
    """Every number of a random sample must be valid, canonical, and of its block's country
    and type (asked of phonenumbers the way the service asks it)."""
    sample = rng.sample(dataset.pool, min(SAMPLE_SIZE, len(dataset.pool)))
    invalid = 0
    for n, code in enumerate(sample):
        e164, block = dataset.number(code)
        parsed = phonenumbers.parse(e164, None)
        ok = phonenumbers.is_valid_number(parsed) and (
            phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == e164
        )
        if ok and n % 10 == 0:  # the full facts (geocoder too) for a tenth of them
            facts = number_facts(e164)
            ok = (facts.country, facts.type) == (block.country, block.type)
        invalid += not ok
    dataset.invalid_in_sample = invalid
    dataset.sample_size = len(sample)


def write_import_csv(dataset: Dataset) -> str:
    """The CSV of numbers in no database, for ``vox admin inventory import`` (rewritten with
    every generation, so that it always matches the databases)."""
    path = OUT / f"import-{dataset.sizes.numbers}.csv"
    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(IMPORT_CSV_COLUMNS)
        writer.writerows(dataset.import_rows())
    partial.rename(path)
    print(
        f"wrote {path.name} ({dataset.sizes.import_rows:,} rows) in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return str(path.relative_to(OUT.parent.parent))


# -- loading ----------------------------------------------------------------------------


async def _migrate(db_target: Target) -> None:
    database = Database(db_target.async_url)
    try:
        await upgrade_to_head(database)
    finally:
        await database.dispose()


def _count_columns(columns: list[str]) -> bool:
    """Whether ``number_counts`` has a month column (refuses columns it does not know)."""
    unknown = set(columns) - {*_COUNT_KEY_COLUMNS, "slot", "total"}
    if unknown:
        raise SystemExit(
            f"number_counts has columns this generator cannot fill: {sorted(unknown)}; "
            "teach bench/generate.py what they hold"
        )
    return "month" in columns


def _count_rows(dataset: Dataset, columns: list[str]) -> Iterator[tuple[Any, ...]]:
    """``dataset.counts`` as rows of ``number_counts`` in its column order."""
    key_columns = [c for c in _COUNT_KEY_COLUMNS if c in columns]
    for key, total in sorted(dataset.counts.items()):
        values = dict(zip(key_columns, key, strict=True), slot=0, total=total)
        yield tuple(values[c] for c in columns)


_MONTH_SQL = {
    "sqlite": "CAST(strftime('%Y%m', created_at, 'unixepoch') AS INTEGER)",
    "postgresql": "CAST(to_char(created_at AT TIME ZONE 'UTC', 'YYYYMM') AS INTEGER)",
}


def _recount_sql(kind: str, with_month: bool) -> tuple[str, str]:
    """(stored counts, counts by GROUP BY over ``numbers``), same columns in the same order."""
    key = "account_id, country, status" + (", month" if with_month else "")
    grouped = "account_id, country, status" + (f", {_MONTH_SQL[kind]}" if with_month else "")
    return (
        f"SELECT {key}, total FROM number_counts",
        f"SELECT {grouped}, COUNT(*) FROM numbers GROUP BY {grouped}",
    )


# ``number_totals`` (account, country, status) is the sum of ``number_counts`` over months.
_FILL_TOTALS_SQL = (
    "INSERT INTO number_totals (account_id, country, status, total) "
    "SELECT account_id, country, status, SUM(total) FROM number_counts "
    "GROUP BY account_id, country, status"
)
_TOTALS_SQL = (
    "SELECT account_id, country, status, total FROM number_totals",
    "SELECT account_id, country, status, COUNT(*) FROM numbers "
    "GROUP BY account_id, country, status",
)


def _compare_totals(stored: list[Any], grouped: list[Any]) -> None:
    as_stored = {tuple(row)[:-1]: row[-1] for row in stored}
    if as_stored != {tuple(row)[:-1]: row[-1] for row in grouped}:
        raise SystemExit("number_totals does not match a GROUP BY of numbers")
    print(f"  number_totals: {len(as_stored):,} rows, equal to GROUP BY over numbers ✓")


def _compare_counts(dataset: Dataset, stored: list[Any], grouped: list[Any]) -> None:
    as_stored = {tuple(row)[:-1]: row[-1] for row in stored}
    as_grouped = {tuple(row)[:-1]: row[-1] for row in grouped}
    if not (as_stored == as_grouped == dataset.counts):
        raise SystemExit("number_counts does not match a GROUP BY of numbers")
    print(f"  number_counts: {len(as_stored):,} rows, equal to GROUP BY over numbers ✓")


async def load_postgresql(
    dataset: Dataset, db_target: Target, *, keep_indexes: bool, keep_foreign_keys: bool
) -> float:
    """(Re)create the database, migrate it, COPY everything in; returns the seconds taken."""
    started = time.perf_counter()
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        name = db_target.database_name
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    await _migrate(db_target)
    conn = await asyncpg.connect(db_target.url)
    try:
        await conn.execute("SET maintenance_work_mem = '512MB'")
        count_columns = [
            r["column_name"]
            for r in await conn.fetch(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'number_counts' ORDER BY ordinal_position"
            )
        ]
        with_month = _count_columns(count_columns)
        tables = ["numbers", "inventory_numbers"]
        indexes = (
            []
            if keep_indexes
            else await conn.fetch(
                "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = 'public' "
                "AND tablename = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conindid = (quote_ident(i.indexname))::regclass)",
                tables,
            )
        )
        foreign_keys = (
            []
            if keep_foreign_keys
            else await conn.fetch(
                "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint "
                "WHERE conrelid = 'numbers'::regclass AND contype = 'f'"
            )
        )
        for index in indexes:
            await conn.execute(f'DROP INDEX "{index["indexname"]}"')
        for fk in foreign_keys:
            await conn.execute(f'ALTER TABLE numbers DROP CONSTRAINT "{fk["conname"]}"')
        ts = _ts_datetime
        step = time.perf_counter()
        await conn.copy_records_to_table(
            "accounts", records=dataset.account_rows(ts), columns=list(ACCOUNT_COLUMNS)
        )
        await conn.copy_records_to_table(
            "trunks",
            records=dataset.trunk_rows(ts, "[]"),
            columns=list(TRUNK_COLUMNS),
        )
        await conn.copy_records_to_table(
            "applications", records=dataset.application_rows(ts), columns=list(APPLICATION_COLUMNS)
        )
        await conn.copy_records_to_table(
            "numbers", records=dataset.owned_rows(ts, with_month), columns=list(NUMBER_COLUMNS)
        )
        print(f"  numbers copied in {time.perf_counter() - step:.1f} s")
        step = time.perf_counter()
        await conn.copy_records_to_table(
            "inventory_numbers", records=dataset.inventory_rows(ts), columns=list(INVENTORY_COLUMNS)
        )
        await conn.copy_records_to_table(
            "number_counts", records=_count_rows(dataset, count_columns), columns=count_columns
        )
        await conn.execute(_FILL_TOTALS_SQL)
        print(f"  inventory and counts copied in {time.perf_counter() - step:.1f} s")
        step = time.perf_counter()
        for index in indexes:
            await conn.execute(index["indexdef"])
        for fk in foreign_keys:
            await conn.execute(
                f'ALTER TABLE numbers ADD CONSTRAINT "{fk["conname"]}" {fk["definition"]}'
            )
        print(
            f"  {len(indexes)} indexes and {len(foreign_keys)} foreign keys rebuilt in "
            f"{time.perf_counter() - step:.1f} s"
        )
        step = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE)")
        print(f"  VACUUM ANALYZE in {time.perf_counter() - step:.1f} s")
        seconds = time.perf_counter() - started
        stored_sql, grouped_sql = _recount_sql("postgresql", with_month)
        _compare_counts(dataset, await conn.fetch(stored_sql), await conn.fetch(grouped_sql))
        _compare_totals(*[await conn.fetch(sql) for sql in _TOTALS_SQL])
        _check_totals(dataset, [await conn.fetchval(f"SELECT count(*) FROM {t}") for t in tables])
    finally:
        await conn.close()
    return seconds


def _check_totals(dataset: Dataset, totals: list[int]) -> None:
    wanted = [dataset.sizes.numbers, dataset.sizes.inventory]
    if totals != wanted:
        raise SystemExit(f"loaded {totals} rows (numbers, inventory), expected {wanted}")
    print(f"  rows: {totals[0]:,} numbers, {totals[1]:,} in inventory ✓")


def load_sqlite(
    dataset: Dataset, db_target: Target, *, keep_indexes: bool, keep_foreign_keys: bool
) -> float:
    """(Re)create the file, migrate it, insert everything in large transactions."""
    started = time.perf_counter()
    path = db_target.sqlite_path
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    asyncio.run(_migrate(db_target))
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in (
            "journal_mode=WAL",
            "synchronous=OFF",
            "cache_size=-262144",
            "temp_store=MEMORY",
            f"foreign_keys={'ON' if keep_foreign_keys else 'OFF'}",
        ):
            conn.execute(f"PRAGMA {pragma}")
        count_columns = [r[1] for r in conn.execute("PRAGMA table_info(number_counts)")]
        with_month = _count_columns(count_columns)
        tables = ("numbers", "inventory_numbers")
        indexes = (
            []
            if keep_indexes
            else conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN {tables}"
            ).fetchall()
        )
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        ts = _ts_int
        step = time.perf_counter()
        _insert(conn, "accounts", ACCOUNT_COLUMNS, dataset.account_rows(ts))
        _insert(conn, "trunks", TRUNK_COLUMNS, dataset.trunk_rows(ts, "[]"))
        _insert(conn, "applications", APPLICATION_COLUMNS, dataset.application_rows(ts))
        _insert(conn, "numbers", NUMBER_COLUMNS, dataset.owned_rows(ts, with_month))
        print(f"  numbers inserted in {time.perf_counter() - step:.1f} s")
        step = time.perf_counter()
        _insert(conn, "inventory_numbers", INVENTORY_COLUMNS, dataset.inventory_rows(ts))
        _insert(conn, "number_counts", tuple(count_columns), _count_rows(dataset, count_columns))
        conn.execute(_FILL_TOTALS_SQL)
        print(f"  inventory and counts inserted in {time.perf_counter() - step:.1f} s")
        step = time.perf_counter()
        for _, sql in indexes:
            conn.execute(sql)
        print(f"  {len(indexes)} indexes rebuilt in {time.perf_counter() - step:.1f} s")
        step = time.perf_counter()
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        print(f"  ANALYZE and checkpoint in {time.perf_counter() - step:.1f} s")
        seconds = time.perf_counter() - started
        if not keep_foreign_keys:
            broken = conn.execute("PRAGMA foreign_key_check").fetchmany(5)
            if broken:
                raise SystemExit(f"foreign keys broken by the load: {broken}")
            print("  foreign keys checked ✓")
        stored_sql, grouped_sql = _recount_sql("sqlite", with_month)
        _compare_counts(
            dataset, conn.execute(stored_sql).fetchall(), conn.execute(grouped_sql).fetchall()
        )
        _compare_totals(*[conn.execute(sql).fetchall() for sql in _TOTALS_SQL])
        _check_totals(
            dataset, [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables]
        )
    finally:
        conn.close()
    return seconds


def _insert(
    conn: sqlite3.Connection, table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]
) -> None:
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    while chunk := list(itertools.islice(rows, 250_000)):
        conn.execute("BEGIN")
        conn.executemany(statement, chunk)
        conn.execute("COMMIT")


# -- keys and state ---------------------------------------------------------------------


async def _issue_keys(dataset: Dataset, db_target: Target) -> dict[str, dict[str, Any]]:
    """Keys issued the service's way, for the big account, a small one and the buyer."""
    database = Database(db_target.async_url)
    issued: dict[str, dict[str, Any]] = {}
    try:
        for role, account in (
            ("big", dataset.big),
            ("small", dataset.small),
            ("buyer", dataset.buyer),
        ):
            async with database.transaction() as conn:
                key = await accounts_service.issue_key(conn, account.id)
            issued[role] = {"account_id": account.id, "key": key.secret, "numbers": account.size}
    finally:
        await database.dispose()
    return issued


def schema_head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return str(head)


def generate(
    kinds: list[str],
    numbers: int,
    seed: int = 1,
    *,
    keep_indexes: bool = False,
    keep_foreign_keys: bool = False,
    dataset: Dataset | None = None,
) -> Dataset:
    """Build the data set (unless given) and load it into each database of ``kinds``."""
    dataset = dataset or build_dataset(numbers, seed)
    import_csv = write_import_csv(dataset)
    for kind in kinds:
        db_target = target(kind, numbers)
        print(f"loading {kind} ({db_target.database_name}) ...")
        if kind == "sqlite":
            seconds = load_sqlite(
                dataset, db_target, keep_indexes=keep_indexes, keep_foreign_keys=keep_foreign_keys
            )
        else:
            seconds = asyncio.run(
                load_postgresql(
                    dataset,
                    db_target,
                    keep_indexes=keep_indexes,
                    keep_foreign_keys=keep_foreign_keys,
                )
            )
        print(f"loaded {kind} in {seconds:.1f} s")
        keys = asyncio.run(_issue_keys(dataset, db_target))
        save_state(
            kind,
            numbers,
            {
                "url": db_target.url,
                "numbers": numbers,
                "seed": seed,
                "inventory": dataset.sizes.inventory,
                "small_accounts": dataset.sizes.small_accounts,
                "accounts": keys,
                "import_csv": import_csv,
                "import_rows": dataset.sizes.import_rows,
                "schema_head": schema_head(),
                "load_seconds": round(seconds, 1),
                "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "sample_size": dataset.sample_size,
                "sample_invalid": dataset.invalid_in_sample,
                "blocks": len(dataset.blocks),
                "countries": len(COUNTRY_WEIGHTS),
            },
        )
    return dataset


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db", action="append", choices=["sqlite", "postgresql"], help="repeatable; default both"
    )
    parser.add_argument("--numbers", type=int, default=2_000_000, help="owned numbers")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--keep-indexes", action="store_true", help="load with secondary indexes in place"
    )
    parser.add_argument(
        "--keep-foreign-keys", action="store_true", help="load with foreign keys checked per row"
    )
    parser.add_argument(
        "--remove", action="store_true", help="delete the databases and CSV of this size instead"
    )
    args = parser.parse_args(argv)
    kinds = args.db or ["sqlite", "postgresql"]
    if args.remove:
        remove(kinds, args.numbers)
        return
    generate(
        kinds,
        args.numbers,
        args.seed,
        keep_indexes=args.keep_indexes,
        keep_foreign_keys=args.keep_foreign_keys,
    )


def remove(kinds: list[str], numbers: int) -> None:
    """Drop the benchmark databases of this size (and their import CSV)."""
    for kind in kinds:
        db_target = target(kind, numbers)
        if kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                db_target.sqlite_path.with_name(db_target.sqlite_path.name + suffix).unlink(
                    missing_ok=True
                )
        else:
            asyncio.run(_drop_postgresql(db_target.database_name))
    (OUT / f"import-{numbers}.csv").unlink(missing_ok=True)
    shutil.rmtree(OUT / "tmp", ignore_errors=True)


async def _drop_postgresql(name: str) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


if __name__ == "__main__":
    main()
