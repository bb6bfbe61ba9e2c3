"""Pure rules of trunks: IP ACL networks, SIP usernames, the trunk's SIP host."""

from __future__ import annotations

import pytest

from voxnumbers.errors import ValidationFailed
from voxnumbers.trunks.service import acl_interface, check_username, trunk_sip_domain
from voxnumbers.trunks.sip_uri import parse_sip_uri


@pytest.mark.parametrize(
    ("ip", "mask", "address", "prefix", "network"),
    [
        ("203.0.113.7", None, "203.0.113.7", 32, "203.0.113.7/32"),
        ("203.0.113.7", 24, "203.0.113.7", 24, "203.0.113.0/24"),
        ("203.0.113.7", 0, "203.0.113.7", 0, "0.0.0.0/0"),
        ("203.0.113.7", 32, "203.0.113.7", 32, "203.0.113.7/32"),
        ("2001:DB8::1", None, "2001:db8::1", 128, "2001:db8::1/128"),
        ("2001:db8::abcd:1", 64, "2001:db8::abcd:1", 64, "2001:db8::/64"),
        ("2001:db8::1", 0, "2001:db8::1", 0, "::/0"),
        ("::ffff:203.0.113.7", 128, "::ffff:cb00:7107", 128, "::ffff:cb00:7107/128"),
    ],
)
def test_acl_network_clears_host_bits(ip, mask, address, prefix, network) -> None:
    interface = acl_interface(ip, mask)
    assert str(interface.ip) == address
    assert interface.network.prefixlen == prefix
    assert str(interface.network) == network


@pytest.mark.parametrize(
    ("ip", "mask", "field"),
    [
        ("203.0.113.7", 33, "mask"),
        ("203.0.113.7", -1, "mask"),
        ("2001:db8::1", 129, "mask"),
        ("2001:db8::1", -1, "mask"),
        ("203.0.113", None, "ip"),
        ("256.0.0.1", None, "ip"),
        ("203.0.113.7/24", None, "ip"),
        ("010.0.0.1", None, "ip"),
        ("fe80::1%eth0", None, "ip"),
        ("example.com", None, "ip"),
        ("", None, "ip"),
    ],
)
def test_acl_refuses_bad_address_or_mask(ip, mask, field) -> None:
    with pytest.raises(ValidationFailed) as caught:
        acl_interface(ip, mask)
    assert [d.field for d in caught.value.details] == [field]


@pytest.mark.parametrize("username", ["a", "alice", "Alice.Smith_01-x", "a" * 100, "1234"])
def test_usernames_accepted(username: str) -> None:
    assert check_username(username) == username


@pytest.mark.parametrize(
    "username", ["", "a" * 101, "al ice", "alice@pbx", "älice", "alice\n", "a:b", "a/b"]
)
def test_usernames_refused(username: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_username(username)
    assert [d.field for d in caught.value.details] == ["username"]


def test_trunk_sip_domain_is_a_valid_sip_host() -> None:
    domain = trunk_sip_domain("trunk_3k9x0q2m7d1c5v8b", "sip.voxnumbers.local")
    assert domain == "trunk-3k9x0q2m7d1c5v8b.sip.voxnumbers.local"
    assert parse_sip_uri(f"sip:{domain}").host == domain
