"""The inventory CSV importer: every rule, each bad row reported on its real line."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from voxnumbers.inventory import importer
from voxnumbers.inventory.importer import (
    Problem,
    read_inventory_file,
    validate_inventory_csv,
)
from voxnumbers.inventory.schemas import InventoryEntry
from voxnumbers.vocabulary import to_mask

ADDED_AT = datetime(2026, 3, 15, 8, 20, tzinfo=UTC)
HEADER = "e164,country,type,region,capabilities,monthly_fee,setup_fee,needs_provisioning\n"


def check(text: str, **options) -> tuple[list[InventoryEntry], list[Problem]]:
    outcomes = list(
        validate_inventory_csv(io.StringIO(text, newline=""), added_at=ADDED_AT, **options)
    )
    entries = [o for o in outcomes if isinstance(o, InventoryEntry)]
    problems = [o for o in outcomes if isinstance(o, Problem)]
    return entries, problems


def problem_on(text: str, line: int) -> str:
    """The reason given for ``line``; fails unless it is the only problem."""
    _, problems = check(text)
    assert [p.line for p in problems] == [line], problems
    return problems[0].reason


# --- good rows --------------------------------------------------------------------------


def test_a_full_row_becomes_an_entry():
    entries, problems = check(
        HEADER + "+14155551200,US,local,California,voice|sms,1.25,3.00,true\n"
    )
    assert problems == []
    assert entries == [
        InventoryEntry(
            e164="+14155551200",
            country="US",
            type="local",
            region="California",
            capabilities=to_mask(["voice", "sms"]),
            monthly_fee_cents=125,
            setup_fee_cents=300,
            needs_provisioning=True,
            added_at=ADDED_AT,
        )
    ]


def test_empty_optional_cells_are_derived_from_the_numbering_plan_or_defaulted():
    entries, problems = check(HEADER + "+442079460100,,,,,1.50,,\n")
    assert problems == []
    [entry] = entries
    assert (entry.country, entry.type, entry.region) == ("GB", "local", "London")
    assert entry.capabilities == to_mask(["voice"])
    assert (entry.monthly_fee_cents, entry.setup_fee_cents) == (150, 0)
    assert entry.needs_provisioning is False


def test_only_the_required_columns_are_needed_in_any_order_and_case():
    entries, problems = check(" Monthly_Fee , E164 \n2.00,+18005550100\n")
    assert problems == []
    [entry] = entries
    assert (entry.e164, entry.country, entry.type, entry.monthly_fee_cents) == (
        "+18005550100",
        "US",
        "toll_free",
        200,
    )


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('"voice,sms"', ["voice", "sms"]),
        ("voice|sms|mms", ["voice", "sms", "mms"]),
        ("SMS | Voice", ["voice", "sms"]),
        ("mms", ["mms"]),
    ],
)
def test_capabilities_accept_commas_and_pipes(cell, expected):
    entries, problems = check(f"e164,capabilities,monthly_fee\n+14155551200,{cell},1\n")
    assert problems == []
    assert entries[0].capabilities == to_mask(expected)


@pytest.mark.parametrize(("cell", "expected"), [("TRUE", True), ("false", False), ("1", True)])
def test_needs_provisioning_reads_booleans(cell, expected):
    entries, _ = check(f"e164,monthly_fee,needs_provisioning\n+14155551200,1,{cell}\n")
    assert entries[0].needs_provisioning is expected


def test_numbers_are_canonicalised_and_cells_trimmed():
    entries, problems = check("e164,country,monthly_fee\n 14155551200 , us ,1.25\n")
    assert problems == []
    assert (entries[0].e164, entries[0].country) == ("+14155551200", "US")


def test_a_type_the_plan_cannot_tell_is_taken_as_given():
    # +44 56 is VoIP: the numbering plan names none of local, toll_free, mobile.
    entries, problems = check("e164,type,monthly_fee\n+445612345678,local,1\n")
    assert problems == []
    assert entries[0].type == "local"


def test_blank_lines_and_empty_rows_are_skipped_without_shifting_line_numbers():
    text = HEADER + "\n+14155551200,,,,,1,,\n,,,,,,,\n\n+14155551201,,,,,oops,,\n"
    entries, problems = check(text)
    assert [e.e164 for e in entries] == ["+14155551200"]
    assert [p.line for p in problems] == [6]


def test_a_byte_order_mark_is_ignored(tmp_path: Path):
    path = tmp_path / "bom.csv"
    path.write_bytes(("\ufeff" + "e164,monthly_fee\n+14155551200,1\n").encode())
    result = read_inventory_file(path, added_at=ADDED_AT)
    assert (len(result.entries), result.problems, result.rows) == (1, [], 1)


# --- the header -------------------------------------------------------------------------


def test_unknown_columns_are_named():
    _, problems = check("e164,monthly_fee,colour,Price\n+14155551200,1,red,2\n")
    assert len(problems) == 1
    assert problems[0].line == 1
    assert "'colour'" in problems[0].reason and "'price'" in problems[0].reason


@pytest.mark.parametrize("header", ["e164,country\n", "monthly_fee,country\n"])
def test_required_columns_must_be_present(header):
    _, problems = check(header + "x,y\n")
    assert len(problems) == 1 and problems[0].line == 1
    assert "missing required column" in problems[0].reason


def test_a_column_named_twice_is_refused():
    _, problems = check("e164,monthly_fee,e164\n+14155551200,1,+14155551201\n")
    assert problems == [Problem(1, "column(s) named more than once: e164")]


def test_a_header_problem_names_the_header_s_real_line_and_ends_the_file():
    _, problems = check("\n\ne164,monthly_fee,colour\n+14155551200,1,red\n+1415,x,y\n")
    assert [p.line for p in problems] == [3]
    assert problems[0].reason.startswith("unknown column(s) 'colour'")


def test_an_empty_file_is_refused():
    _, problems = check("")
    assert len(problems) == 1 and problems[0].line == 1 and "empty" in problems[0].reason


# --- bad rows, each on its own line -----------------------------------------------------


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (",US,,,,1,,", "e164 is required"),
        ("+1415,,,,,1,,", "e164 '+1415' is not a valid number in any numbering plan"),
        ("+1234567890123456,,,,,1,,", "e164 '+1234567890123456' must be an E.164 number"),
        ("+1415555l200,,,,,1,,", "e164 '+1415555l200' must be an E.164 number"),
        ("+11234567890,,,,,1,,", "is not a valid number in any numbering plan"),
        ("+1 415 555 1200,,,,,1,,", "must be an E.164 number"),
        ("+4407400123456,,,,,1,,", "is not in canonical E.164 form"),
        ("+80012345678,,,,,1,,", "belongs to no country"),
        ("+14155551200,GB,,,,1,,", "country 'GB' does not match the number, which is in US"),
        ("+1415,XX,,,,1,,", "country 'XX' is not an ISO 3166-1 alpha-2 country code"),
        ("+14155551200,,fax,,,1,,", "type 'fax' is not one of local, toll_free, mobile"),
        (
            "+14155551200,,mobile,,,1,,",
            "type 'mobile' contradicts the numbering plan, which says local",
        ),
        ("+18005550100,,local,,,1,,", "contradicts the numbering plan, which says toll_free"),
        ("+445612345678,,,,,1,,", "type is required: the numbering plan cannot tell"),
        ("+14155551200,,,,voice|fax,1,,", "unknown capability 'fax'"),
        ("+14155551200,,,,|,1,,", "capabilities '|' names no capability"),
        ("+14155551200,,,,,,,", "monthly_fee is required"),
        ("+14155551200,,,,,abc,,", "monthly_fee: 'abc' is not an amount"),
        ("+14155551200,,,,,1.255,,", "monthly_fee: '1.255' has more than two decimals"),
        ("+14155551200,,,,,-1,,", "monthly_fee: '-1' is not a non-negative amount"),
        ("+14155551200,,,,,NaN,,", "monthly_fee: 'NaN' is not an amount"),
        ("+14155551200,,,,,1e999999,,", "monthly_fee: '1e999999' is not an amount"),
        ("+14155551200,,,,,1000000.01,,", "monthly_fee '1000000.01' is more than 1,000,000.00"),
        ("+14155551200,,,,,1,x,", "setup_fee: 'x' is not an amount"),
        ("+14155551200,,,,,1,,maybe", "needs_provisioning 'maybe' must be true or false"),
        ("+14155551200,,," + "r" * 101 + ",,1,,", "region is longer than 100 characters"),
        ("+14155551200,,,,,1,", "has 7 field(s), the header has 8"),
        ("+14155551200,,,,,1,,,", "has 9 field(s), the header has 8"),
    ],
)
def test_each_bad_cell_is_reported_on_its_line(row, expected):
    good = "+14155551201,,,,,1,,\n"
    reason = problem_on(
        HEADER + good + good.replace("1201", "1202") + row + "\n" + good.replace("1201", "1203"), 4
    )
    assert expected in reason


def test_every_problem_of_a_row_is_reported_together():
    reason = problem_on(HEADER + "+14155551200,GB,fax,,,abc,,maybe\n", 2)
    for part in ("country 'GB'", "type 'fax'", "monthly_fee", "needs_provisioning"):
        assert part in reason


def test_a_repeated_number_is_refused_on_its_later_lines():
    text = (
        HEADER
        + "+14155551200,,,,,1,,\n+14155551201,,,,,1,,\n14155551200,,,,,2,,\n+14155551200,,,,,3,,\n"
    )
    entries, problems = check(text)
    assert [e.e164 for e in entries] == ["+14155551200", "+14155551201"]
    assert problems == [
        Problem(4, "duplicate: +14155551200 already appears on line 2"),
        Problem(5, "duplicate: +14155551200 already appears on line 2"),
    ]


def test_a_repeat_of_an_invalid_row_is_still_a_repeat():
    text = HEADER + "+14155551200,,,,,bad,,\n+14155551200,,,,,1,,\n"
    entries, problems = check(text)
    assert entries == []
    assert [p.line for p in problems] == [2, 3]
    assert "already appears on line 2" in problems[1].reason


def test_lines_are_counted_through_values_that_span_lines():
    text = HEADER + '+14155551200,,,"Bay\nArea",,1,,\n+14155551201,,,,,bad,,\n'
    entries, problems = check(text)
    assert entries[0].region == "Bay\nArea"
    assert [p.line for p in problems] == [4]


def test_malformed_csv_is_reported_on_the_line_where_the_record_starts():
    text = HEADER + '+14155551200,,,"x"y,,1,,\n+14155551201,,,,,1,,\n+14155551202,,,"open,,1,,\n'
    entries, problems = check(text)
    assert [e.e164 for e in entries] == ["+14155551201"]
    assert [p.line for p in problems] == [2, 4]
    assert all(p.reason.startswith("malformed CSV") for p in problems)


def test_text_that_is_not_utf8_is_reported_on_its_line(tmp_path: Path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        b"e164,region,monthly_fee\n+14155551200,Sao Paulo,1\n+14155551201,S\xe3o Paulo,1\n"
    )
    result = read_inventory_file(path, added_at=ADDED_AT)
    assert [e.region for e in result.entries] == ["Sao Paulo"]
    assert result.problems == [Problem(3, "region is not UTF-8 text")]


# --- files: streaming, progress, worker processes ----------------------------------------


def _big_file(path: Path, rows: int) -> None:
    with path.open("w") as handle:
        handle.write(HEADER)
        for n in range(rows):
            e164 = f"+1415{2000000 + n:07d}"
            fee = "oops" if n % 997 == 0 else "1.15"
            handle.write(f"{e164},US,local,,voice|sms,{fee},0,false\n")
        handle.write("+14152000001,,,,,1,,\n")  # a repeat, far from the first


def test_worker_processes_give_exactly_the_single_process_result(tmp_path: Path):
    path = tmp_path / "big.csv"
    _big_file(path, 12_000)  # three chunks
    alone = read_inventory_file(path, added_at=ADDED_AT, workers=1)
    pooled = read_inventory_file(path, added_at=ADDED_AT, workers=2)
    assert pooled == alone
    assert alone.rows == 12_001
    assert len(alone.problems) == 13 + 1
    assert alone.problems[-1] == Problem(
        12_002, "duplicate: +14152000001 already appears on line 3"
    )
    assert len(alone.entries) == 12_000 - 13


# Records that span lines, malformed ones (one running to the end of the file), blank lines
# and quotes, so that chunk boundaries fall everywhere among them.
TRICKY = (
    HEADER
    + '+14155551200,,,"Bay\nArea\nNorth",,1,,\n'  # lines 2-4
    + "+14155551201,,,,,1,,\n"
    + '+14155551202,,,"x"y,,1,,\n'  # line 6: malformed, ends on its own line
    + "\n"
    + '+14155551203,,,"San ""Jose""",,1,,\n'
    + '+14155551204,,,"Palo\r\nAlto",,1,,\r\n'  # lines 9-10
    + "+14155551205,,,,,bad,,\n"  # line 11
    + '"+14155551206",,,,,1,,\n'
    + '+14155551207,,,"open,,1,,\n'  # line 13: the quote runs to the end of the file
    + "+14155551208,,,,,1,,\n"
)


def test_records_that_span_lines_are_never_cut_between_chunks(monkeypatch):
    whole = check(TRICKY)
    assert [e.region for e in whole[0]] == [
        "Bay\nArea\nNorth",
        "CA",
        'San "Jose"',
        "Palo\r\nAlto",
        "CA",
    ]
    assert [p.line for p in whole[1]] == [6, 11, 13]
    assert all(p.reason.startswith("malformed CSV") for p in (whole[1][0], whole[1][2]))
    for lines in (1, 2, 3):
        monkeypatch.setattr(importer, "CHUNK_LINES", lines)
        assert check(TRICKY) == whole, lines


def test_worker_processes_read_chunks_cut_anywhere_as_one_reader_would(monkeypatch):
    single = check(TRICKY)
    monkeypatch.setattr(importer, "CHUNK_LINES", 2)  # the parent cuts; the workers read
    assert check(TRICKY, workers=2) == single


def test_progress_reports_every_character_read(tmp_path: Path):
    path = tmp_path / "big.csv"
    _big_file(path, 5_000)
    seen: list[int] = []
    read_inventory_file(path, added_at=ADDED_AT, progress=seen.append)
    assert sum(seen) == len(path.read_text())
    assert len(seen) > 2
