"""Hostile HTTP framing against every hookmock server, over raw loopback sockets.

Chunked bodies (over the limit, malformed, with extensions and trailers), Content-Length games,
pipelined requests, early answers with the body still coming, oversized request lines and
headers, slow and silent clients, many idle connections, a silent TLS client.  Each server must
answer with a JSON error body (the emulator: Moda's), never HTML or a 5xx, close the connection
after its answer, and keep answering others.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from emulator_support import running
from hookmock import Emulator, EmulatorConfig, ServerLimits, VirtualClock, validate
from hookmock.receiver.faults import Hang
from hookmock.receiver.server import FakeReceiver

LIMIT = 4096


# -- raw HTTP ---------------------------------------------------------------------------------
def connect(port: int, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def read_to_eof(sock: socket.socket, timeout: float = 5.0) -> tuple[bytes, bool, float]:
    """Everything until the server closes: ``(data, closed, seconds)``; ``closed`` is False when
    the server kept the connection open for ``timeout`` seconds."""
    sock.settimeout(timeout)
    start = time.monotonic()
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data, True, time.monotonic() - start
            data += chunk
    except TimeoutError:
        return data, False, time.monotonic() - start
    except ConnectionResetError:
        return data, True, time.monotonic() - start


def exchange(port: int, data: bytes, timeout: float = 5.0) -> tuple[bytes, bool, float]:
    """Send ``data`` (without closing our side) and read until the server closes."""
    with connect(port, timeout) as sock:
        sock.sendall(data)
        return read_to_eof(sock, timeout)


def parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """The first response in ``raw``: status, headers (lower-cased names), body."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", len(rest)))
    return status, headers, rest[:length]


def responses(raw: bytes) -> int:
    return raw.count(b"HTTP/1.1 ")


def moda_error(raw: bytes, status: int, code: str | None = None) -> dict:
    got, headers, body = parse(raw)
    assert got == status, raw[:600]
    assert headers["content-type"] == "application/json", raw[:600]
    parsed = json.loads(body)
    validate(parsed, "moda-error")
    assert parsed["error"]["request_id"] == headers["x-request-id"]
    assert parsed["error"]["message"]
    if code is not None:
        assert parsed["error"]["code"] == code, parsed
    return parsed


