"""``/openapi.json`` describes the API a client can generate code from (OpenAPI 3.1), and the
operational endpoints answer (``spec/API.md`` §8)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar

from tests.api.support import AVAILABLE_KEYS, NUMBER_KEYS, PAGINATION_KEYS
from voxnumbers.errors import ValidationFailed
from voxnumbers.kit.etags import parse_if_match

_PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")
SEED = "/v1/account/{account_id}/numbers"
ONE = "/v1/account/{account_id}/numbers/{e164}"
PURCHASE = "/v1/account/{account_id}/numbers/purchase-from-inventory"
INVENTORY = "/v1/account/{account_id}/inventory/numbers"


@pytest.fixture
async def spec(client) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return response.json()  # type: ignore[no-any-return]


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        assert node["$ref"].startswith("#/components/schemas/"), node
        node = spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def json_schema(spec: dict[str, Any], operation: dict[str, Any], status: str) -> dict[str, Any]:
    return resolve(spec, operation["responses"][status]["content"]["application/json"]["schema"])


def parameters(operation: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["in"], p["name"]): p for p in operation.get("parameters", [])}


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs(value)]
    return []


async def test_it_is_openapi_3_1_and_every_reference_resolves(spec):
    assert spec["openapi"].startswith("3.1.")
    assert spec["info"]["title"] and spec["info"]["version"]
    schemas = spec["components"]["schemas"]
    for ref in refs(spec):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in schemas, ref
    schemes = spec["components"]["securitySchemes"]
    assert schemes["BearerAuth"] == {**schemes["BearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["BasicAuth"] == {**schemes["BasicAuth"], "type": "http", "scheme": "basic"}


async def test_it_passes_the_openapi_spec_validator(spec):
    validator = pytest.importorskip(
        "openapi_spec_validator",
        reason="openapi-spec-validator is not installed in this environment",
    )
    validator.validate(spec)


async def test_every_route_is_described_with_its_path_parameters(spec, app: Litestar):
    documented = spec["paths"]
    for route in app.routes:
        path = _PARAMETER.sub(r"{\1}", route.path)
        if not path.startswith("/v1/"):
            continue
        assert path in documented, path
        for method in getattr(route, "methods", ()):
            if method in ("OPTIONS", "HEAD"):
                continue
            operation = documented[path][method.lower()]
            declared = parameters(operation)
            for name in _PARAMETER.findall(path):
                assert declared[("path", name)]["required"] is True, (method, path, name)
            assert operation.get("summary"), (method, path)
            successes = [status for status in operation["responses"] if status.startswith("2")]
            # One success, but for a bulk request: its job (202) or, with dry_run, its plan.
            expected = [["200", "202"]] if path.endswith("/numbers/bulk") else [["200"], ["201"]]
            assert sorted(successes) in expected, (method, path, successes)
            for success in successes:
                content = operation["responses"][success]["content"]
                if path.endswith("/export"):  # a stream of lines, not a JSON object
                    assert "text/csv" in content, (method, path)
                else:
                    schema = content["application/json"]["schema"]
                    assert resolve(spec, schema).get("properties"), (method, path)
            assert operation["security"] == [{"BearerAuth": []}, {"BasicAuth": []}]


async def test_every_api_operation_documents_its_errors_with_the_envelope(spec):
    envelope = spec["components"]["schemas"]["ErrorEnvelope"]
    body = resolve(spec, envelope["properties"]["error"])
    assert set(body["required"]) == {"code", "message", "request_id"}
    assert set(body["properties"]) == {"code", "message", "details", "request_id"}
    undocumented, other_shapes = [], []
    for path, item in spec["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in item.items():
            statuses = set(operation["responses"])
            if not {"401", "403", "500"} <= statuses:
                undocumented.append((method, path, sorted(statuses)))
            for status in statuses - {"200", "201", "202"}:
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                if schema != {"$ref": "#/components/schemas/ErrorEnvelope"}:
                    other_shapes.append((method, path, status))
    assert undocumented == []
    assert other_shapes == []


async def test_the_seed_list_is_described(spec):
    operation = spec["paths"][SEED]["get"]
    declared = parameters(operation)
    assert {name for where, name in declared if where == "query"} >= {
        "country",
        "status",
        "page",
        "per_page",
    }
    page = declared[("query", "page")]["schema"]
    per_page = declared[("query", "per_page")]["schema"]
    assert (page["minimum"], page["default"]) == (1, 1)
    assert (per_page["minimum"], per_page["maximum"], per_page["default"]) == (1, 100, 20)
    assert "400" in operation["responses"]
    page_schema = json_schema(spec, operation, "200")
    assert list(page_schema["properties"]) == ["data", "pagination"]
    number = resolve(spec, page_schema["properties"]["data"]["items"])
    assert list(number["properties"]) == NUMBER_KEYS
    assert set(number["required"]) == set(NUMBER_KEYS)
    pagination = resolve(spec, page_schema["properties"]["pagination"])
    # next_cursor is there only for requests that page by cursor (API.md §3.1 [ext]).
    assert list(pagination["properties"]) == [*PAGINATION_KEYS, "next_cursor"]
    assert set(pagination["required"]) == set(PAGINATION_KEYS)


async def test_money_and_times_are_typed_as_they_are_sent(spec):
    """Fees leave the API as JSON numbers (``1.25``), so the schema must say ``number``:
    a generated client expecting strings would fail on every response."""
    schemas = spec["components"]["schemas"]
    typed = {
        (name, fee): schemas[name]["properties"][fee].get("type")
        for name in ("Number", "AvailableNumber")
        for fee in ("monthly_fee", "setup_fee")
    }
    assert typed == dict.fromkeys(typed, "number")
    for moment in ("created_at", "updated_at"):
        assert schemas["Number"]["properties"][moment] == {"type": "string", "format": "date-time"}


async def test_one_number_and_purchase_are_described(spec):
    get_one = spec["paths"][ONE]["get"]
    assert {"400", "404"} <= set(get_one["responses"])
    assert list(json_schema(spec, get_one, "200")["properties"]) == NUMBER_KEYS
    purchase = spec["paths"][PURCHASE]["post"]
    assert "200" not in purchase["responses"]
    assert list(json_schema(spec, purchase, "201")["properties"]) == NUMBER_KEYS
    assert {"400", "404", "409", "413", "415"} <= set(purchase["responses"])
    request = resolve(spec, purchase["requestBody"]["content"]["application/json"]["schema"])
    assert set(request["required"]) == {"e164", "country"}
    assert set(request["properties"]) == {"e164", "country"}


async def test_inventory_search_is_described(spec):
    operation = spec["paths"][INVENTORY]["get"]
    declared = parameters(operation)
    assert {name for where, name in declared if where == "query"} >= {
        "country",
        "type",
        "region",
        "capability",
        "contains",
        "page",
        "per_page",
    }
    capability = declared[("query", "capability")]["schema"]
    assert "array" in str(capability)
    page_schema = json_schema(spec, operation, "200")
    item = resolve(spec, page_schema["properties"]["data"]["items"])
    assert list(item["properties"]) == AVAILABLE_KEYS


async def test_docs_page_and_health_endpoints_answer_without_a_key(client, database):
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert "<html" in docs.text.lower()
    assert "/openapi.json" in docs.text or "openapi" in docs.text.lower()
    health = await client.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


# --- every rule the server enforces is in the description ------------------------------------


def request_bodies(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The schema of every JSON request body, by operation."""
    bodies = {}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                bodies[f"{method.upper()} {path}"] = resolve(
                    spec, content["application/json"]["schema"]
                )
    return bodies


