"""Outbound safety at its edges: DNS length limits at their exact bounds, trailing dots, IPv6
scope ids, loose CIDR entries, bad allow entries and the OS resolver's errors.

Each test pins one promise of ``hookmock.transport.targets`` that the mutation run
(``python bench/mutation.py targets``) showed was reached but not checked.  Names resolve through
an injected resolver (no traffic); the OS resolver is only asked about loopback names and numbers.
"""

from __future__ import annotations

import socket

import pytest

from hookmock.errors import TargetNotAllowed, UsageError
from hookmock.transport.targets import (
    _LITERALS_MAX,
    LOOPBACK_NETWORKS,
    ResolutionFailed,
    ResolvedAddress,
    TargetPolicy,
    parse_target,
    system_resolver,
)


def _name(total: int) -> str:
    """A host name of exactly ``total`` characters made of legal labels (at most 63 each)."""
    labels, left = [], total
    while left > 64:
        labels.append("a" * 63)
        left -= 64  # the label and its dot
    labels.append("b" * left)
    name = ".".join(labels)
    assert len(name) == total
    return name


class Resolver:
    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        return self.answers[host]


# -- DNS length limits, at their exact bounds -------------------------------------------------


def test_a_host_name_of_exactly_253_characters_parses():
    host = _name(253)
    assert parse_target(f"http://{host}/x").host == host


def test_a_host_name_of_254_characters_is_refused_with_its_length():
    with pytest.raises(UsageError) as info:
        parse_target(f"http://{_name(254)}/x")
    assert "the host name is 254 characters long; DNS allows at most 253" in str(info.value)


def test_a_trailing_dot_does_not_count_towards_the_253():
    host = _name(253) + "."
    assert parse_target(f"http://{host}/").host == host
    with pytest.raises(UsageError, match="is 254 characters long"):
        parse_target(f"http://{_name(254)}./")


def test_a_label_of_63_characters_parses_without_a_trailing_dot():
    host = "a" * 63 + ".test"
    assert parse_target(f"http://{host}/").host == host
    assert parse_target(f"http://x.{'c' * 63}/").host == "x." + "c" * 63  # the last label too


def test_a_label_of_64_characters_is_refused_naming_its_start_and_length():
    label = "q" * 20 + "r" * 44
    with pytest.raises(UsageError) as info:
        parse_target(f"http://x.{label}.test/")
    message = str(info.value)
    assert f"the host label {'q' * 20}... is 64 characters long; DNS allows at most 63 per label" in message


@pytest.mark.parametrize("host", ["a..test", "a.test..", "localhost.."])
def test_an_empty_label_is_refused(host: str):
    with pytest.raises(UsageError) as info:
        parse_target(f"http://{host}/")
    assert str(info.value) == (
        f"target URL 'http://{host}/': host {host!r} has an empty label (two dots in a row, or a "
        "leading dot); remove it"
    )


@pytest.mark.parametrize("url", [None, b"http://127.0.0.1/", 8000])
def test_a_target_that_is_not_a_string_is_a_usage_error_naming_its_type(url):
    with pytest.raises(UsageError) as info:
        parse_target(url)
    assert str(info.value) == f"a target URL must be a string, not {type(url).__name__}"


# -- trailing dots, case, and host entries ------------------------------------------------------


def test_a_trailing_dot_in_the_url_still_matches_a_host_entry():
    resolver = Resolver({"hooks.example.": ["203.0.113.7"]})
    policy = TargetPolicy(["Hooks.Example"], resolver=resolver)
    assert [a.address for a in policy.check("http://hooks.example./")] == ["203.0.113.7"]
    assert resolver.calls == [("hooks.example.", 80)]


def test_a_host_entry_allows_only_its_own_name():
    resolver = Resolver({"other.example": ["203.0.113.7"]})
    with pytest.raises(TargetNotAllowed):
        TargetPolicy(["hooks.example."], resolver=resolver).check("http://other.example/")


# -- IPv6 scope ids ---------------------------------------------------------------------------


