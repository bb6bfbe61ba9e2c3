"""Typed results: the seed's response parsed exactly, money as Decimal, aware times."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fake_api import ACCOUNT_ID, API_KEY, NUMBER_KEYS

from voxnumbers_client import Client, Number, Pagination, VoxResponseError, _json

# TryVox's "List Your Numbers" page, kept in the repository as the compatibility reference.
SEED_PAGE = Path(__file__).resolve().parents[2] / "docs/compat/list-your-numbers.txt"


# The response body of the seed page, byte for byte.
def seed_response() -> str:
    """The response body of TryVox's "List Your Numbers" page, verbatim, read from the copy
    of the page kept in the repository."""
    page = (Path(__file__).resolve().parents[2] / "docs/compat/list-your-numbers.txt").read_text()
    start = page.index('{\n"data"')
    return page[start : page.index("}Response Fields", start) + 1]


SEED_RESPONSE = seed_response()


@pytest.fixture
def seed_client() -> Iterator[Client]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=SEED_RESPONSE.encode())

    transport = httpx.MockTransport(handler)
    with Client(API_KEY, account_id=ACCOUNT_ID, transport=transport) as client:
        yield client


def test_the_seed_response_parses_exactly(seed_client: Client) -> None:
    page = seed_client.numbers.list()

    first, second = page.data
    assert str(first.monthly_fee) == "1.25" and str(second.monthly_fee) == "2.50"
    assert isinstance(first.setup_fee, Decimal) and str(first.setup_fee) == "0.00"
    assert first.created_at == datetime(2026, 3, 15, 8, 20, tzinfo=UTC)
    assert first.updated_at.tzinfo is not None
    assert first.capabilities == ("voice", "sms", "mms")
    assert (first.application_id, second.trunk_id) == (None, None)
    assert page.pagination == Pagination(
        total=47, count=2, per_page=20, current_page=1, total_pages=3
    )


def test_to_dict_gives_back_the_wire_object(seed_client: Client) -> None:
    page = seed_client.numbers.list()
    seed = json.loads(SEED_RESPONSE, parse_float=Decimal)

    assert [n.to_dict() for n in page.data] == seed["data"]
    assert tuple(page.data[0].to_dict()) == NUMBER_KEYS
    assert page.pagination.to_dict() == seed["pagination"]
    assert _json.loads(_json.dumps(page.data[1].to_dict())) == seed["data"][1]
    assert '"setup_fee":0.00' in _json.dumps(page.data[1].to_dict())


def test_results_are_frozen(seed_client: Client) -> None:
    number = seed_client.numbers.list().data[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        number.status = "suspended"  # type: ignore[misc]


def test_unknown_keys_are_ignored_and_missing_ones_refused() -> None:
    wire = json.loads(SEED_RESPONSE, parse_float=Decimal)["data"][0]
    assert Number.from_json({**wire, "porting": {"state": "none"}}).e164 == "+14155551234"
    with pytest.raises(ValueError, match="monthly_fee"):
        Number.from_json({k: v for k, v in wire.items() if k != "monthly_fee"})
    with pytest.raises(ValueError, match="capabilities"):
        Number.from_json({**wire, "capabilities": "voice"})


def test_a_malformed_page_is_a_response_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [{"e164": "+1"}], "pagination": {}})

    client = Client(API_KEY, account_id=ACCOUNT_ID, transport=httpx.MockTransport(handler))
    with pytest.raises(VoxResponseError, match="Number"):
        client.numbers.list()


def test_json_encoding_keeps_decimals_and_layout() -> None:
    value = {"fee": Decimal("0.00"), "at": datetime(2026, 1, 1, tzinfo=UTC), "list": [1, None]}
    assert _json.dumps(value) == '{"fee":0.00,"at":"2026-01-01T00:00:00Z","list":[1,null]}'
    assert _json.dumps({"a": [], "b": {}, "c": [{"d": Decimal("1.5")}]}, indent=2) == (
        '{\n  "a": [],\n  "b": {},\n  "c": [\n    {\n      "d": 1.5\n    }\n  ]\n}'
    )
    with pytest.raises(ValueError, match="timezone"):
        _json.format_datetime(datetime(2026, 1, 1))
