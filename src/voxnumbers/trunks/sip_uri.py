"""A parser for the SIP URIs a trunk is configured with (``sip:`` and ``sips:``).

It accepts the part of RFC 3261 §25.1 that a trunk's termination and origination addresses
use, and refuses the rest rather than guessing::

    sip-uri  = ( "sip:" / "sips:" ) [ user "@" ] host [ ":" port ] *( ";" param [ "=" value ] )
    host     = hostname / IPv4address / "[" IPv6address "]"

Refused on purpose: a password in the user part (``user:secret@``, which RFC 3261 says
SHOULD NOT be used: it would be stored and returned in clear), ``?headers`` (not part of an
address), IPv6 zone ids, non-ASCII text (use the punycode form of a name), whitespace and
control characters, repeated parameters (RFC 3261 §19.1.1), ports outside 1..65535.

The result is canonical: scheme and host in lower case (they are case-insensitive), IPv6 in
its compressed form; the user part and the parameters keep their spelling.
"""

from __future__ import annotations

import ipaddress
import string
from dataclasses import dataclass
from typing import Literal

MAX_LENGTH = 500  # the width of the column that stores a URI
_MAX_HOSTNAME = 253
_MAX_LABEL = 63

_ALPHANUM = frozenset(string.ascii_letters + string.digits)
_HEX = frozenset(string.hexdigits)
_UNRESERVED = _ALPHANUM | frozenset("-_.!~*'()")
_USER_CHARS = _UNRESERVED | frozenset("&=+$,;?/")  # RFC 3261 user-unreserved
_PARAM_CHARS = _UNRESERVED | frozenset("[]/:&+$")  # RFC 3261 param-unreserved
_LABEL_CHARS = _ALPHANUM | frozenset("-")

HostKind = Literal["domain", "ipv4", "ipv6"]


class InvalidSipUri(ValueError):
    """The text is not a SIP URI this service accepts; the message says why."""


@dataclass(frozen=True, slots=True)
class SipUri:
    """A parsed SIP URI; ``str()`` gives its canonical spelling."""

    scheme: Literal["sip", "sips"]
    user: str | None
    host: str
    host_kind: HostKind
    port: int | None
    params: tuple[tuple[str, str | None], ...]

    def __str__(self) -> str:
        text = f"{self.scheme}:"
        if self.user is not None:
            text += f"{self.user}@"
        text += f"[{self.host}]" if self.host_kind == "ipv6" else self.host
        if self.port is not None:
            text += f":{self.port}"
        for name, value in self.params:
            text += f";{name}" if value is None else f";{name}={value}"
        return text


def parse_sip_uri(text: str) -> SipUri:
    """Parse a ``sip:`` or ``sips:`` URI, or raise ``InvalidSipUri`` saying what is wrong."""
    if not text:
        raise InvalidSipUri("must not be empty")
    if len(text) > MAX_LENGTH:
        raise InvalidSipUri(f"must be at most {MAX_LENGTH} characters")
    if not text.isascii() or any(ch.isspace() or not ch.isprintable() for ch in text):
        raise InvalidSipUri("must be printable ASCII without spaces")
    scheme, colon, rest = text.partition(":")
    scheme = scheme.lower()
    if not colon or scheme not in ("sip", "sips"):
        raise InvalidSipUri("must start with sip: or sips:")
    if "?" in rest.rpartition("@")[2]:
        raise InvalidSipUri("must not carry ?headers")
    user: str | None = None
    if "@" in rest:
        raw_user, _, rest = rest.rpartition("@")
        user = _parse_user(raw_user)
    address, semicolon, raw_params = rest.partition(";")
    host, kind, port = _parse_hostport(address)
    return SipUri(
        scheme="sips" if scheme == "sips" else "sip",
        user=user,
        host=host,
        host_kind=kind,
        port=port,
        params=_parse_params(raw_params) if semicolon else (),
    )


def _parse_user(raw: str) -> str:
    if not raw:
        raise InvalidSipUri("has an empty user part before @")
    if "@" in raw or ":" in raw:
        raise InvalidSipUri("must not carry a password or a second @ in the user part")
    _check_escaped(raw, _USER_CHARS, "user part")
    return raw


