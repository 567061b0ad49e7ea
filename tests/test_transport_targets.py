"""Outbound safety: the table of address forms, checked with an injected resolver (no traffic)."""

from __future__ import annotations

import socket

import pytest

from hookmock.errors import TargetNotAllowed, UsageError
from hookmock.transport.targets import (
    ResolutionFailed,
    TargetPolicy,
    parse_target,
    system_resolver,
)

#: What the fake DNS knows.  Anything else is an error, so a test that resolved a name it should
#: have treated as a literal fails loudly.
FAKE_DNS: dict[str, list[str]] = {
    "localhost": ["127.0.0.1", "::1"],
    "receiver.test": ["127.0.0.5"],
    "mixed.test": ["127.0.0.1", "203.0.113.7"],
    "mapped.test": ["::ffff:127.0.0.1"],
    "mapped-out.test": ["::ffff:203.0.113.7"],
    "hooks.example": ["203.0.113.7", "2001:db8::7"],
    "v6only.test": ["::1"],
    "any.test": ["0.0.0.0"],
    "rebind.test": ["127.0.0.1", "10.1.2.3"],
    "private.test": ["192.168.1.20"],
}


class FakeResolver:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        if host not in FAKE_DNS:
            raise ResolutionFailed(f"cannot resolve host {host!r}: not in the fake DNS")
        return FAKE_DNS[host]


@pytest.fixture
def resolver() -> FakeResolver:
    return FakeResolver()


# url, allowed addresses (normalised) or None when refused, whether the resolver is consulted
ADDRESS_FORMS = [
    ("http://127.0.0.1:8000/hook", ["127.0.0.1"], False),
    ("http://127.255.255.254/", ["127.255.255.254"], False),
    ("http://2130706433/", ["127.0.0.1"], False),  # one 32-bit number
    ("http://0x7f000001/", ["127.0.0.1"], False),  # hexadecimal
    ("http://0177.0.0.1/", ["127.0.0.1"], False),  # octal first byte
    ("http://127.1/", ["127.0.0.1"], False),  # short form a.b
    ("http://0x7f.1/", ["127.0.0.1"], False),  # hex short form
    ("http://00000127.0.0.1/", None, False),  # octal 0127 is 87: 87.0.0.1, NOT loopback
    ("http://[::1]:9000/", ["::1"], False),
    ("http://[::ffff:127.0.0.1]/", ["127.0.0.1"], False),  # IPv4-mapped IPv6
    ("http://[::ffff:7f00:1]/", ["127.0.0.1"], False),  # the same, in hex groups
    ("http://[0:0:0:0:0:0:0:1]/", ["::1"], False),
    ("http://[::ffff:203.0.113.7]/", None, False),
    ("http://0.0.0.0/", None, False),  # the unspecified address is not loopback
    ("http://0/", None, False),  # 0 is 0.0.0.0
    ("http://[::]/", None, False),
    ("http://[::127.0.0.1]/", None, False),  # IPv4-compatible (deprecated) is not loopback
    ("http://10.0.0.1/", None, False),
    ("http://169.254.169.254/latest/meta-data", None, False),  # cloud metadata
    ("http://192.168.1.1/", None, False),
    ("http://localhost:8080/", ["127.0.0.1", "::1"], True),
    ("http://LOCALHOST/", ["127.0.0.1", "::1"], True),
    ("http://receiver.test/", ["127.0.0.5"], True),
    ("http://mapped.test/", ["127.0.0.1"], True),
    ("http://v6only.test/", ["::1"], True),
    ("http://mixed.test/", None, True),  # every address must be allowed
    ("http://rebind.test/", None, True),
    ("http://mapped-out.test/", None, True),
    ("http://any.test/", None, True),
    ("http://hooks.example/", None, True),
]


@pytest.mark.parametrize(("url", "expected", "resolves"), ADDRESS_FORMS)
def test_default_policy_address_forms(url: str, expected: list[str] | None, resolves: bool, resolver):
    policy = TargetPolicy(resolver=resolver)
    if expected is None:
        with pytest.raises(TargetNotAllowed) as info:
            policy.check(url)
        message = str(info.value)
        assert "not a loopback address" in message
        assert "--allow-target HOST|CIDR" in message
        assert "allow_targets=[...]" in message
        assert parse_target(url).host in message
    else:
        addresses = policy.check(url)
        assert [a.address for a in addresses] == expected
        assert all(a.port == parse_target(url).port for a in addresses)
    assert bool(resolver.calls) == resolves


def test_refusal_names_the_resolved_address_and_the_host(resolver):
    with pytest.raises(TargetNotAllowed) as info:
        TargetPolicy(resolver=resolver).check("http://mixed.test:8080/x")
    message = str(info.value)
    assert "'mixed.test' resolves to 203.0.113.7" in message
    assert "--allow-target 203.0.113.7 or --allow-target mixed.test" in message


def test_numeric_form_refusal_names_the_real_address(resolver):
    with pytest.raises(TargetNotAllowed) as info:
        TargetPolicy(resolver=resolver).check("http://3405803783/")  # 203.0.113.7
    assert "(address 203.0.113.7)" in str(info.value)


