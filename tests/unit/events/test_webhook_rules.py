import pytest

from voxnumbers.errors import ValidationFailed
from voxnumbers.events.service import subscribed_types, webhook_url
from voxnumbers.events.types import EVENT_TYPES


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hooks",
        "HTTPS://example.com:8443/hooks?x=1",
        "http://localhost:8080/hook",
        "http://127.0.0.1/hook",
        "http://[::1]:9000/hook",
        "https://" + "a" * 1980 + ".com/",
    ],
)
def test_accepted_urls(url):
    assert webhook_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "",
        "example.com/hook",
        "/hooks",
        "ftp://example.com/hook",
        "http://example.com/hook",  # plain http only for loopback
        "http://127.0.0.2/hook",
        "http://localhost.example.com/hook",
        "https:///nohost",
        "https://example.com:99999/",
        "https://exa mple.com/",
        "https://example.com/\n",
        "https://exämple.com/",
        "https://" + "a" * 2000 + ".com/",
    ],
)
def test_refused_urls_name_the_field(url):
    with pytest.raises(ValidationFailed) as caught:
        webhook_url(url)
    assert [d.field for d in caught.value.details] == ["url"]


def test_event_types_are_deduplicated_in_the_order_given():
    assert subscribed_types([]) == []
    assert subscribed_types(["number.released", "number.purchased", "number.released"]) == [
        "number.released",
        "number.purchased",
    ]
    assert subscribed_types(list(EVENT_TYPES)) == list(EVENT_TYPES)


def test_an_unknown_event_type_is_named():
    with pytest.raises(ValidationFailed) as caught:
        subscribed_types(["number.purchased", "number.exploded"])
    [problem] = caught.value.details
    assert problem.field == "event_types"
    assert "'number.exploded'" in problem.reason