def _parse_hostport(address: str) -> tuple[str, HostKind, int | None]:
    kind: HostKind
    if address.startswith("["):
        closing = address.find("]")
        if closing < 0:
            raise InvalidSipUri("has an IPv6 address without its closing ]")
        host, kind = _parse_ipv6(address[1:closing]), "ipv6"
        after = address[closing + 1 :]
        if after and not after.startswith(":"):
            raise InvalidSipUri("has text after the IPv6 address")
        raw_port = after[1:] if after else None
    elif address.count(":") > 1:
        raise InvalidSipUri("has two ports, or an IPv6 address not in [brackets]")
    else:
        name, colon, port_text = address.partition(":")
        host, kind = _parse_name_or_ipv4(name)
        raw_port = port_text if colon else None
    port = _parse_port(raw_port) if raw_port is not None else None
    return host, kind, port


def _parse_ipv6(raw: str) -> str:
    if "%" in raw:
        raise InvalidSipUri("must not use an IPv6 zone id")
    try:
        return ipaddress.IPv6Address(raw).compressed
    except ValueError as exc:
        raise InvalidSipUri(f"has an invalid IPv6 address [{raw}]") from exc


def _parse_name_or_ipv4(raw: str) -> tuple[str, HostKind]:
    if not raw:
        raise InvalidSipUri("has no host")
    labels = raw.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels = labels[:-1]  # a fully qualified name may end with a dot
    if all(label.isdigit() for label in labels):
        # RFC 3261: a host name's last label starts with a letter, so all digits is IPv4.
        try:
            return str(ipaddress.IPv4Address(raw)), "ipv4"
        except ValueError as exc:
            raise InvalidSipUri(f"has an invalid IPv4 address {raw}") from exc
    if len(raw) > _MAX_HOSTNAME:
        raise InvalidSipUri(f"has a host name longer than {_MAX_HOSTNAME} characters")
    for label in labels:
        if not label or len(label) > _MAX_LABEL or not set(label) <= _LABEL_CHARS:
            raise InvalidSipUri(f"has an invalid host name {raw}")
        if label.startswith("-") or label.endswith("-"):
            raise InvalidSipUri(f"has an invalid host name {raw}")
    if not labels[-1][0].isalpha():
        raise InvalidSipUri(
            f"has an invalid host name {raw}: its last label must start with a letter"
        )
    return raw.lower(), "domain"


def _parse_port(raw: str) -> int:
    if not raw or len(raw) > 5 or not raw.isdigit():
        raise InvalidSipUri("has a port that is not a number from 1 to 65535")
    port = int(raw)
    if not 1 <= port <= 65535:
        raise InvalidSipUri("has a port that is not a number from 1 to 65535")
    return port


def _parse_params(raw: str) -> tuple[tuple[str, str | None], ...]:
    params: list[tuple[str, str | None]] = []
    seen: set[str] = set()
    for item in raw.split(";"):
        name, equals, value = item.partition("=")
        if not name:
            raise InvalidSipUri("has an empty parameter")
        _check_escaped(name, _PARAM_CHARS, "parameter name")
        if equals:
            if not value:
                raise InvalidSipUri(f"has an empty value for parameter {name}")
            _check_escaped(value, _PARAM_CHARS, f"value of parameter {name}")
        if name.lower() in seen:
            raise InvalidSipUri(f"repeats parameter {name}")
        seen.add(name.lower())
        params.append((name, value if equals else None))
    return tuple(params)


def _check_escaped(text: str, allowed: frozenset[str], where: str) -> None:
    """Every character allowed, or a ``%HH`` escape."""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "%":
            if not (len(text) >= i + 3 and text[i + 1] in _HEX and text[i + 2] in _HEX):
                raise InvalidSipUri(f"has a bad %-escape in the {where}")
            i += 3
            continue
        if ch not in allowed:
            raise InvalidSipUri(f"has a character not allowed in the {where}: {ch!r}")
        i += 1
