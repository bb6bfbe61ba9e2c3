"""The SIP URI parser: what it accepts (and how it spells it back), and what it refuses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxnumbers.trunks.sip_uri import MAX_LENGTH, InvalidSipUri, SipUri, parse_sip_uri


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("sip:pbx.example.com", "sip:pbx.example.com"),
        ("sips:pbx.example.com", "sips:pbx.example.com"),
        ("SIP:PBX.Example.COM", "sip:pbx.example.com"),
        ("sip:pbx.example.com.", "sip:pbx.example.com."),
        ("sip:localhost", "sip:localhost"),
        ("sip:pbx.example.com:5060", "sip:pbx.example.com:5060"),
        ("sip:pbx.example.com:05060", "sip:pbx.example.com:5060"),
        ("sip:pbx.example.com:1", "sip:pbx.example.com:1"),
        ("sip:pbx.example.com:65535", "sip:pbx.example.com:65535"),
        ("sip:alice@pbx.example.com", "sip:alice@pbx.example.com"),
        ("sip:Alice.Smith@pbx.example.com", "sip:Alice.Smith@pbx.example.com"),
        ("sip:+14155551234@gw.example.com", "sip:+14155551234@gw.example.com"),
        ("sip:%61lice@pbx.example.com", "sip:%61lice@pbx.example.com"),
        ("sip:+1212;npdi@gw.example.com", "sip:+1212;npdi@gw.example.com"),
        ("sip:203.0.113.7", "sip:203.0.113.7"),
        ("sip:203.0.113.7:5080", "sip:203.0.113.7:5080"),
        ("sip:[2001:DB8::1]", "sip:[2001:db8::1]"),
        ("sips:[2001:db8:0:0:0:0:0:1]:5061", "sips:[2001:db8::1]:5061"),
        ("sip:pbx.example.com;transport=tcp", "sip:pbx.example.com;transport=tcp"),
        (
            "sip:u@pbx.example.com:5060;transport=TLS;lr",
            "sip:u@pbx.example.com:5060;transport=TLS;lr",
        ),
        ("sip:a-b.c-d.example", "sip:a-b.c-d.example"),
        ("sip:x1.example", "sip:x1.example"),
    ],
)
def test_accepts_and_spells_canonically(text: str, canonical: str) -> None:
    assert str(parse_sip_uri(text)) == canonical


def test_parts_are_parsed() -> None:
    uri = parse_sip_uri("sips:Bob@[2001:db8::5]:5061;transport=tls;lr")
    assert uri == SipUri(
        scheme="sips",
        user="Bob",
        host="2001:db8::5",
        host_kind="ipv6",
        port=5061,
        params=(("transport", "tls"), ("lr", None)),
    )
    assert parse_sip_uri("sip:10.0.0.1").host_kind == "ipv4"
    assert parse_sip_uri("sip:gw.example.com").host_kind == "domain"
    assert parse_sip_uri("sip:gw.example.com").port is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("pbx.example.com", "sip: or sips:"),
        ("http://pbx.example.com", "sip: or sips:"),
        ("tel:+14155551234", "sip: or sips:"),
        ("sipx:pbx.example.com", "sip: or sips:"),
        ("sip:", "no host"),
        ("sip:@pbx.example.com", "empty user"),
        ("sip:alice:secret@pbx.example.com", "password"),
        ("sip:a@b@pbx.example.com", "password or a second @"),
        ("sip:al ice@pbx.example.com", "printable ASCII"),
        ("sip:pbx.example.com\n", "printable ASCII"),
        ("sip:pbx.example.com\x00", "printable ASCII"),
        ("sip:pbx.exämple.com", "printable ASCII"),
        ("sip:al<ice@pbx.example.com", "user part"),
        ("sip:a%zz@pbx.example.com", "%-escape"),
        ("sip:a%4@pbx.example.com", "%-escape"),
        ("sip:pbx.example.com?subject=hi", "headers"),
        ("sip:pbx.example.com:0", "port"),
        ("sip:pbx.example.com:65536", "port"),
        ("sip:pbx.example.com:", "port"),
        ("sip:pbx.example.com:50a", "port"),
        ("sip:pbx.example.com:-1", "port"),
        ("sip:pbx.example.com:5060:5061", "two ports"),
        ("sip:pbx_1.example.com", "host name"),
        ("sip:-pbx.example.com", "host name"),
        ("sip:pbx-.example.com", "host name"),
        ("sip:pbx..example.com", "host name"),
        ("sip:.example.com", "host name"),
        ("sip:pbx.1example", "last label"),
        ("sip:" + "a" * 64 + ".example.com", "host name"),
        ("sip:" + ".".join(["abcdefghi"] * 26) + ".com", "longer than 253"),
        ("sip:256.1.1.1", "IPv4"),
        ("sip:1.2.3", "IPv4"),
        ("sip:01.2.3.4", "IPv4"),
        ("sip:2001:db8::1", "[brackets]"),
        ("sip:[2001:db8::1", "closing ]"),
        ("sip:[2001:db8::g]", "IPv6"),
        ("sip:[203.0.113.7]", "IPv6"),
        ("sip:[fe80::1%25eth0]", "zone id"),
        ("sip:[2001:db8::1]x", "after the IPv6"),
        ("sip:pbx.example.com;", "empty parameter"),
        ("sip:pbx.example.com;;lr", "empty parameter"),
        ("sip:pbx.example.com;=tcp", "empty parameter"),
        ("sip:pbx.example.com;transport=", "empty value"),
        ('sip:pbx.example.com;trans"port=tcp', "parameter name"),
        ("sip:pbx.example.com;transport=t,cp", "value of parameter"),
        ("sip:pbx.example.com;lr;LR", "repeats parameter"),
        ("sip:" + "a" * MAX_LENGTH, "at most"),
    ],
)
def test_refuses_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidSipUri) as caught:
        parse_sip_uri(text)
    assert reason in str(caught.value)


_label = st.from_regex(r"[a-z]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_host = st.lists(_label, min_size=1, max_size=4).map(".".join)
_user = st.from_regex(r"[A-Za-z0-9+._-]{1,20}", fullmatch=True)
_param = st.tuples(
    st.from_regex(r"[a-z]{1,8}", fullmatch=True),
    st.none() | st.from_regex(r"[A-Za-z0-9.-]{1,8}", fullmatch=True),
)


@given(
    scheme=st.sampled_from(["sip", "sips", "SIP", "Sips"]),
    user=st.none() | _user,
    host=_host | st.ip_addresses(v=4).map(str) | st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
    port=st.none() | st.integers(1, 65535),
    params=st.lists(_param, max_size=3, unique_by=lambda p: p[0]),
)
def test_canonical_spelling_parses_to_the_same_uri(scheme, user, host, port, params) -> None:
    text = f"{scheme}:" + (f"{user}@" if user else "") + host
    text += f":{port}" if port else ""
    text += "".join(f";{n}" if v is None else f";{n}={v}" for n, v in params)
    uri = parse_sip_uri(text)
    assert uri.scheme == scheme.lower()
    assert uri.port == port
    assert uri.user == user
    assert parse_sip_uri(str(uri)) == uri
    assert str(parse_sip_uri(str(uri))) == str(uri)