def request(method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(body: bytes, size: int = 1000) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def task_count(api) -> int:
    return int(api.get("/_hookmock/ready")["tasks"])


@pytest.fixture(scope="module")
def emulator():
    with running(max_body_bytes=LIMIT, allow_http_callbacks=True) as (emu, api):
        yield emu, api


def task_body(total: int, tail: bytes = b"") -> bytes:
    """A valid task request padded with spaces to ``total`` bytes, then ``tail``."""
    doc = json.dumps({"prompt": "framing", "callback_url": "http://127.0.0.1:9/hook"}).encode()
    return doc + b" " * (total - len(doc)) + tail


# -- body limits ------------------------------------------------------------------------------
@pytest.mark.parametrize("framing", ["chunked", "content-length"])
def test_a_body_over_the_limit_is_413_in_either_framing(emulator, framing):
    """A chunked body used to be cut at the limit: a valid JSON prefix followed by garbage got 202."""
    emu, api = emulator
    before = task_count(api)
    body = task_body(LIMIT, tail=b"garbage that makes the whole body invalid JSON")
    headers = {"Authorization": f"Bearer {emu.api_key}", "Content-Type": "application/json"}
    if framing == "chunked":
        raw = request("POST", "/v1/tasks", {**headers, "Transfer-Encoding": "chunked"}, chunked(body))
    else:
        raw = request("POST", "/v1/tasks", {**headers, "Content-Length": str(len(body))}, body)
    data, closed, _ = exchange(emu.port, raw)
    error = moda_error(data, 413, "body_too_large")
    assert str(LIMIT) in error["error"]["message"]
    assert closed and task_count(api) == before


def test_a_chunked_body_of_exactly_the_limit_is_accepted(emulator):
    emu, api = emulator
    before = task_count(api)
    headers = {
        "Authorization": f"Bearer {emu.api_key}",
        "Content-Type": "application/json",
        "Transfer-Encoding": "chunked",
    }
    data, _, _ = exchange(emu.port, request("POST", "/v1/tasks", headers, chunked(task_body(LIMIT), 333)))
    assert parse(data)[0] == 202, data[:400]
    assert task_count(api) == before + 1


def test_content_length_over_the_limit_is_refused_before_100_continue(emulator):
    emu, _api = emulator
    headers = {"Content-Length": str(LIMIT + 1), "Expect": "100-continue", "Content-Type": "application/json"}
    data, closed, _ = exchange(emu.port, request("POST", "/_hookmock/reset", headers))
    assert not data.startswith(b"HTTP/1.1 100")
    moda_error(data, 413, "body_too_large")
    assert closed


# -- errors answered before the application: Moda's body, never werkzeug's HTML ---------------
FRAMING_ERRORS = [
    ("request line too long", b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 414),
    ("header line too long", request("GET", "/_hookmock/health", {"X-Big": "a" * 70_000}), 431),
    (
        "headers too large",
        request("GET", "/_hookmock/health", {f"X-H{i}": "a" * 900 for i in range(90)}),
        431,
    ),
    ("too many headers", request("GET", "/_hookmock/health", {f"X-H{i}": "1" for i in range(150)}), 431),
    ("one word", b"GARBAGE\r\n\r\n", 400),
    ("HTTP/0.9", b"GET /_hookmock/health\r\n\r\n", 400),
    ("bad version", b"GET / FOO/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400),
    ("HTTP/2 line", b"GET / HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", 505),
    ("control byte in target", b"GET /a\x01b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400),
    ("empty line", b"\r\n\r\n", 400),
    (
        "Content-Length and chunked",
        request(
            "POST",
            "/_hookmock/clock/advance",
            {"Content-Length": "2", "Transfer-Encoding": "chunked"},
            b"0\r\n\r\n",
        ),
        400,
    ),
    (
        "two Content-Lengths",
        request("POST", "/_hookmock/clock/advance", {"Content-Length": "1, 2"}, b"{}"),
        400,
    ),
    ("negative Content-Length", request("POST", "/_hookmock/clock/advance", {"Content-Length": "-1"}), 400),
    ("gzip transfer coding", request("POST", "/_hookmock/clock/advance", {"Transfer-Encoding": "gzip"}), 501),
    (
        "bad chunk size",
        request(
            "POST",
            "/_hookmock/clock/advance",
            {"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        )
        + b"zz\r\n{}\r\n0\r\n\r\n",
        400,
    ),
    (
        "huge chunk size",
        request(
            "POST",
            "/_hookmock/clock/advance",
            {"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        )
        + b"ffffffffffffffff\r\n{}",
        413,
    ),
    (
        "chunk without CRLF",
        request(
            "POST",
            "/_hookmock/clock/advance",
            {"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        )
        + b"2\r\n{}XX0\r\n\r\n",
        400,
    ),
]


@pytest.mark.parametrize(
    ("raw", "status"), [c[1:] for c in FRAMING_ERRORS], ids=[c[0] for c in FRAMING_ERRORS]
)
def test_framing_errors_get_modas_error_body(emulator, raw, status):
    emu, _api = emulator
    data, closed, _ = exchange(emu.port, raw)
    moda_error(data, status)
    assert closed and responses(data) == 1


def test_chunk_extensions_and_trailers_are_legal():
    """RFC 9112 allows ``2;a=b`` and trailer fields; the listener used to answer 500 for them."""
    with FakeReceiver("moda") as receiver:
        body = b'2;a=b\r\nhi\r\n3 ; name="v"\r\n!!!\r\n0\r\nX-Trailer: 1\r\n\r\n'
        raw = request("POST", "/webhook", {"Transfer-Encoding": "chunked"}, body)
        data, closed, _ = exchange(receiver.port, raw)
        assert parse(data)[0] == 200 and closed
        assert [r.body for r in receiver.requests] == [b"hi!!!"]


def test_the_fake_receiver_answers_framing_errors_in_json():
    limits = ServerLimits(max_body_bytes=LIMIT)
    with FakeReceiver("moda", limits=limits) as receiver:
        for raw, status in [
            (request("POST", "/webhook", {"Transfer-Encoding": "chunked"}, chunked(b"x" * (LIMIT + 1))), 413),
            (request("POST", "/webhook", {"Content-Length": str(LIMIT + 1)}, b"x" * (LIMIT + 1)), 413),
            (request("POST", "/webhook", {"Transfer-Encoding": "chunked"}, b"2;a\r\nhi\r\nnope\r\n"), 400),
            (request("GET", "/", {"X-Big": "a" * 70_000}), 431),
            (b"NOT HTTP\r\n\r\n", 400),
        ]:
            data, closed, _ = exchange(receiver.port, raw)
            got, headers, body = parse(data)
            assert (got, headers["content-type"]) == (status, "application/json"), data[:300]
            assert json.loads(body)["error"]["status"] == status and closed
        # nothing over the limit reached the record (the 400 is a body cut short: recorded as sent)
        assert all(len(r.body) <= LIMIT for r in receiver.requests)


# -- one answer, then a real close ------------------------------------------------------------
@pytest.mark.parametrize("early", ["413", "401"])
def test_an_early_answer_closes_the_connection_while_the_body_is_still_coming(emulator, early):
    """After an early 413 or 401 the server used to keep reading the body (up to 10 GB) instead
    of closing as its ``Connection: close`` said; a client still sending was never told."""
    emu, _api = emulator
    headers = {"Connection": "close", "Content-Type": "application/json"}
    if early == "413":
        headers |= {"Authorization": f"Bearer {emu.api_key}", "Content-Length": str(LIMIT * 1000)}
    else:
        headers |= {"Content-Length": str(LIMIT - 100)}
    data, closed = b"", False
    with connect(emu.port) as sock:
        sock.sendall(request("POST", "/v1/tasks", headers, b'{"prompt": '))
        start = time.monotonic()
        while time.monotonic() - start < 5 and not closed:  # keep sending, as a client streaming a body
            if select.select([sock], [], [], 0.002)[0]:
                try:
                    chunk = sock.recv(65536)
                except ConnectionResetError:
                    chunk = b""
                data += chunk
                closed = not chunk
            else:
                with contextlib.suppress(OSError):
                    sock.sendall(b" " * 8192)
        seconds = time.monotonic() - start
    moda_error(data, int(early))
    assert closed and seconds < 1.5, f"the connection stayed open {seconds:.1f} s after the answer"
    assert parse(data)[1]["connection"] == "close" and responses(data) == 1


def test_an_unread_body_is_never_parsed_as_a_request(emulator):
    emu, api = emulator
    api.post("/v1/tasks", {"prompt": "keep me", "callback_url": "http://127.0.0.1:9/hook"})
    before = task_count(api)
    smuggled = request("POST", "/_hookmock/reset", {"Content-Length": "0"})
    headers = {"Content-Length": str(len(smuggled)), "Connection": "keep-alive"}
    data, closed, _ = exchange(emu.port, request("POST", "/v1/tasks", headers, smuggled))
    moda_error(data, 401)
    assert closed and responses(data) == 1
    assert task_count(api) == before > 0


def test_pipelined_requests_get_one_answer_then_a_close(emulator):
    emu, api = emulator
    api.post("/v1/tasks", {"prompt": "keep me", "callback_url": "http://127.0.0.1:9/hook"})
    before = task_count(api)
    pipelined = request("GET", "/_hookmock/health") + request("POST", "/_hookmock/reset") * 3
    data, closed, seconds = exchange(emu.port, pipelined)
    assert parse(data)[0] == 200 and responses(data) == 1
    assert closed and seconds < 3, "the connection was left open after Connection: close"
    assert task_count(api) == before


# -- slow, silent and many clients ------------------------------------------------------------
@pytest.mark.realtime
def test_a_silent_connection_is_closed_after_the_idle_timeout():
    with (
        FakeReceiver("moda", limits=ServerLimits(idle_timeout=0.4)) as receiver,
        connect(receiver.port) as sock,
    ):
        data, closed, seconds = read_to_eof(sock, timeout=5)
    assert (data, closed) == (b"", True) and 0.3 < seconds < 2.5


@pytest.mark.realtime
def test_a_slow_header_client_gets_408_at_the_header_timeout():
    """One header byte every 50 ms used to hold a connection (and a thread) for as long as it liked."""
    limits = ServerLimits(header_timeout=0.5, idle_timeout=5)
    emulator = Emulator(EmulatorConfig(port=0, clock="virtual"), limits=limits).start()
    try:
        with connect(emulator.port) as sock:
            start = time.monotonic()
            sock.sendall(b"GET /_hookmock/health HTTP/1.1\r\n")
            for _ in range(100):  # 5 s of dribbling, unless the server answers first
                if select.select([sock], [], [], 0.05)[0]:
                    break
                sock.sendall(b"X")
            data, closed, _ = read_to_eof(sock, timeout=5)
            seconds = time.monotonic() - start
        moda_error(data, 408, "request_timeout")
        assert closed and seconds < 2.5
    finally:
        emulator.stop()


@contextmanager
def idle_sockets(port: int, count: int) -> Iterator[list[socket.socket]]:
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sockets.append(connect(port))
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def test_idle_connections_cannot_starve_a_health_check():
    """2,000 idle connections used to take a thread each; /_hookmock/health stopped answering."""
    threads_before = threading.active_count()
    emu = Emulator(EmulatorConfig(port=0, clock="virtual"), limits=ServerLimits(max_connections=32)).start()
    try:
        with idle_sockets(emu.port, 300):
            start = time.monotonic()
            data, _closed, _ = exchange(emu.port, request("GET", "/_hookmock/health"))
            assert parse(data)[0] == 200 and time.monotonic() - start < 2
            assert emu._server is not None and emu._server.connection_count <= 32
            assert threading.active_count() - threads_before <= 32 + 8
    finally:
        emu.stop()


@pytest.mark.realtime
def test_stalled_bodies_cannot_starve_a_health_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slow-body clients (headers sent, the body a byte now and then) fill every slot; a new client
    is still answered: the body that has stalled longest is closed to make room."""
    monkeypatch.setattr("hookmock._util.serving.STALL_S", 0.3)  # 1 s by default: the same, sooner
    emu = Emulator(EmulatorConfig(port=0, clock="virtual"), limits=ServerLimits(max_connections=3)).start()
    headers = {"Content-Length": "100", "Content-Type": "application/json"}
    slow = [connect(emu.port) for _ in range(3)]
    try:
        for sock in slow:
            sock.sendall(request("POST", "/_hookmock/clock/advance", headers, b'{"seconds"'))
        time.sleep(0.6)  # past the stall allowance (real time is the thing under test)
        start = time.monotonic()
        data, _closed, _ = exchange(emu.port, request("GET", "/_hookmock/health"))
        assert parse(data)[0] == 200 and time.monotonic() - start < 2
        closed = [read_to_eof(sock, timeout=0.5)[1] for sock in slow]
        assert closed.count(True) >= 1
    finally:
        for sock in slow:
            sock.close()
        emu.stop()


@pytest.mark.realtime
def test_when_every_connection_is_busy_a_new_one_gets_503():
    clock = VirtualClock()
    limits = ServerLimits(max_connections=2)
    with FakeReceiver("moda", clock=clock, grace=1.5, limits=limits) as receiver:
        receiver.respond_with(Hang())
        busy = [connect(receiver.port), connect(receiver.port)]
        try:
            for sock in busy:
                sock.sendall(request("POST", "/webhook", {"Content-Length": "2"}, b"{}"))
            deadline = time.monotonic() + 5
            while len(receiver.requests) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            data, closed, _ = exchange(receiver.port, request("GET", "/"))
            status, headers, body = parse(data)
            assert (status, headers["retry-after"]) == (503, "1") and closed
            assert json.loads(body)["error"]["code"] == "too_many_connections"
        finally:
            for sock in busy:
                sock.close()


def test_a_silent_tls_client_does_not_block_other_clients():
    """The TLS handshake used to run in the accept loop: one silent client blocked every other."""
    with FakeReceiver("moda", tls=True) as receiver, connect(receiver.port) as _silent:
        context = ssl.create_default_context(cafile=receiver.ca_file)
        opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), urllib.request.ProxyHandler({})
        )
        req = urllib.request.Request(receiver.url, data=b"{}", method="POST")
        start = time.monotonic()
        with opener.open(req, timeout=5) as response:
            assert response.status == 200
        assert time.monotonic() - start < 2


def test_server_limits_are_checked():
    from hookmock import UsageError

    for bad in (
        {"idle_timeout": 0},
        {"header_timeout": -1.0},
        {"max_connections": 0},
        {"max_body_bytes": -5},
    ):
        with pytest.raises(UsageError, match=next(iter(bad))):
            ServerLimits(**bad)
    with pytest.raises(UsageError, match="ServerLimits"):
        FakeReceiver("moda", limits={"idle_timeout": 1})  # type: ignore[arg-type]
