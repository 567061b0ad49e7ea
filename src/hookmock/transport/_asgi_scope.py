"""The ASGI scope of an in-process delivery (see :mod:`hookmock.transport.asgi`).

A new scope for every request (an app may change its own), built from parts of the target URL
kept once per URL: splitting, unquoting and encoding a URL on every delivery is work for nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

from ..errors import UsageError
from .apps import AppTarget

__all__ = ["build_scope"]

_RESERVED_HEADERS = frozenset({"host", "content-length", "connection", "transfer-encoding"})


def build_scope(
    target: AppTarget, headers: Mapping[str, str], body: bytes, remote_addr: str
) -> dict[str, Any]:
    """The HTTP scope of one POST of ``body`` with ``headers`` to ``target``, as a server builds it
    (header names lower-cased, values latin-1 without the optional whitespace around them)."""
    url = _url_parts(target.url)
    pairs: list[tuple[bytes, bytes]] = [url.host, (b"content-length", b"%d" % len(body))]
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise UsageError(f"header {name!r}: names and values must be strings")
        if "\r" in value or "\n" in value or "\0" in value:
            raise UsageError(f"header {name!r} has a line break in its value; remove it")
        lower = name.lower()
        if lower in _RESERVED_HEADERS:
            continue
        try:
            # without the optional whitespace around it, as a server parses the field line
            pairs.append((lower.encode("latin-1"), value.strip(" \t").encode("latin-1")))
        except UnicodeEncodeError as exc:
            raise UsageError(
                f"a header value is not latin-1 text: {exc.object[exc.start : exc.end]!r}"
            ) from None
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": url.scheme,
        "path": url.path,
        "raw_path": url.raw_path,
        "query_string": url.query_string,
        "root_path": "",
        "headers": pairs,
        "client": (remote_addr, 50000),
        "server": url.server,
        "state": {},
    }


class _URLParts(NamedTuple):
    """The parts of a target URL a scope holds (the scope itself is new for every request: an
    app may change it)."""

    scheme: str
    path: str
    raw_path: bytes
    query_string: bytes
    host: tuple[bytes, bytes]
    server: tuple[str, int]


#: per target URL (splitting and decoding one costs ~10 µs per delivery); bounded
_URLS: dict[str, _URLParts] = {}
_URLS_SIZE = 64


def _url_parts(url: str) -> _URLParts:
    found = _URLS.get(url)
    if found is not None:
        return found
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    raw_path = parts.path or "/"
    found = _URLParts(
        parts.scheme,
        unquote(raw_path),
        raw_path.encode("latin-1"),
        parts.query.encode("latin-1"),
        (b"host", parts.netloc.encode("latin-1")),
        (parts.hostname or "localhost", port),
    )
    if len(_URLS) >= _URLS_SIZE:
        _URLS.clear()
    _URLS[url] = found
    return found
