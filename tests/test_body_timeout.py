"""A request body that stops arriving gets 408 ``request_timeout``, over real loopback sockets.

The emulator used to answer a stalled ``Content-Length`` body with werkzeug's generic 400 ("The
browser (or proxy) sent a request that this server could not understand."), a stalled chunked
body with a 500, and the fake receiver closed the connection without an answer.  Now each says
408 in its JSON error body, with what was expected and what arrived before the deadline.  The body
deadline is shortened (``ServerLimits(body_timeout=...)``) so the tests wait half a second.
"""

from __future__ import annotations

import json
import socket
import time

import pytest

from hookmock import Emulator, EmulatorConfig, ServerLimits, validate
from hookmock.receiver.server import FakeReceiver

LIMITS = ServerLimits(body_timeout=0.5, idle_timeout=5)
BODY = b'{"prompt": "x"}'  # 15 bytes; one fewer is sent


def post_head(path: str, extra: list[str]) -> list[str]:
    return [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json", *extra]


def send_stalled(port: int, path: str, extra: list[str], body: bytes):
    lines = post_head(path, extra)
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        start = time.monotonic()
        sock.sendall(raw)
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass
        seconds = time.monotonic() - start
    head_text, _, rest = data.partition(b"\r\n\r\n")
    assert head_text, "the server closed the connection without an answer"
    status_line, *header_lines = head_text.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    length = int(headers.get("content-length", len(rest)))
    return int(status_line.split(" ", 2)[1]), headers, rest[:length], seconds


@pytest.fixture(scope="module")
def emulator():
    emulator = Emulator(EmulatorConfig(port=0, clock="virtual"), limits=LIMITS).start()
    try:
        yield emulator
    finally:
        emulator.stop()


def auth(emulator: Emulator) -> list[str]:
    return [f"Authorization: Bearer {emulator.api_key}"]


@pytest.mark.realtime
def test_a_stalled_content_length_body_gets_408_from_the_emulator(emulator) -> None:
    extra = [*auth(emulator), f"Content-Length: {len(BODY)}"]
    status, headers, body, seconds = send_stalled(emulator.port, "/v1/tasks", extra, BODY[:-1])
    assert status == 408, body
    error = json.loads(body)
    validate(error, "moda-error")
    assert error["error"]["code"] == "request_timeout"
    assert error["error"]["type"] == "invalid_request"
    assert error["error"]["request_id"] == headers["x-request-id"]
    message = error["error"]["message"]
    assert "Content-Length is 15 bytes, 14 arrived before the deadline" in message, message
    assert "could not understand" not in message
    assert headers["content-type"] == "application/json"
    assert 0.4 < seconds < 3


@pytest.mark.realtime
def test_a_stalled_chunked_body_gets_408_from_the_emulator(emulator) -> None:
    extra = [*auth(emulator), "Transfer-Encoding: chunked"]
    chunked = b"%x\r\n%s\r\n" % (len(BODY), BODY)  # no last chunk: the body never ends
    status, _, body, seconds = send_stalled(emulator.port, "/v1/tasks", extra, chunked)
    assert status == 408, body
    error = json.loads(body)
    validate(error, "moda-error")
    assert error["error"]["code"] == "request_timeout"
    assert "15 bytes decoded before the deadline" in error["error"]["message"]
    assert 0.4 < seconds < 3


@pytest.mark.realtime
def test_a_stalled_body_gets_408_from_the_fake_receiver() -> None:
    with FakeReceiver("moda", limits=LIMITS) as receiver:
        extra = [f"Content-Length: {len(BODY)}"]
        status, headers, body, seconds = send_stalled(receiver.port, "/webhook", extra, BODY[:-1])
        assert receiver.wait_for(1, timeout=5)
    assert status == 408, body
    assert headers["content-type"] == "application/json"
    error = json.loads(body)["error"]
    assert (error["status"], error["code"]) == (408, "request_timeout")
    assert "Content-Length is 15 bytes, 14 arrived before the deadline" in error["message"]
    assert 0.4 < seconds < 3
    [item] = receiver.requests
    assert item.status == 408 and item.body == BODY[:-1]