@pytest.mark.parametrize(
    ("allow", "url", "expected"),
    [
        (["203.0.113.0/24"], "http://hooks.example/", None),  # the IPv6 address is still outside
        (["203.0.113.0/24", "2001:db8::/32"], "http://hooks.example/", ["203.0.113.7", "2001:db8::7"]),
        (["hooks.example"], "http://hooks.example/", ["203.0.113.7", "2001:db8::7"]),
        (["HOOKS.example."], "https://hooks.example:8443/", ["203.0.113.7", "2001:db8::7"]),
        (["203.0.113.7"], "http://mixed.test/", ["127.0.0.1", "203.0.113.7"]),  # loopback stays allowed
        (["203.0.113.7"], "http://[::ffff:203.0.113.7]/", ["203.0.113.7"]),
        (["10.0.0.0/8"], "http://rebind.test/", ["127.0.0.1", "10.1.2.3"]),
        (["10.0.0.0/8"], "http://private.test/", None),
        (["hooks.example"], "http://mixed.test/", None),  # a HOST entry matches only its name
        (["0x0a000001"], "http://10.0.0.1/", ["10.0.0.1"]),  # numeric forms in entries too
        (["0.0.0.0"], "http://0/", ["0.0.0.0"]),
    ],
)
def test_allow_entries(allow, url, expected, resolver):
    policy = TargetPolicy(allow, resolver=resolver)
    if expected is None:
        with pytest.raises(TargetNotAllowed):
            policy.check(url)
    else:
        assert [a.address for a in policy.check(url)] == expected


def test_address_families_are_reported(resolver):
    addresses = TargetPolicy(resolver=resolver).check("http://localhost:81/")
    assert [a.family for a in addresses] == [socket.AF_INET, socket.AF_INET6]
    assert [str(a) for a in addresses] == ["127.0.0.1:81", "[::1]:81"]
    assert addresses[1].sockaddr == ("::1", 81)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("ftp://127.0.0.1/", "'ftp'"),
        ("127.0.0.1:8000/hook", "use an http:// or https:// URL"),
        ("file:///etc/passwd", "'file'"),
        ("http:///path-only", "has no host"),
        ("http://127.0.0.1:99999/", "bad port"),
        ("http://127.0.0.1:0/", "port 0"),
        ("http://127.0.0.1:abc/", "bad port"),
        ("http://127.0.0.1:/", "empty port"),
        ("http://user:pw@127.0.0.1/", "credentials"),
        ("http://user@127.0.0.1/", "credentials"),
        ("http://127.0.0.1 /", "whitespace"),
        ("http://127.0.0.1/\r\nX-Injected: 1", "control characters"),
        ("http://[zz::1]/", "is not a valid URL"),
        ("http://exa%6dple.test/", "not a valid host name"),
        # DNS limits, checked before any resolver is asked (the IDNA codec raised UnicodeError)
        ("http://" + "a" * 64 + ".localhost/x", "64 characters long; DNS allows at most 63"),
        ("http://a..localhost/x", "empty label"),
        ("http://" + "abcdefgh." * 30 + "localhost/x", "DNS allows at most 253"),
    ],
)
def test_bad_urls_are_usage_errors(url: str, fragment: str, resolver):
    with pytest.raises(UsageError) as info:
        TargetPolicy(resolver=resolver).check(url)
    assert not isinstance(info.value, TargetNotAllowed)
    assert fragment in str(info.value)
    assert url.strip()[:10] in str(info.value) or "URL" in str(info.value)
    assert resolver.calls == []


def test_the_longest_legal_labels_still_parse(resolver):
    from hookmock.transport.targets import parse_target

    assert parse_target("http://" + "a" * 63 + ".localhost./x").host == "a" * 63 + ".localhost."


def test_parse_target_fields():
    target = parse_target("HTTPS://Hooks.Example:8443/a/b?x=1&y=2#frag")
    assert (target.scheme, target.host, target.port, target.path) == (
        "https",
        "hooks.example",
        8443,
        "/a/b?x=1&y=2",
    )
    assert target.host_header == "hooks.example:8443"
    assert parse_target("http://127.0.0.1").path == "/"
    assert parse_target("http://127.0.0.1:80/").host_header == "127.0.0.1"
    assert parse_target("https://[::1]:443/").host_header == "[::1]"
    assert parse_target("http://[::1]:8080/").host_header == "[::1]:8080"


@pytest.mark.parametrize("entry", ["", "  ", "10.0.0.0/33", "http://x.test", "x.test:80", "a b"])
def test_bad_allow_entries(entry: str):
    with pytest.raises(UsageError) as info:
        TargetPolicy([entry])
    assert repr(entry) in str(info.value)


def test_a_single_string_is_one_entry():
    assert TargetPolicy("10.0.0.0/8").allow == ("10.0.0.0/8",)


def test_resolution_failure_is_not_a_usage_error(resolver):
    with pytest.raises(ResolutionFailed):
        TargetPolicy(resolver=resolver).check("http://unknown.test/")


def test_resolver_returning_nothing(resolver):
    with pytest.raises(ResolutionFailed):
        TargetPolicy(resolver=lambda host, port: []).check("http://empty.test/")


def test_address_allowed():
    policy = TargetPolicy(["192.0.2.0/24"])
    assert policy.address_allowed("127.0.0.9")
    assert policy.address_allowed("::ffff:127.0.0.1")
    assert policy.address_allowed("192.0.2.200")
    assert not policy.address_allowed("0.0.0.0")
    assert not policy.address_allowed("::")
    assert not policy.address_allowed("not-an-address")


def test_system_resolver_resolves_localhost_to_loopback_only():
    # The real OS resolver; localhost is in /etc/hosts, no packet leaves the machine.
    addresses = system_resolver("localhost", 80)
    assert addresses
    assert TargetPolicy().check("http://localhost:80/")
    assert all(TargetPolicy().address_allowed(a) for a in addresses)