def test_a_scope_id_is_dropped_from_a_resolved_address():
    policy = TargetPolicy(resolver=Resolver({"v6.test": ["::1%lo", "::1"]}))
    addresses = policy.check("http://v6.test:8080/")
    # one address, without its scope id: the same address twice is tried once
    assert addresses == [ResolvedAddress("::1", 8080, socket.AF_INET6)]
    assert str(addresses[0]) == "[::1]:8080"


def test_an_address_with_a_scope_id_is_checked_as_the_address():
    policy = TargetPolicy(["fe80::1"])
    assert policy.address_allowed("fe80::1%eth0")
    assert policy.address_allowed("::1%lo")
    assert not policy.address_allowed("fe80::2%eth0")


def test_a_scoped_allow_entry_allows_the_address_in_any_scope():
    policy = TargetPolicy(["fe80::1%eth0"], resolver=Resolver({"ll.test": ["fe80::1%eth1"]}))
    assert [a.address for a in policy.check("http://ll.test/")] == ["fe80::1"]


# -- allow entries ------------------------------------------------------------------------------


def test_a_cidr_with_host_bits_set_is_the_network_it_names():
    # 10.1.2.3/8 is read as 10.0.0.0/8 (like `ip route`), not refused
    policy = TargetPolicy(["10.1.2.3/8"])
    assert policy.address_allowed("10.200.0.1")
    assert not policy.address_allowed("11.0.0.1")
    assert [a.address for a in policy.check("http://10.200.0.1:9/")] == ["10.200.0.1"]


@pytest.mark.parametrize("entry", ["", "   ", "\t\n", None])
def test_an_empty_allow_entry_is_called_empty(entry):
    with pytest.raises(UsageError) as info:
        TargetPolicy([entry])  # type: ignore[list-item]
    assert f"allow-target entry {entry!r} is empty; give a HOST name or a CIDR" in str(info.value)


def test_an_allow_entry_that_is_not_a_string_is_a_usage_error():
    with pytest.raises(UsageError, match="allow-target entry 10 is empty"):
        TargetPolicy([10])  # type: ignore[list-item]


def test_a_bad_cidr_entry_says_how_to_write_one():
    with pytest.raises(UsageError) as info:
        TargetPolicy(["10.0.0.0/33"])
    assert "'10.0.0.0/33' is not a valid CIDR; write it like 192.0.2.0/24" in str(info.value)


def test_a_neither_entry_says_what_to_give():
    with pytest.raises(UsageError) as info:
        TargetPolicy(["x.test:80"])
    assert str(info.value) == (
        "allow-target entry 'x.test:80' is neither a host name nor a CIDR; give a bare host name "
        "(no scheme, no port) or an address range like 192.0.2.0/24"
    )


@pytest.mark.parametrize(
    ("entry", "allowed", "refused"),
    [
        ("0X0A000001", "10.0.0.1", "10.0.0.2"),  # an upper-case numeric form is an address
        ("2001:DB8::7", "2001:db8::7", "2001:db8::8"),
        ("::FFFF:203.0.113.7", "203.0.113.7", "203.0.113.8"),  # mapped: the IPv4 address
        (" 192.0.2.9 ", "192.0.2.9", "192.0.2.10"),  # surrounding blanks are ignored
    ],
)
def test_address_entries_are_addresses_in_any_spelling(entry: str, allowed: str, refused: str):
    policy = TargetPolicy([entry])
    assert policy.address_allowed(allowed)
    assert not policy.address_allowed(refused)
    assert policy._hosts == frozenset()  # an address, never a host name


def test_host_entries_are_kept_lower_case_without_a_trailing_dot():
    policy = TargetPolicy([" Hooks.Example. ", "api.test"])
    assert policy._hosts == {"hooks.example", "api.test"}
    assert policy._networks == LOOPBACK_NETWORKS
    assert repr(policy) == "TargetPolicy(allow=[' Hooks.Example. ', 'api.test'])"


# -- refusals ----------------------------------------------------------------------------------


