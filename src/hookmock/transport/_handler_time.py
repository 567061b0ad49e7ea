"""The time an in-process attempt takes (used by the WSGI and ASGI transports).

An in-process handler runs in real time even when
the sender's clock is virtual, so the attempt counts the handler's **real elapsed time**:

* on the real clock the duration is what the clock measured;
* on a :class:`~hookmock.clock.VirtualClock` the clock is moved forward by the handler's real time
  (in whole milliseconds, the delivery log's unit, so a sub-millisecond handler keeps exact
  virtual times), and the duration is how far the clock moved, real time or any virtual time the
  handler itself spent (a fault proxy's ``Delay``), whichever is longer.  Timestamps, the retry
  schedule and the deadline all see it;
* a handler that runs past the deadline is a ``"timeout"`` with ``duration_ns == deadline``
  exactly, and a virtual clock then stands at ``start + deadline``.
"""

from __future__ import annotations

from ..clock import MS, Clock, RealClock

__all__ = ["HandlerTime"]

_REAL = RealClock()


class HandlerTime:
    """The clock of one in-process attempt: started now, judged on real and virtual time."""

    def __init__(self, clock: Clock, deadline_ns: int) -> None:
        self.clock = clock
        self.deadline_ns = deadline_ns
        self.start_ns = clock.now_ns()
        self.real_start_ns = _REAL.monotonic_ns()

    def real_ns(self, at_ns: int | None = None) -> int:
        """Real nanoseconds from the start to ``at_ns`` (a ``monotonic_ns`` reading; default now)."""
        return (_REAL.monotonic_ns() if at_ns is None else at_ns) - self.real_start_ns

    def real_left_s(self) -> float:
        """Real seconds left before the deadline (0 once it has passed)."""
        return max(0, self.deadline_ns - self.real_ns()) / 1e9

    def expired(self) -> bool:
        """Whether the deadline has passed, on the attempt's clock or in real time."""
        return self.clock.now_ns() - self.start_ns >= self.deadline_ns or self.real_ns() >= self.deadline_ns

    def finish(self, real_end_ns: int | None = None) -> int | None:
        """The duration of an attempt whose answer was complete at ``real_end_ns`` (default: now),
        moving a virtual clock by the handler's real time; None when that is past the deadline
        (call :meth:`timeout_ns` then)."""
        real = self.real_ns(real_end_ns)
        if self.clock.is_virtual:
            counted = real - real % MS
            if counted >= self.deadline_ns:
                return None
            self._advance_to(self.start_ns + counted)
        elif real >= self.deadline_ns:
            return None
        elapsed = self.clock.now_ns() - self.start_ns
        return None if elapsed >= self.deadline_ns else elapsed

    def timeout_ns(self) -> int:
        """A timeout lasts exactly the deadline; a virtual clock is moved to ``start + deadline``."""
        if self.clock.is_virtual:
            self._advance_to(self.start_ns + self.deadline_ns)
        return self.deadline_ns

    def _advance_to(self, t_ns: int) -> None:
        advance_to = getattr(self.clock, "advance_to", None)
        if advance_to is not None:
            advance_to(t_ns)  # never backwards: a concurrent attempt may have moved it further
