"""Header sections a server must (or, for obs-fold, may) reject, and a body cut off by a
half-close, against the emulator and the fake receiver over raw loopback sockets.

Each used to be served: ``Content-Length : 13`` (whitespace before the colon, RFC 9112 section
5.1: MUST be 400) left the request without a length and answered 200; a NUL or another control
character in a value (RFC 9110 section 5.5) was handed to the application; a folded line (obs-fold,
RFC 9112 section 5.2) was merged into the field before it; a ``Content-Length`` body ended by the
client closing its side got werkzeug's generic "The browser (or proxy) sent a request that this
server could not understand".  Now each is a 400 in the server's JSON error body that names the
line, the character, or the bytes expected and received.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from hookmock import Emulator, EmulatorConfig
from hookmock.receiver.server import FakeReceiver
from test_hostile_framing import moda_error, parse, read_to_eof

BODY = b'{"seconds":1}'


def head(path: str, fields: list[bytes]) -> bytes:
    return b"\r\n".join([f"POST {path} HTTP/1.1".encode(), b"Host: 127.0.0.1", *fields]) + b"\r\n\r\n"


def cases(auth: bytes) -> dict[str, tuple[bytes, str]]:
    """name -> (raw request, a piece of the error message)"""
    json_type = b"Content-Type: application/json"
    return {
        "space before colon": (
            head("{path}", [auth, json_type, b"Content-Length : 13"]) + BODY,
            "'Content-Length : 13' is not a 'Name: value' field",
        ),
        "space before colon after a multipart type": (
            head("{path}", [auth, b"Content-Type: multipart/form-data; boundary=x", b"Content-Length : 13"])
            + BODY,
            "'Content-Length : 13' is not a 'Name: value' field",
        ),
        "tab before colon": (
            head("{path}", [auth, json_type, b"Content-Length\t: 13"]) + BODY,
            "is not a 'Name: value' field",
        ),
        "NUL in a value": (
            head("{path}", [auth, json_type, b"X-A: a\x00b", b"Content-Length: 13"]) + BODY,
            "X-A header value holds the control character '\\x00'",
        ),
        "ESC in a value": (
            head("{path}", [auth, json_type, b"X-A: a\x1bb", b"Content-Length: 13"]) + BODY,
            "'\\x1b'",
        ),
        "DEL in a value": (
            head("{path}", [auth, json_type, b"X-A: a\x7fb", b"Content-Length: 13"]) + BODY,
            "'\\x7f'",
        ),
        "obs-fold": (
            head("{path}", [auth, json_type, b" Content-Length: 13", b"Content-Length: 13"]) + BODY,
            "' Content-Length: 13' is folded (obs-fold)",
        ),
        "obs-fold with a tab": (
            head("{path}", [auth, json_type, b"X-A: a", b"\tmore", b"Content-Length: 13"]) + BODY,
            "'\\tmore' is folded (obs-fold)",
        ),
        "obs-fold as the first field, with a multipart type": (
            head("{path}", [b" X-A: a", auth, b"Content-Type: multipart/form-data; boundary=x"]) + BODY,
            "' X-A: a' is folded (obs-fold)",
        ),
        "obs-fold as the first field": (
            head("{path}", [b" X-A: a", auth, json_type, b"Content-Length: 13"]) + BODY,
            "' X-A: a' is folded (obs-fold)",
        ),
    }


def exchange(port: int, raw: bytes, *, half_close: bool = False) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return read_to_eof(sock, 10)[0]


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    emulator = Emulator(EmulatorConfig(port=0, clock="virtual")).start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.mark.parametrize("name", list(cases(b"")))
def test_the_emulator_refuses_the_header_section_with_400_naming_the_problem(emulator, name) -> None:
    auth = f"Authorization: Bearer {emulator.api_key}".encode()
    before = emulator.core.clock.now_ns()
    raw, message = cases(auth)[name]
    data = exchange(emulator.port, raw.replace(b"{path}", b"/_hookmock/clock/advance"))
    error = moda_error(data, 400)
    assert message in error["error"]["message"], error
    assert emulator.core.clock.now_ns() == before  # the request never reached the application


@pytest.mark.parametrize("name", list(cases(b"")))
def test_the_fake_receiver_refuses_the_header_section_with_400_naming_the_problem(name) -> None:
    raw, message = cases(b"X-Auth: x")[name]
    with FakeReceiver("moda") as receiver:
        data = exchange(receiver.port, raw.replace(b"{path}", b"/webhook"))
        status, headers, body = parse(data)
        assert (status, headers["content-type"]) == (400, "application/json"), data[:400]
        assert message in json.loads(body)["error"]["message"]
        assert receiver.requests == []  # nothing was recorded as a delivery


def test_plain_fields_with_a_tab_in_a_value_are_still_served(emulator) -> None:
    auth = f"Authorization: Bearer {emulator.api_key}".encode()
    raw = head(
        "/_hookmock/clock/advance",
        [auth, b"Content-Type: application/json", b"X-A: a\tb", b"Content-Length: 13"],
    )
    assert parse(exchange(emulator.port, raw + BODY))[0] == 200
    with FakeReceiver("moda") as receiver:
        raw = head("/webhook", [b"X-A: a\tb", b"Content-Length: 13"]) + BODY
        assert parse(exchange(receiver.port, raw))[0] == 200
        assert ("X-A", "a\tb") in receiver.requests[0].headers


def test_a_body_cut_off_by_a_half_close_is_400_naming_the_bytes(emulator) -> None:
    auth = f"Authorization: Bearer {emulator.api_key}".encode()
    raw = head("/_hookmock/clock/advance", [auth, b"Content-Type: application/json", b"Content-Length: 13"])
    error = moda_error(exchange(emulator.port, raw + BODY[:5], half_close=True), 400)
    message = error["error"]["message"]
    assert "Content-Length is 13 bytes, 5 arrived" in message, error
    assert "browser" not in message
    with FakeReceiver("moda") as receiver:
        raw = head("/webhook", [b"Content-Type: application/json", b"Content-Length: 13"]) + BODY[:5]
        status, headers, body = parse(exchange(receiver.port, raw, half_close=True))
        assert (status, headers["content-type"]) == (400, "application/json"), body
        assert "Content-Length is 13 bytes, 5 arrived" in json.loads(body)["error"]["message"]