def test_a_refused_literal_names_the_address_and_how_to_allow_it():
    with pytest.raises(TargetNotAllowed) as info:
        TargetPolicy().check("http://10.0.0.1:8000/hook")
    message = str(info.value)
    assert message.startswith("target 'http://10.0.0.1:8000/hook': host '10.0.0.1' is not a loopback")
    assert "(address" not in message  # the address is the host as written
    assert message.endswith("e.g. --allow-target 10.0.0.1")


def test_a_resolved_answer_that_is_not_an_address_is_a_resolution_failure():
    with pytest.raises(ResolutionFailed) as info:
        TargetPolicy(resolver=Resolver({"odd.test": ["not-an-ip"]})).check("http://odd.test/")
    assert str(info.value) == "host 'odd.test' resolved to 'not-an-ip', which is not an address"


def test_an_empty_answer_names_the_host():
    with pytest.raises(ResolutionFailed) as info:
        TargetPolicy(resolver=Resolver({"empty.test": []})).check("http://empty.test/")
    assert str(info.value) == "host 'empty.test' resolved to no address"


def test_a_parsed_target_is_checked_as_it_is():
    resolver = Resolver({"receiver.test": ["127.0.0.5"]})
    target = parse_target("http://receiver.test:8123/hook")
    addresses = TargetPolicy(resolver=resolver).check(target)
    assert addresses == [ResolvedAddress("127.0.0.5", 8123, socket.AF_INET)]
    assert resolver.calls == [("receiver.test", 8123)]


def test_the_resolver_is_asked_with_the_port():
    resolver = Resolver({"receiver.test": ["127.0.0.5"]})
    TargetPolicy(resolver=resolver).check("https://receiver.test/")
    TargetPolicy(resolver=resolver).check("http://receiver.test:8123/")
    assert resolver.calls == [("receiver.test", 443), ("receiver.test", 8123)]


# -- the OS resolver (loopback names and numbers only: no packet leaves the machine) ----------


def test_the_system_resolver_answers_tcp_addresses_once_each():
    addresses = system_resolver("localhost", 80)
    expected = []
    for *_, sockaddr in socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM):
        if sockaddr[0] not in expected:
            expected.append(sockaddr[0])
    assert addresses == expected
    assert system_resolver("127.0.0.1", 80) == ["127.0.0.1"]  # one, though UDP and raw exist too
    assert system_resolver("127.0.0.2", 80) == ["127.0.0.2"]  # the host asked about, no other


