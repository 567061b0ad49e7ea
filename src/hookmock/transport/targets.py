"""Outbound safety: which addresses the sender may connect to.

By default hookmock only sends to loopback addresses (``127.0.0.0/8`` and ``::1``).  Anything else
needs an explicit allow entry, the same name everywhere: ``--allow-target HOST|CIDR`` on the
command line, ``allow_targets=[...]`` in Python.

The check parses the URL, resolves the host, and requires EVERY resolved address to be allowed;
the caller then connects to one of the addresses that were checked (never re-resolving the name,
so a second DNS answer cannot slip past the check).  Addresses are normalised the way the OS does
it: IPv4 numeric forms follow ``inet_aton`` (``2130706433``, ``0x7f000001``, ``0177.0.0.1`` and
``127.1`` are all 127.0.0.1), an IPv4-mapped IPv6 address (``::ffff:127.0.0.1``) is its IPv4
address, and ``0.0.0.0`` / ``::`` are *not* loopback.

Resolution is injectable (``resolver=``) so tests can check names that resolve to several
addresses without any traffic leaving the machine.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import SplitResult, urlsplit

from .._util.redact import hide_userinfo
from ..errors import HookmockError, TargetNotAllowed, UsageError

__all__ = [
    "ALLOW_OPTION",
    "LOOPBACK_NETWORKS",
    "ResolutionFailed",
    "ResolvedAddress",
    "Resolver",
    "Target",
    "TargetPolicy",
    "parse_target",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: ``resolver(host, port)`` returns the addresses (as strings) that ``host`` resolves to.
Resolver = Callable[[str, int], Sequence[str]]

#: How the allow option is spelled in every error message.
ALLOW_OPTION = "--allow-target HOST|CIDR (allow_targets=[...] in Python)"

LOOPBACK_NETWORKS: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)

#: IPv4-mapped IPv6 addresses (``::ffff:a.b.c.d``): checked as the IPv4 address they stand for.
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOSTNAME_RE = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?$")


class ResolutionFailed(HookmockError):
    """The target's host name could not be resolved (a network condition, not a usage error)."""


