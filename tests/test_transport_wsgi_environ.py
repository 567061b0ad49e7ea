"""The WSGI transport's fast environ is exactly what werkzeug's EnvironBuilder builds."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder

from hookmock.transport.wsgi import WSGITransport

_RESERVED = {"host", "content-length", "connection", "transfer-encoding"}


def _reference(url: str, headers: dict[str, str], body: bytes, remote: str) -> dict[str, Any]:
    base, _, rest = url.partition("://")
    netloc, _, path = rest.partition("/")
    builder = EnvironBuilder(
        path="/" + path,
        base_url=f"{base}://{netloc}/",
        method="POST",
        headers=[(k, v) for k, v in headers.items() if k.lower() not in _RESERVED],
        data=body,
        environ_base={"REMOTE_ADDR": remote},
    )
    try:
        return builder.get_environ()
    finally:
        builder.close()


CASES = [
    ("http://localhost/", {"Content-Type": "application/json", "X-Sig": "t=1,v1=ab"}, b'{"a":1}'),
    ("https://shop.example:8443/hooks/moda?x=1&y=%20z", {"User-Agent": "ua/1", "X-A": "1"}, b""),
    (
        "http://localhost/caf%C3%A9/h%2Fk",
        {"x-a": "1", "X-A": "2", "Host": "evil", "Content-Length": "9"},
        b"xy",
    ),
    ("http://127.0.0.1:8000/h", {"content-type": "text/plain", "Connection": "close"}, b"\x00\xff" * 600),
]


@pytest.mark.parametrize(("url", "headers", "body"), CASES)
def test_environ_matches_environ_builder(url: str, headers: dict[str, str], body: bytes) -> None:
    transport = WSGITransport(remote_addr="10.1.2.3")
    for _ in range(2):  # the second build comes from the cached base
        fast = transport._environ(url, headers, body)
        ref = _reference(url, headers, body, "10.1.2.3")
        assert fast.pop("wsgi.input").read() == ref.pop("wsgi.input").read() == body
        assert fast.pop("wsgi.errors") is ref.pop("wsgi.errors") is sys.stderr
        assert fast == ref


def test_environs_are_independent() -> None:
    transport = WSGITransport()
    first = transport._environ("http://localhost/", {"X-A": "1"}, b"one")
    first["PATH_INFO"] = "/changed"
    second = transport._environ("http://localhost/", {}, b"two")
    assert second["PATH_INFO"] == "/" and "HTTP_X_A" not in second
    assert second["wsgi.input"].read() == b"two" and first["wsgi.input"].read() == b"one"