def test_the_system_resolver_reports_the_os_error_text():
    with pytest.raises(ResolutionFailed) as info:
        system_resolver("127.0.0.1", -1)  # refused locally by getaddrinfo
    try:
        socket.getaddrinfo("127.0.0.1", -1, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        assert str(info.value) == f"cannot resolve host '127.0.0.1': {exc.strerror}"
    else:  # pragma: no cover
        pytest.fail("getaddrinfo accepted port -1")


def test_a_name_the_idna_codec_refuses_is_a_resolution_failure():
    with pytest.raises(ResolutionFailed) as info:
        system_resolver("a" * 64 + ".localhost", 80)
    assert str(info.value).startswith(f"cannot resolve host {'a' * 64 + '.localhost'!r}: ")
    assert "idna" in str(info.value)


# -- IPv4-mapped allow entries (regression: they allowed nothing) -----------------------------


def test_a_mapped_allow_entry_allows_the_ipv4_address_it_stands_for():
    # resolved addresses are compared as IPv4 (::ffff:a.b.c.d is a.b.c.d); the entry was kept as
    # an IPv6 network, so it never matched: the target was refused though it had been allowed
    policy = TargetPolicy(["::ffff:203.0.113.7"], resolver=Resolver({"h.test": ["::ffff:203.0.113.7"]}))
    assert [a.address for a in policy.check("http://h.test/")] == ["203.0.113.7"]
    assert [a.address for a in policy.check("http://203.0.113.7/")] == ["203.0.113.7"]
    assert not policy.address_allowed("203.0.113.8")


@pytest.mark.parametrize(
    ("entry", "inside", "outside"),
    [
        ("::ffff:10.0.0.0/104", "10.255.0.1", "11.0.0.1"),
        ("::ffff:10.1.2.3/120", "10.1.2.200", "10.1.3.1"),
        ("::ffff:0:0/96", "198.51.100.1", "2001:db8::1"),  # every IPv4 address, no IPv6 one
    ],
)
def test_a_mapped_cidr_entry_is_the_ipv4_range_it_stands_for(entry: str, inside: str, outside: str):
    policy = TargetPolicy([entry])
    assert policy.address_allowed(inside)
    assert policy.address_allowed(f"::ffff:{inside}")
    assert not policy.address_allowed(outside)


def test_a_plain_ipv6_range_is_left_as_it_is():
    policy = TargetPolicy(["2001:db8::/32", "::/96"])
    assert policy.address_allowed("2001:db8::1")
    assert policy.address_allowed("::5")
    assert not policy.address_allowed("0.0.0.5")  # ::5 (IPv4-compatible) is not 0.0.0.5


# -- what a policy remembers between checks ------------------------------------------------------


def test_a_host_name_is_resolved_and_checked_again_on_every_check():
    """A name that first resolves to loopback and then elsewhere (DNS rebinding) is refused the
    second time: only IP literals are remembered as checked."""
    answers = [["127.0.0.1"], ["203.0.113.7"]]
    asked: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return answers[len(asked) - 1]

    policy = TargetPolicy(resolver=resolver)
    first = policy.check("http://rebind.test:8080/hook")
    assert [a.address for a in first] == ["127.0.0.1"]
    with pytest.raises(TargetNotAllowed, match=r"resolves to 203\.0\.113\.7"):
        policy.check("http://rebind.test:8080/hook")
    assert asked == ["rebind.test", "rebind.test"]


def test_a_literal_checked_again_gives_the_same_addresses_as_a_new_list():
    policy = TargetPolicy(resolver=lambda host, port: pytest.fail("a literal is never resolved"))
    first = policy.check("http://127.0.0.1:9000/a")
    first.append(first[0])  # the caller's list is its own
    again = policy.check("http://127.0.0.1:9000/b")
    assert [(a.address, a.port, a.family) for a in again] == [("127.0.0.1", 9000, socket.AF_INET)]
    assert policy.check("http://[::1]:9000/")[0].family == socket.AF_INET6


def test_a_refused_literal_is_refused_every_time():
    policy = TargetPolicy()
    for _ in range(2):
        with pytest.raises(TargetNotAllowed, match=r"203\.0\.113\.9"):
            policy.check("http://203.0.113.9:80/")


def test_the_literals_remembered_are_bounded():
    """Memory stays bounded when a long-lived sender posts to many addresses: at most
    ``_LITERALS_MAX`` are remembered, then the memory starts again."""
    policy = TargetPolicy()
    for i in range(_LITERALS_MAX):
        policy.check(f"http://127.0.0.1:{10000 + i}/")
    assert len(policy._literals) == _LITERALS_MAX
    policy.check("http://127.0.0.1:20000/")
    assert len(policy._literals) == 1


def test_a_literal_is_checked_once_per_policy(monkeypatch: pytest.MonkeyPatch):
    """A sender posting to the same IP literal on every attempt parses and checks it once (the
    allowed set never changes and nothing is resolved); another port is another target."""
    import hookmock.transport.targets as targets

    parsed: list[str] = []
    real = targets._literal_address

    def counting(text: str):  # type: ignore[no-untyped-def]
        parsed.append(text)
        return real(text)

    monkeypatch.setattr(targets, "_literal_address", counting)
    policy = TargetPolicy()
    policy.check("http://127.0.0.1:9000/a")
    once = len(parsed)
    assert once > 0
    policy.check("http://127.0.0.1:9000/b")
    assert len(parsed) == once
    policy.check("http://127.0.0.1:9001/")
    assert len(parsed) > once