@dataclass(frozen=True)
class Target:
    """A parsed webhook target URL."""

    url: str
    scheme: str
    host: str  # lower-case host name or IP literal, without brackets
    port: int
    path: str  # path + query, never empty

    @property
    def is_ip_literal(self) -> bool:
        return _literal_address(self.host) is not None

    @property
    def host_header(self) -> str:
        """The ``Host`` header: the original host (bracketed if IPv6) and a non-default port."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port == _DEFAULT_PORTS[self.scheme]:
            return host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class ResolvedAddress:
    """One address that passed the check, ready to connect to."""

    address: str  # normalised (IPv4-mapped IPv6 becomes IPv4)
    port: int
    family: int  # socket.AF_INET or socket.AF_INET6

    @property
    def sockaddr(self) -> tuple[str, int]:
        return (self.address, self.port)

    def __str__(self) -> str:
        if self.family == socket.AF_INET6:
            return f"[{self.address}]:{self.port}"
        return f"{self.address}:{self.port}"


def parse_target(url: str) -> Target:
    """Parse and check a webhook URL: http/https, a host, a valid port, no credentials."""
    if not isinstance(url, str):
        raise UsageError(f"a target URL must be a string, not {type(url).__name__}")
    return _parse_target(url)


@lru_cache(maxsize=512)
def _parse_target(url: str) -> Target:
    # pure: the same URL always parses the same (errors are raised again, never cached)
    given = hide_userinfo(url)  # messages never show a password given in the URL
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise UsageError(
            f"target URL {given!r} contains whitespace or control characters; percent-encode them"
        )
    try:
        parts: SplitResult = urlsplit(url)
        parts.hostname  # noqa: B018  (validates a bracketed IPv6 literal)
    except ValueError as exc:
        raise UsageError(
            f"target URL {given!r} is not a valid URL ({exc}); check the host and brackets"
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        shown = f"{parts.scheme!r}" if parts.scheme else "no scheme"
        raise UsageError(f"target URL {given!r} has {shown}; use an http:// or https:// URL")
    if "@" in parts.netloc:
        raise UsageError(
            f"target URL {given!r} contains credentials (user:password@); remove them, "
            "webhook deliveries are authenticated by their signature"
        )
    host = parts.hostname
    if not host:
        raise UsageError(f"target URL {given!r} has no host; write it like http://127.0.0.1:8000/webhooks")
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"target URL {given!r} has a bad port; use a number from 1 to 65535") from None
    if port is None:
        if parts.netloc.endswith(":"):
            raise UsageError(f"target URL {given!r} has an empty port; use a number from 1 to 65535")
        port = _DEFAULT_PORTS[scheme]
    if not 1 <= port <= 65535:
        raise UsageError(f"target URL {given!r} has port {port}; use a number from 1 to 65535")
    bracketed = "[" in parts.netloc
    if bracketed:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise UsageError(f"target URL {given!r}: [{host}] is not a valid IPv6 address") from None
    elif not _HOSTNAME_RE.match(host):
        raise UsageError(f"target URL {given!r}: {host!r} is not a valid host name or IPv4 address")
    else:
        _check_labels(given, host)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(url=url, scheme=scheme, host=host, port=port, path=path)


def _check_labels(url: str, host: str) -> None:
    """DNS limits (RFC 1035): labels of 1 to 63 characters, 253 in all; the resolver would
    otherwise fail with an encoding error instead of an answer."""
    name = host[:-1] if host.endswith(".") else host
    if len(name) > 253:
        raise UsageError(
            f"target URL {url!r}: the host name is {len(name)} characters long; DNS allows at most 253"
        )
    for label in name.split("."):
        if not label:
            raise UsageError(
                f"target URL {url!r}: host {host!r} has an empty label (two dots in a row, or a "
                "leading dot); remove it"
            )
        if len(label) > 63:
            raise UsageError(
                f"target URL {url!r}: the host label {label[:20]}... is {len(label)} characters long; "
                "DNS allows at most 63 per label"
            )


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve with the OS resolver (``getaddrinfo``), TCP addresses only, in the OS's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise ResolutionFailed(f"cannot resolve host {host!r}: {exc.strerror or exc}") from None
    except UnicodeError as exc:  # the IDNA codec refuses the name (e.g. a label too long)
        raise ResolutionFailed(f"cannot resolve host {host!r}: {exc}") from None
    out: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        addr = str(sockaddr[0])
        if addr not in out:
            out.append(addr)
    return out


def _literal_address(host: str) -> IPAddress | None:
    """The address an IP literal stands for, with the OS's IPv4 numeric forms; None for a name."""
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            return None
    if not _HOSTNAME_RE.match(host):
        return None
    try:
        packed = socket.inet_aton(host)
    except OSError:
        return None
    return ipaddress.IPv4Address(packed)


def _normalise(addr: IPAddress) -> IPAddress:
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return addr.ipv4_mapped
        if addr.scope_id is not None:
            return ipaddress.IPv6Address(str(addr).split("%", 1)[0])
    return addr


def _unmapped(network: IPNetwork) -> IPNetwork:
    """An IPv4-mapped range as the IPv4 range it stands for: resolved addresses are compared
    after :func:`_normalise`, which makes a mapped address its IPv4 address."""
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96 and network.subnet_of(_MAPPED):
        low = int(network.network_address) & 0xFFFFFFFF
        return ipaddress.IPv4Network((low, network.prefixlen - 96))
    return network


def _parse_allow(entry: str) -> tuple[str | None, IPNetwork | None]:
    if not isinstance(entry, str) or not entry.strip():
        raise UsageError(f"allow-target entry {entry!r} is empty; give a HOST name or a CIDR like 10.0.0.0/8")
    text = entry.strip()
    try:
        return None, _unmapped(ipaddress.ip_network(text, strict=False))
    except ValueError:
        pass
    if "/" in text:
        raise UsageError(
            f"allow-target entry {entry!r} is not a valid CIDR; write it like 192.0.2.0/24 or 2001:db8::/32"
        )
    if not _HOSTNAME_RE.match(text):
        raise UsageError(
            f"allow-target entry {entry!r} is neither a host name nor a CIDR; give a bare host name "
            "(no scheme, no port) or an address range like 192.0.2.0/24"
        )
    literal = _literal_address(text.lower())
    if literal is not None:
        literal = _normalise(literal)
        return None, ipaddress.ip_network(literal)
    return text.lower().rstrip("."), None


