"""An ``Expect`` header other than ``100-continue`` is answered 417 ``expectation_failed``.

The server ignored an expectation it did not know (``Expect: foo``) and answered as if it had been
met.  RFC 9110 section 10.1.1 lets a server answer 417 to an expectation it cannot meet: hookmock's
servers now do, in the server's JSON error body (Moda's shape on the emulator), before any body is
read; ``100-continue`` (any case) still gets its ``100 Continue``, and an HTTP/1.0 request's
``100-continue`` is ignored as the RFC says.  The check is in the HTTP layer every hookmock server
shares, so the fake receiver answers the same.  Real HTTP over loopback, written byte for byte.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from emulator_support import running
from hookmock.receiver.server import FakeReceiver

BODY = b'{"prompt": "a poster"}'


@pytest.fixture(scope="module")
def emu() -> Iterator[Any]:
    with running() as (emulator, _api):
        yield emulator


def exchange(port: int, head: bytes, body: bytes = b"", *, after_interim: bool = False) -> bytes:
    """Send ``head``; send ``body`` at once, or only after a ``100 Continue`` (``after_interim``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head if after_interim else head + body)
        data = b""
        if after_interim:
            while b"\r\n\r\n" not in data and (chunk := sock.recv(65536)):
                data += chunk
            if data.startswith(b"HTTP/1.1 100"):
                sock.sendall(body)
        while chunk := sock.recv(65536):
            data += chunk
    return data


def _head(emu: Any, method: str, expect: str | None, *, version: str = "HTTP/1.1", length: int = 0) -> bytes:
    lines = [f"{method} /v1/tasks {version}", "Host: 127.0.0.1", f"Authorization: Bearer {emu.api_key}"]
    if expect is not None:
        lines.append(f"Expect: {expect}")
    if length:
        lines += ["Content-Type: application/json", f"Content-Length: {length}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _error(data: bytes) -> dict[str, Any]:
    error: dict[str, Any] = json.loads(data.partition(b"\r\n\r\n")[2])["error"]
    return error


@pytest.mark.parametrize("expect", ["foo", "100-continue, foo", "200-ok", "100-continue=1"])
def test_an_unknown_expectation_is_417_naming_it(emu: Any, expect: str) -> None:
    data = exchange(emu.port, _head(emu, "GET", expect))
    assert data.startswith(b"HTTP/1.1 417 Expectation Failed\r\n"), data[:200]
    error = _error(data)
    assert (error["type"], error["code"]) == ("invalid_request", "expectation_failed")
    unknown = expect.replace("100-continue, ", "")
    assert f"Expect: {unknown!r} is not an expectation" in error["message"]
    assert "100-continue" in error["message"]
    assert b"\r\nContent-Type: application/json\r\n" in data


def test_a_post_with_an_unknown_expectation_is_answered_before_its_body(emu: Any) -> None:
    before = emu.core.store.count_tasks()
    # the body is sent only after an interim 100: the 417 must come without it
    data = exchange(emu.port, _head(emu, "POST", "foo", length=len(BODY)), BODY, after_interim=True)
    assert data.startswith(b"HTTP/1.1 417"), data[:200]
    assert emu.core.store.count_tasks() == before  # nothing was made


@pytest.mark.parametrize("expect", ["100-continue", "100-Continue"])
def test_100_continue_is_still_met(emu: Any, expect: str) -> None:
    data = exchange(emu.port, _head(emu, "POST", expect, length=len(BODY)), BODY, after_interim=True)
    assert data.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202"), data[:200]


def test_100_continue_in_http_1_0_is_ignored(emu: Any) -> None:
    data = exchange(emu.port, _head(emu, "POST", "100-continue", version="HTTP/1.0", length=len(BODY)), BODY)
    assert b" 100 " not in data.split(b"\r\n", 1)[0]
    assert b" 202 " in data.split(b"\r\n", 1)[0], data[:200]


def test_an_empty_expect_header_is_no_expectation(emu: Any) -> None:
    assert exchange(emu.port, _head(emu, "GET", "")).startswith(b"HTTP/1.1 200")


def test_the_api_key_in_an_expect_value_is_redacted(emu: Any) -> None:
    data = exchange(emu.port, _head(emu, "GET", emu.api_key))
    assert data.startswith(b"HTTP/1.1 417")
    assert emu.api_key.encode() not in data


def test_the_fake_receiver_answers_417_too_and_records_nothing() -> None:
    with FakeReceiver("moda", "whsec_expect_0000000000") as receiver:
        head = (
            b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: foo\r\n"
            b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n"
        )
        data = exchange(receiver.port, head, b"{}", after_interim=True)
    assert data.startswith(b"HTTP/1.1 417"), data[:200]
    assert receiver.requests == []