async def test_request_bodies_refuse_unknown_members_and_control_characters(spec):
    bodies = request_bodies(spec)
    assert len(bodies) >= 11
    for label, body in bodies.items():
        assert body["additionalProperties"] is False, label
        for name, field in body["properties"].items():
            variants = field.get("oneOf", [field])
            if any(v.get("type") == "string" and "enum" not in v for v in variants):
                assert "pattern" in field, (label, name)
                assert not re.search(field["pattern"], "a\u0000b"), (label, name)


IF_MATCH_SAMPLES = ["*", '"a1"', 'W/"a1"', '"a", W/"b"', ' "a" ,, "b", ', '"a",', ', "a"']
NOT_IF_MATCH = ["x-request-id", "null", "7", '"a" "b"', "W/a", '"a', '*, "a"', ""]


async def test_the_if_match_pattern_is_the_servers_grammar(spec):
    patterns = {
        p["schema"]["pattern"]
        for operations in spec["paths"].values()
        for operation in operations.values()
        for p in operation.get("parameters", [])
        if p["in"] == "header" and p["name"] == "If-Match"
    }
    assert len(patterns) == 1, patterns
    pattern = patterns.pop()
    for value in IF_MATCH_SAMPLES:
        parse_if_match(value)  # accepted by the server
        assert re.search(pattern, value), value
    for value in NOT_IF_MATCH:
        with pytest.raises(ValidationFailed):
            parse_if_match(value)
        assert not re.search(pattern, value), value


async def test_numbers_countries_addresses_and_urls_have_their_shapes(spec):
    one = spec["paths"][ONE]["get"]
    e164 = parameters(one)[("path", "e164")]["schema"]
    assert e164["format"] == "e164" and re.search(e164["pattern"], "+14155551234")
    for wrong in ("+14155551234 ", " +14155551234", "+1415555123a", "+0123456789", "+1"):
        assert not re.search(e164["pattern"], wrong), wrong
    purchase = resolve(spec, spec["components"]["schemas"]["PurchaseRequest"])
    assert purchase["properties"]["country"]["pattern"] == "^[A-Za-z]{2}$"
    acl = spec["components"]["schemas"]["IpAclRequest"]["properties"]
    assert acl["ip"]["anyOf"] == [{"format": "ipv4"}, {"format": "ipv6"}]
    assert (acl["mask"]["minimum"], acl["mask"]["maximum"]) == (0, 128)
    webhook = spec["components"]["schemas"]["WebhookRequest"]["properties"]["url"]
    assert webhook["minLength"] == 8 and not re.search(webhook["pattern"], "CONFLICT")
    listed = parameters(spec["paths"][SEED]["get"])
    assert "pattern" in listed[("query", "trunk_id")]["schema"]
