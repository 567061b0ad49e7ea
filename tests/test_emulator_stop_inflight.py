"""Stopping the emulator ends the connections it had already accepted.

``Emulator.stop()`` used to stop only the serving loop: a client holding a connection (idle, a
request head or a body still arriving) kept a serving thread alive after ``stop()`` returned, that
thread could then run the app on a closed database, and the client got its answer late or never.
Now, once ``stop()`` returns, every connection it held is closed without an answer and its thread
has ended, as the fake receiver does.  Real sockets over loopback.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

import pytest

from hookmock.emulator import Emulator, EmulatorConfig

BODY = b'{"prompt": "a poster for the summer fair"}'


def _head(emu: Emulator) -> bytes:
    return (
        b"POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + f"Authorization: Bearer {emu.api_key}\r\n".encode()
        + b"Content-Type: application/json\r\n"
        + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
    )


#: what each client has sent when stop() is called, and the phase the server is then in
SENT = {
    "idle": (lambda emu: b"", "idle"),
    "half a head": (lambda emu: _head(emu)[:40], "head"),
    "half a body": (lambda emu: _head(emu) + BODY[:10], "body"),
}


def _in_flight(emu: Emulator, sent: bytes, phase: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", emu.port), timeout=5)
    sock.sendall(sent)
    server = emu._server
    assert server is not None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the server holds it, in that phase
        with server._slots_lock:
            if any(slot.phase == phase and slot.thread is not None for slot in server._slots.values()):
                return sock
        time.sleep(0.01)
    raise AssertionError(f"the server never held a connection in phase {phase!r}")


def _after_stop(sock: socket.socket) -> bytes:
    """Send the rest, then read what comes back: b"" once the server has closed the connection."""
    with contextlib.suppress(OSError):
        sock.sendall(BODY)
    sock.settimeout(3)
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except ConnectionError:
        pass
    except TimeoutError:
        raise AssertionError("the connection was still open 3 s after stop()") from None
    return data


@pytest.mark.parametrize("case", sorted(SENT))
def test_stop_closes_a_connection_in_flight_and_joins_its_thread(case: str) -> None:
    before = set(threading.enumerate())
    emu = Emulator(EmulatorConfig(port=0, clock="virtual")).start()
    try:
        make, phase = SENT[case]
        sock = _in_flight(emu, make(emu), phase)
        started = time.monotonic()
        emu.stop()
        took = time.monotonic() - started
        left = [t for t in threading.enumerate() if t not in before]  # right after stop() returned
        with sock:
            answer = _after_stop(sock)
    finally:
        emu.stop()
    assert took < 2, f"stop() took {took:.2f} s"
    assert left == [], f"threads still running after stop(): {left}"
    assert b"HTTP/1.1" not in answer, answer[:200]


def test_every_client_of_a_busy_emulator_is_closed_by_one_stop() -> None:
    before = set(threading.enumerate())
    emu = Emulator(EmulatorConfig(port=0, clock="virtual")).start()
    socks: list[socket.socket] = []
    try:
        for make, phase in [SENT[c] for c in sorted(SENT)] * 3:
            socks.append(_in_flight(emu, make(emu), phase))
        emu.stop()
        left = [t for t in threading.enumerate() if t not in before]
        answers = [_after_stop(s) for s in socks]
    finally:
        for s in socks:
            s.close()
        emu.stop()
    assert left == [], f"{len(left)} threads still running after stop(): {left[:3]}"
    assert all(b"HTTP/1.1" not in a for a in answers)


def test_the_emulator_still_answers_normally_until_stopped() -> None:
    emu: Any
    with Emulator(EmulatorConfig(port=0, clock="virtual")) as emu:
        with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as sock:
            sock.sendall(_head(emu) + BODY)
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
        assert data.startswith(b"HTTP/1.1 202"), data[:200]
        assert emu.core.store.count_tasks() == 1