#: IP-literal targets a policy remembers as checked
_LITERALS_MAX = 256


class TargetPolicy:
    """Which targets may be contacted: loopback always, plus the ``allow`` entries.

    An entry is a HOST name (matches the URL's host name exactly, case-insensitively; then every
    address it resolves to is allowed) or a CIDR / single address (matches resolved addresses).
    """

    def __init__(self, allow: Iterable[str] = (), *, resolver: Resolver | None = None) -> None:
        if isinstance(allow, str):
            allow = (allow,)
        self.allow: tuple[str, ...] = tuple(allow)
        hosts: set[str] = set()
        networks: list[IPNetwork] = list(LOOPBACK_NETWORKS)
        for entry in self.allow:
            host, network = _parse_allow(entry)
            if host is not None:
                hosts.add(host)
            if network is not None:
                networks.append(network)
        self._hosts = frozenset(hosts)
        self._networks = tuple(networks)
        self.resolver: Resolver = resolver or system_resolver
        #: (host, port) of an IP-literal target -> its checked addresses: nothing is resolved for
        #: a literal, and what is allowed never changes, so a sender posting to the same address
        #: on every attempt checks it once (a name is resolved and checked on every attempt)
        self._literals: dict[tuple[str, int], tuple[ResolvedAddress, ...]] = {}

    def __repr__(self) -> str:
        return f"TargetPolicy(allow={list(self.allow)!r})"

    def address_allowed(self, address: str) -> bool:
        """Whether one address (any textual form the OS accepts) is allowed."""
        parsed = _literal_address(address)
        if parsed is None:
            return False
        parsed = _normalise(parsed)
        return any(parsed.version == net.version and parsed in net for net in self._networks)

    def check(self, url: str | Target) -> list[ResolvedAddress]:
        """Resolve the target's host and return its addresses, all of them allowed.

        Raises :class:`UsageError` for a malformed URL, :class:`TargetNotAllowed` when any
        resolved address is not allowed, :class:`ResolutionFailed` when the name does not resolve.
        """
        target = url if isinstance(url, Target) else parse_target(url)
        known = self._literals.get((target.host, target.port))
        if known is not None:
            return list(known)
        literal = _literal_address(target.host)
        if literal is not None:
            raw = [str(literal)]
        else:
            raw = list(self.resolver(target.host, target.port))
            if not raw:
                raise ResolutionFailed(f"host {target.host!r} resolved to no address")
        host_allowed = target.host.rstrip(".") in self._hosts
        resolved: list[ResolvedAddress] = []
        for text in raw:
            parsed = _literal_address(text)
            if parsed is None:
                raise ResolutionFailed(f"host {target.host!r} resolved to {text!r}, which is not an address")
            addr = _normalise(parsed)
            if not host_allowed and not any(
                addr.version == net.version and addr in net for net in self._networks
            ):
                if literal is not None:
                    shown = "" if str(addr) == target.host else f" (address {addr})"
                    what = f"host {target.host!r}{shown}"
                    hint = f"--allow-target {addr}"
                else:
                    what = f"host {target.host!r} resolves to {addr}, which"
                    hint = f"--allow-target {addr} or --allow-target {target.host}"
                raise TargetNotAllowed(
                    f"target {target.url!r}: {what} is not a loopback address; hookmock only sends to "
                    f"loopback by default. Allow it with {ALLOW_OPTION}, e.g. {hint}"
                )
            family = socket.AF_INET6 if addr.version == 6 else socket.AF_INET
            item = ResolvedAddress(address=str(addr), port=target.port, family=family)
            if item not in resolved:
                resolved.append(item)
        if literal is not None:
            if len(self._literals) >= _LITERALS_MAX:
                self._literals.clear()
            self._literals[(target.host, target.port)] = tuple(resolved)
        return resolved
