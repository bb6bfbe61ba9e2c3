"""OpenAPI helpers: every route documents the errors it can answer with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIResponse as ResponseDoc
from litestar.openapi.spec import Operation

from voxnumbers.errors import ERRORS_BY_STATUS
from voxnumbers.web.envelope import ErrorEnvelope

# Every authenticated route can answer these: 400 among them, since unknown or repeated query
# parameters are refused on every route (and without it, the framework documents its own
# 400 body, which never leaves the server).
_ALWAYS = (400, 401, 403, 405, 429, 500, 503)


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """Response specs of the error envelope for the given statuses plus those every
    authenticated route can answer with."""
    specs = {}
    for status in sorted(set(statuses) | set(_ALWAYS)):
        error = ERRORS_BY_STATUS[status]
        specs[status] = ResponseSpec(
            data_container=ErrorEnvelope,
            description=f"`{error.code}`: {error.default_message}",
            generate_examples=False,
        )
    return specs


def also_answered_as(status: int, *media_types: str) -> type[Operation]:
    """An OpenAPI operation class that documents the ``status`` answer under ``media_types``
    too, with the schema of the media type its ``ResponseSpec`` names (a ``ResponseSpec``
    names one; an endpoint answering CSV or NDJSON, as asked, answers both). Pass it as the
    route's ``operation_class``."""

    @dataclass
    class AnsweredAs(Operation):
        def __post_init__(self) -> None:
            response = (self.responses or {}).get(str(status))
            if isinstance(response, ResponseDoc) and response.content:
                documented = next(iter(response.content.values()))
                for media_type in media_types:
                    response.content.setdefault(media_type, documented)

    return AnsweredAs


# --- rules the server enforces that the generated description leaves out -----------------

# Text without control characters (Unicode category Cc), as ``kit.text`` refuses them.
CONTROL_FREE = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
_CONTROL = "\\u0000-\\u001f\\u007f-\\u009f"
# Free text that is not blank: white space around it is trimmed, control characters refused.
NOT_BLANK = f"^[^\\S{_CONTROL}]*[^\\s{_CONTROL}][^{_CONTROL}]*$"
NO_NUL = "^[^\\u0000]*$"  # secrets: any text but NUL, which no column can hold
# ``+`` (optional) then 8 to 15 digits, the first not 0: the shape of an E.164 number.
E164_PATTERN = "^\\+?[1-9][0-9]{7,14}$"
# In a query string an unencoded ``+`` arrives as a space, read as the ``+`` it was.
E164_QUERY_PATTERN = "^[+ ]?[1-9][0-9]{7,14}$"
COUNTRY_PATTERN = "^[A-Za-z]{2}$"
DIGITS_QUERY_PATTERN = "^[+ ]?[0-9]{1,15}$"
DIGITS_PATTERN = "^[+]?[0-9]{1,15}$"
HTTP_URL_PATTERN = "^[Hh][Tt][Tt][Pp][Ss]?://[^\\s\\u0000-\\u001f\\u007f-\\u009f]+$"
WEBHOOK_URL_PATTERN = "^[Hh][Tt][Tt][Pp][Ss]?://[!-~]+$"
SIP_URI_PATTERN = "^[Ss][Ii][Pp][Ss]?:[!-~]+$"
USERNAME_PATTERN = "^[A-Za-z0-9._-]{1,100}$"
_TAG = '(W/)?"[!#-~\\u0080-\\u00ff]*"'
# ``*`` or a list of entity tags (empty list elements allowed, RFC 9110 §5.6.1).
IF_MATCH_PATTERN = f"^[ \\t]*(\\*|(,[ \\t]*)*{_TAG}([ \\t]*,[ \\t]*({_TAG})?)*)[ \\t]*$"

# Formats beyond JSON Schema's own, each naming a rule a pattern cannot hold.
E164_FORMAT = "e164"  # a valid number of some numbering plan, in canonical E.164
COUNTRY_FORMAT = "iso3166-alpha2"  # a country with a numbering plan, any case
HTTP_URL_FORMAT = "http-url"  # an absolute http or https URL naming a host (and valid port)
WEBHOOK_URL_FORMAT = "webhook-url"  # the same, https (http only for a loopback host)
SIP_URI_FORMAT = "sip-uri"  # RFC 3261 §25.1 as trunks/sip_uri.py accepts it
_SIP_URI = {"pattern": SIP_URI_PATTERN, "format": SIP_URI_FORMAT, "minLength": 5}
_HTTP_URL = {"pattern": HTTP_URL_PATTERN, "format": HTTP_URL_FORMAT, "minLength": 8}

