"""The deadline of one attempt (``hookmock.transport._deadline.AttemptClock``), on real sockets.

What the HTTP transport relies on: the virtual clock's abort timer shuts the attached socket down
(a reader blocked on another thread wakes up at once, and the peer sees the connection end); an
abort after the response completed changes nothing; the deadline is reached AT ``start +
deadline``, not after; and a real-time backstop holds even when a virtual clock never moves.  The
backstop's real clock is replaced by a virtual one here, so no test sleeps.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from hookmock import VirtualClock
from hookmock.clock import MS, SECOND
from hookmock.transport import _deadline
from hookmock.transport._deadline import AttemptClock, DeadlineReached, shutdown


@pytest.fixture
def real() -> VirtualClock:
    """Stands in for the real monotonic clock of the backstop."""
    return VirtualClock(start=0)


@pytest.fixture(autouse=True)
def _real_clock(monkeypatch: pytest.MonkeyPatch, real: VirtualClock) -> None:
    monkeypatch.setattr(_deadline, "_REAL", real)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A connected loopback TCP pair: (ours, the receiver's)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        ours = socket.create_connection(server.getsockname(), timeout=5)
        theirs, _ = server.accept()
    theirs.settimeout(5)
    try:
        yield ours, theirs
    finally:
        ours.close()
        theirs.close()


class ManualClock:
    """A clock that is neither the wall clock nor a virtual clock with timers: only its time moves."""

    is_virtual = False

    def __init__(self, now_ns: int = 1_000 * SECOND) -> None:
        self.now = now_ns

    def now_ns(self) -> int:
        return self.now

    def time(self) -> float:
        return self.now / SECOND

    def sleep_ns(self, ns: int) -> None:
        self.now += max(0, ns)


def _blocked_reader(sock: socket.socket) -> tuple[threading.Thread, list[bytes | BaseException]]:
    got: list[bytes | BaseException] = []

    def read() -> None:
        try:
            got.append(sock.recv(100))
        except OSError as exc:
            got.append(exc)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, got


# -- the virtual clock's abort ------------------------------------------------------------------


def test_the_abort_timer_wakes_a_blocked_reader_and_ends_the_connection(pair):
    ours, theirs = pair
    clock = VirtualClock()
    attempt = AttemptClock(clock, 5 * SECOND)
    attempt.attach(ours)
    thread, got = _blocked_reader(ours)
    clock.advance(5)  # the deadline: the timer fires on this thread
    thread.join(5)
    assert not thread.is_alive(), "the reader stayed blocked after the abort"
    assert got == [b""]  # woken by the shutdown, not by data or a timeout
    assert theirs.recv(100) == b""  # the receiver sees the connection end too
    assert attempt.aborted
    assert attempt.expired()
    assert attempt.complete() is None  # aborted first: no elapsed time to report
    attempt.finish()


def test_the_timer_fires_at_the_deadline_not_before(pair):
    ours, _ = pair
    clock = VirtualClock()
    attempt = AttemptClock(clock, 5 * SECOND)
    attempt.attach(ours)
    clock.advance(ns=5 * SECOND - 1)
    assert not attempt.aborted
    assert not attempt.expired()
    ours.sendall(b"still open")
    clock.advance(ns=1)
    assert attempt.aborted
    attempt.finish()


def test_attaching_after_the_abort_shuts_the_new_socket_and_raises(pair):
    ours, theirs = pair
    clock = VirtualClock()
    attempt = AttemptClock(clock, SECOND)
    clock.advance(1)  # aborted before any socket is attached (e.g. between two addresses)
    assert attempt.aborted
    with pytest.raises(DeadlineReached):
        attempt.attach(ours)
    assert theirs.recv(100) == b""
    assert ours.recv(100) == b""
    attempt.finish()


def test_an_abort_after_the_response_completed_changes_nothing(pair):
    ours, theirs = pair
    clock = VirtualClock()
    attempt = AttemptClock(clock, 5 * SECOND)
    attempt.attach(ours)
    clock.advance(ms=4_999)
    assert attempt.complete() == 4_999 * MS
    attempt.abort()  # a timer racing the end of the response
    assert not attempt.aborted
    ours.sendall(b"ping")
    assert theirs.recv(100) == b"ping"
    theirs.sendall(b"pong")
    assert ours.recv(100) == b"pong"
    attempt.finish()


def test_finish_cancels_the_timer_and_closes_the_socket(pair):
    ours, theirs = pair
    clock = VirtualClock()
    attempt = AttemptClock(clock, 5 * SECOND)
    assert clock.next_due() == attempt.start_ns + 5 * SECOND
    attempt.attach(ours)
    attempt.finish()
    assert clock.next_due() is None  # no timer left to fire on a later attempt's clock
    assert ours.fileno() == -1
    assert theirs.recv(100) == b""
    clock.advance(10)
    assert not attempt.aborted
    attempt.abort()  # a timer that was already running when finish() cancelled it
    assert attempt.aborted is False
    attempt.finish()  # twice is harmless


def test_finish_without_a_socket_only_cancels_the_timer():
    clock = VirtualClock()
    attempt = AttemptClock(clock, SECOND)
    attempt.finish()
    assert clock.next_due() is None


def test_the_abort_shuts_the_latest_attached_socket(pair):
    # the transport attaches the TCP socket, then the TLS socket wrapping it: the abort must reach
    # the one being read
    ours, theirs = pair
    with socket.create_server(("127.0.0.1", 0)) as server:
        first = socket.create_connection(server.getsockname(), timeout=5)
        first_peer, _ = server.accept()
    try:
        clock = VirtualClock()
        attempt = AttemptClock(clock, SECOND)
        attempt.attach(first)
        attempt.attach(ours)
        clock.advance(1)
        assert theirs.recv(100) == b""
        first.sendall(b"untouched")
        assert first_peer.recv(100) == b"untouched"
        attempt.finish()
    finally:
        first.close()
        first_peer.close()


def test_no_timer_on_a_clock_without_timers():
    clock = ManualClock()
    attempt = AttemptClock(clock, SECOND)
    assert attempt._timer is None
    clock.now += 2 * SECOND
    assert attempt.expired()
    assert not attempt.aborted  # nothing fired: the deadline is read, not signalled
    attempt.finish()


class VirtualWithoutTimers(ManualClock):
    is_virtual = True


def test_a_virtual_clock_without_call_at_is_read_not_scheduled():
    clock = VirtualWithoutTimers()
    attempt = AttemptClock(clock, SECOND)  # must not ask for a timer it cannot have
    assert attempt._timer is None
    assert not attempt.expired()
    attempt.finish()


# -- the deadline on the attempt's clock ----------------------------------------------------------


def test_expired_is_true_at_the_deadline_exactly():
    clock = ManualClock()
    attempt = AttemptClock(clock, 2 * SECOND)
    assert attempt.elapsed_ns() == 0
    clock.now += 2 * SECOND - 1
    assert attempt.elapsed_ns() == 2 * SECOND - 1
    assert not attempt.expired()
    clock.now += 1
    assert attempt.expired()
    assert not attempt.backstop_hit  # the attempt's own clock, not the backstop
    with pytest.raises(DeadlineReached):
        attempt.remaining_s()


def test_a_new_attempt_has_neither_flag_set():
    attempt = AttemptClock(VirtualClock(), SECOND)
    assert attempt.aborted is False
    assert attempt.backstop_hit is False
    assert attempt._done is False
    attempt.finish()


def test_elapsed_is_measured_from_the_start_of_the_attempt():
    clock = VirtualClock()
    clock.advance(100)
    attempt = AttemptClock(clock, 10 * SECOND)
    assert attempt.start_ns == clock.now_ns()
    clock.advance(ms=1_500)
    assert attempt.elapsed_ns() == 1_500 * MS
    assert attempt.complete() == 1_500 * MS
    attempt.finish()


# -- the real-time backstop ----------------------------------------------------------------------


def test_remaining_is_the_real_time_left(real, pair):
    ours, _ = pair
    attempt = AttemptClock(VirtualClock(), 2 * SECOND)
    assert attempt.remaining_s() == 2.0
    real.advance(ms=500)
    assert attempt.remaining_s() == 1.5
    attempt.arm(ours)
    assert ours.gettimeout() == 1.5
    attempt.finish()


def test_the_backstop_holds_when_the_virtual_clock_never_moves(real):
    clock = VirtualClock()
    attempt = AttemptClock(clock, 2 * SECOND)
    real.advance(ns=2 * SECOND - 1)
    assert not attempt.expired()
    assert not attempt.backstop_hit
    real.advance(ns=1)
    assert attempt.expired()
    assert attempt.backstop_hit
    assert not attempt.aborted
    with pytest.raises(DeadlineReached):
        attempt.remaining_s()
    attempt.finish()


class ScriptedClock:
    """A real clock that reads the given times, one per reading."""

    def __init__(self, *readings: int) -> None:
        self.readings = list(readings)

    def monotonic_ns(self) -> int:
        return self.readings.pop(0)


def test_the_backstop_passing_between_two_readings_is_still_the_deadline(monkeypatch):
    # expired() reads the real clock just before the deadline, remaining_s() reads it again at
    # the deadline: that is the deadline, never a zero socket timeout (which means non-blocking)
    real = ScriptedClock(
        0,  # the start: the real deadline is 2 s
        SECOND // 4, SECOND // 2,  # 1.5 s left
        2 * SECOND - 2, 2 * SECOND - 1,  # 1 ns left: still time
        2 * SECOND - 1, 2 * SECOND,  # not yet, then the deadline
    )  # fmt: skip
    monkeypatch.setattr(_deadline, "_REAL", real)
    attempt = AttemptClock(VirtualClock(), 2 * SECOND)
    assert attempt.remaining_s() == 1.5
    assert attempt.remaining_s() == 1 / SECOND
    assert not attempt.backstop_hit
    with pytest.raises(DeadlineReached):
        attempt.remaining_s()
    assert attempt.backstop_hit is True
    assert real.readings == []
    attempt.finish()


# -- shutdown ---------------------------------------------------------------------------------------


def test_shutdown_ends_both_directions(pair):
    ours, theirs = pair
    shutdown(ours)
    assert ours.recv(100) == b""  # our reads end
    assert theirs.recv(100) == b""  # and the peer sees our end
    with pytest.raises(OSError):
        ours.sendall(b"x")


def test_shutdown_of_a_socket_that_is_not_connected_is_quiet():
    with socket.socket() as sock:
        shutdown(sock)  # ENOTCONN is not an error here
    sock = socket.socket()
    sock.close()
    shutdown(sock)  # nor a closed socket
