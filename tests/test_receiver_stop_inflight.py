"""Stopping a fake receiver ends the connections it had already accepted.

``stop()`` used to stop only the serving loop: a client that had sent half a body kept its
connection (and a handler thread) until it finished or a timeout hit, then got ``200 OK`` and its
request was recorded after the stop.  Now, once ``stop()`` returns, in-flight connections are
closed without an answer, nothing more is recorded, and their threads have ended.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time

import pytest

from hookmock.receiver.server import FakeReceiver

SECRET = "whsec_stop_inflight_0000000000"
HEAD = (
    b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/json\r\nContent-Length: 20\r\n\r\n"
)


def half_sent(receiver: FakeReceiver) -> socket.socket:
    """A connection that has sent the headers and half of a 20-byte body, waiting in the server."""
    raw = socket.create_connection(("127.0.0.1", receiver.port), timeout=5)
    sock: socket.socket = raw
    if receiver.tls:
        context = ssl.create_default_context(cafile=receiver.ca_file)
        sock = context.wrap_socket(raw, server_hostname="127.0.0.1")
    sock.sendall(HEAD + b'{"a": "01')
    server = receiver.server
    assert server is not None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the server is now reading the body
        with server._slots_lock:
            if any(slot.phase == "body" for slot in server._slots.values()):
                return sock
        time.sleep(0.01)
    raise AssertionError("the server never started reading the body")


def answer_after_stop(sock: socket.socket) -> bytes:
    """Dribble the rest of the body, then read what comes back (b"" if the server closed)."""
    data = b""
    with contextlib.suppress(OSError):
        for piece in (b"2345", b'6789"}\n'):
            sock.sendall(piece)
    sock.settimeout(3)
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except (ConnectionError, ssl.SSLError):
        pass
    except TimeoutError:
        raise AssertionError("the connection was still open 3 s after stop()") from None
    return data


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_stop_closes_a_connection_in_flight_and_records_nothing_after(tls: bool) -> None:
    before = set(threading.enumerate())
    receiver = FakeReceiver("moda", SECRET, tls=tls)
    receiver.start()
    try:
        sock = half_sent(receiver)
        started = time.monotonic()
        receiver.stop()
        took = time.monotonic() - started
        left = [t for t in threading.enumerate() if t not in before]  # right after stop() returned
        with sock:
            answer = answer_after_stop(sock)
    finally:
        if receiver.is_running():
            receiver.stop()
    assert took < 2, f"stop() took {took:.2f} s"
    assert b"HTTP/1.1" not in answer, answer[:200]
    assert left == [], f"threads still running after stop(): {left}"
    assert receiver.requests == []


def test_repeated_start_dribble_stop_cycles_leave_no_threads() -> None:
    before = set(threading.enumerate())
    receiver = FakeReceiver("moda", SECRET)
    sockets = []
    try:
        for _ in range(10):
            receiver.start()
            sockets.append(half_sent(receiver))
            receiver.stop()
        left = [t for t in threading.enumerate() if t not in before]
    finally:
        for sock in sockets:
            sock.close()
        if receiver.is_running():
            receiver.stop()
    assert left == [], f"{len(left)} threads still running after 10 cycles: {left[:3]}"
    assert receiver.requests == []


def test_a_receiver_still_serves_and_records_normally_until_stopped() -> None:
    with FakeReceiver("moda", SECRET) as receiver:
        with socket.create_connection(("127.0.0.1", receiver.port), timeout=5) as sock:
            sock.sendall(HEAD + b'{"a": "0123456789"}\n')
            data = sock.recv(4096)
        assert data.startswith(b"HTTP/1.1 200")
        assert receiver.wait_for(1, timeout=5)
    assert len(receiver.requests) == 1