_FIELDS: dict[str, dict[str, Any]] = {
    "e164": {"pattern": E164_PATTERN, "format": E164_FORMAT, "minLength": 9, "maxLength": 16},
    "country": {"pattern": COUNTRY_PATTERN, "format": COUNTRY_FORMAT},
    "password": {"pattern": NO_NUL},
    "ip": {"anyOf": [{"format": "ipv4"}, {"format": "ipv6"}], "pattern": CONTROL_FREE},
    "mask": {"minimum": 0, "maximum": 128},
    "url": {"pattern": WEBHOOK_URL_PATTERN, "format": WEBHOOK_URL_FORMAT, "minLength": 8},
    "answer_url": _HTTP_URL,
    "hangup_url": _HTTP_URL,
    "fallback_url": _HTTP_URL,
    "termination_uri": _SIP_URI,
    "username": {"pattern": USERNAME_PATTERN},
}
_ITEMS: dict[str, dict[str, Any]] = {
    "numbers": _FIELDS["e164"],
    "origination_uris": _SIP_URI,
}
_QUERY: dict[str, dict[str, Any]] = {
    "e164": {"pattern": E164_QUERY_PATTERN, "format": E164_FORMAT},
    "contains": {"pattern": DIGITS_QUERY_PATTERN},
    "region": {"pattern": NOT_BLANK, "minLength": 1},
    "country": {"pattern": COUNTRY_PATTERN, "format": COUNTRY_FORMAT},
}


# Members of request bodies nested in another body (a bulk request's filter): the rules of
# the list's query parameters of the same name, as a body states them.
_NESTED: dict[str, dict[str, Any]] = {
    "country": {"pattern": COUNTRY_PATTERN, "format": COUNTRY_FORMAT},
    "region": {"pattern": NOT_BLANK},
    "contains": {"pattern": DIGITS_PATTERN},
}


def document_enforced_rules(
    schema: dict[str, Any],
    body_rules: dict[str, dict[str, Any]] | None = None,
    *,
    item_enums: Mapping[str, Sequence[str]] | None = None,
    query_enums: Mapping[tuple[str, str], Sequence[str]] | None = None,
) -> dict[str, Any]:
    """``schema`` (the generated OpenAPI description, as JSON) with the rules the server
    enforces beyond the types: no unknown member in a request body
    (``additionalProperties: false``), no control character in text (no NUL in a secret),
    the shapes of numbers, countries, IP addresses, URLs and ``If-Match``. A client made
    from the description then sends nothing the server refuses for its shape.
    ``body_rules``: a body's rules between its members, by component name, added as they
    are (JSON Schema keywords such as ``oneOf``). The values the features accept where a
    type says only "text": ``item_enums``, of the items of a body's list member, by the
    member's name; ``query_enums``, of a query parameter, by the end of its path and its
    name."""
    items = {**_ITEMS, **{name: {"enum": list(v)} for name, v in (item_enums or {}).items()}}
    components = schema.get("components", {}).get("schemas", {})
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                _document_parameter(parameter)
                for (path_end, name), values in (query_enums or {}).items():
                    if path.endswith(path_end) and parameter["name"] == name:
                        parameter["schema"]["enum"] = list(values)
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            ref = (body or {}).get("schema", {}).get("$ref", "")
            if ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                _document_body(components[name], items=items)
                _document_nested(components, components[name], items)
                components[name].update((body_rules or {}).get(name, {}))
    return schema


def _document_nested(
    components: dict[str, Any], struct: dict[str, Any], items: dict[str, dict[str, Any]]
) -> None:
    """The bodies a body holds as members (``$ref``), with their rules."""
    for field in struct.get("properties", {}).values():
        for variant in field.get("oneOf", [field]):
            ref = variant.get("$ref", "") if isinstance(variant, dict) else ""
            nested = components.get(ref.rsplit("/", 1)[1]) if ref else None
            if nested is not None and nested.get("type") == "object":
                _document_body(nested, _NESTED, items)


def _document_parameter(parameter: dict[str, Any]) -> None:
    schema = parameter.setdefault("schema", {})
    name, where = parameter["name"], parameter["in"]
    if where == "header" and name.lower() == "if-match":
        # A header is text or absent, never null.
        parameter["schema"] = {"type": "string", "pattern": IF_MATCH_PATTERN}
    elif where == "path" and name == "e164":
        schema.update(_FIELDS["e164"])
    elif where == "query" and name in _QUERY:
        schema.update(_QUERY[name])
    elif where == "query" and _is_text(schema):
        schema.setdefault("pattern", CONTROL_FREE)
        if "items" in schema and _is_text(schema["items"]):
            schema["items"].setdefault("pattern", CONTROL_FREE)


def _document_body(
    struct: dict[str, Any],
    rules: dict[str, dict[str, Any]] = _FIELDS,
    items: dict[str, dict[str, Any]] = _ITEMS,
) -> None:
    struct["additionalProperties"] = False
    for name, field in struct.get("properties", {}).items():
        if name in rules:
            field.update(rules[name])
        elif _is_text(field):
            field.setdefault("pattern", CONTROL_FREE)
        for variant in field.get("oneOf", [field]):
            listed = variant.get("items") if isinstance(variant, dict) else None
            if isinstance(listed, dict) and name in items:
                listed.update(items[name])
            elif isinstance(listed, dict) and _is_text(listed):
                listed.setdefault("pattern", CONTROL_FREE)


def _is_text(schema: dict[str, Any]) -> bool:
    """A string (or nullable string) without an ``enum`` (whose values say it all)."""
    variants = schema.get("oneOf", [schema])
    return "enum" not in schema and any(
        v.get("type") == "string" and "enum" not in v for v in variants if isinstance(v, dict)
    )
