"""The deadline of one attempt: total, measured on the caller's clock, abortable by that clock.

``AttemptClock`` starts when an attempt starts.  Before every blocking socket call the caller
asks :meth:`AttemptClock.remaining_s` for the real seconds left (a real-time backstop that holds
even on a virtual clock), and :meth:`AttemptClock.expired` says whether the deadline has passed on
the attempt's clock.  On a virtual clock a timer at ``start + deadline`` calls
:meth:`AttemptClock.abort`, which shuts the attached socket down so a reader blocked on another
thread wakes up at once.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

from ..clock import SECOND, Clock, RealClock

__all__ = ["AttemptClock", "DeadlineReached", "shutdown"]

_REAL = RealClock()


class DeadlineReached(Exception):
    """The total deadline passed (or a virtual clock's abort timer fired)."""


class AttemptClock:
    """The deadline bookkeeping of one attempt, and the abort hook a virtual clock can call."""

    def __init__(self, clock: Clock, deadline_ns: int) -> None:
        self.clock = clock
        self.deadline_ns = deadline_ns
        self.start_ns = clock.now_ns()
        self.real_deadline = _REAL.monotonic_ns() + deadline_ns
        self.aborted = False
        self.backstop_hit = False
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._done = False
        self._timer: Any = None
        if clock.is_virtual and hasattr(clock, "call_at"):  # every Clock says whether it is virtual
            self._timer = clock.call_at(self.start_ns + deadline_ns, self.abort)

    # -- abort (may run on another thread: the one advancing a virtual clock) ------------
    def abort(self) -> None:
        with self._lock:
            if self._done:
                return
            self.aborted = True
            sock = self._sock
        if sock is not None:
            shutdown(sock)

    def attach(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
            aborted = self.aborted
        if aborted:
            shutdown(sock)
            raise DeadlineReached

    def complete(self) -> int | None:
        """The response is complete: the elapsed time, or None if the deadline had already fired.

        From here on an abort from the clock is too late to matter.
        """
        with self._lock:
            self._done = True
            aborted = self.aborted
        return None if aborted else self.elapsed_ns()

    def finish(self) -> None:
        with self._lock:
            self._done = True
            sock, self._sock = self._sock, None
        if self._timer is not None:
            self._timer.cancel()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    # -- time --------------------------------------------------------------------------
    def elapsed_ns(self) -> int:
        return self.clock.now_ns() - self.start_ns

    def expired(self) -> bool:
        if self.aborted:
            return True
        if self.elapsed_ns() >= self.deadline_ns:
            return True
        if _REAL.monotonic_ns() >= self.real_deadline:
            self.backstop_hit = True
            return True
        return False

    def remaining_s(self) -> float:
        """Real seconds left for the next blocking call; raises once the deadline has passed."""
        if self.expired():
            raise DeadlineReached
        left = self.real_deadline - _REAL.monotonic_ns()
        if left <= 0:
            self.backstop_hit = True
            raise DeadlineReached
        return left / SECOND

    def arm(self, sock: socket.socket) -> None:
        sock.settimeout(self.remaining_s())


def shutdown(sock: socket.socket) -> None:
    """Shut the connection down under a reader blocked on another thread (plain or TLS)."""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
