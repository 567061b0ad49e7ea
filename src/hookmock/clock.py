"""Clocks: the only place in hookmock that reads the system time.

Time is an integer number of nanoseconds since the Unix epoch (:meth:`Clock.now_ns`); only
:meth:`Clock.time` gives float seconds, as ``time.time()`` does, so a clock's ``time`` can be
handed to code written for ``time.time`` (the same type on a real and a virtual clock).  hookmock
itself stamps whole seconds (:func:`unix_s`).  Everything that needs time takes a clock
argument; nothing reads ``time.time()`` itself.

* :class:`RealClock` reads the wall clock and really sleeps.
* :class:`VirtualClock` holds time still until it is moved with :meth:`VirtualClock.advance`,
  :meth:`VirtualClock.advance_to` or :meth:`VirtualClock.jump` (straight to the next due
  timer, like trio's ``MockClock`` with autojump).  A ``sleep`` on a virtual clock advances it
  instead of waiting, so "answer after 31 s" costs no real time.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time as _time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Protocol, runtime_checkable

__all__ = [
    "MS",
    "SECOND",
    "Clock",
    "RealClock",
    "Timer",
    "VirtualClock",
    "format_iso",
    "to_ns",
    "unix_s",
]

SECOND = 1_000_000_000
MS = 1_000_000

#: Where a :class:`VirtualClock` starts unless told otherwise: 2026-05-01T00:00:00Z, the date
#: of Moda's canonical API version, so virtual timestamps look like real ones.
DEFAULT_VIRTUAL_START_NS = 1_777_593_600 * SECOND


def to_ns(value: int | float | datetime) -> int:
    """Convert seconds (int or float) or an aware datetime to integer nanoseconds."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give it a timezone (e.g. timezone.utc)")
        return int(value.timestamp()) * SECOND + value.microsecond * 1000
    if isinstance(value, bool):
        raise TypeError("a clock time must be a number of seconds or a datetime, not a bool")
    if isinstance(value, int):
        return value * SECOND
    return round(value * SECOND)


def unix_s(clock: Clock) -> int:
    """Whole seconds since the Unix epoch on ``clock`` (what goes into a timestamp header)."""
    return clock.now_ns() // SECOND


def format_iso(ns: int) -> str:
    """ISO 8601 in UTC with an explicit ``+00:00`` offset and second precision."""
    global _last_iso
    seconds = ns // SECOND
    last = _last_iso
    if last[0] == seconds:  # a payload or a page formats the same second several times
        return last[1]
    if type(seconds) is int:  # the minute's text (remembered) and the second's two digits
        minute, second = divmod(seconds, 60)
        head = _iso_minutes.get(minute)
        if head is None:
            day, rest = divmod(minute, 1440)
            date = datetime.fromtimestamp(day * 86400, tz=timezone.utc).date().isoformat()
            if len(_iso_minutes) >= 4096:
                _iso_minutes.clear()
            head = _iso_minutes[minute] = f"{date}T{rest // 60:02d}:{rest % 60:02d}:"
        text = head + _TWO_DIGITS[second] + "+00:00"
    else:
        text = datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()
    _last_iso = (seconds, text)  # one tuple, swapped whole: safe across threads
    return text


_last_iso: tuple[int | None, str] = (None, "")
#: ``YYYY-MM-DDTHH:MM:`` by minute since the epoch (the minutes a process formats are few)
_iso_minutes: dict[int, str] = {}
_TWO_DIGITS = [f"{n:02d}" for n in range(60)]


@runtime_checkable
class Clock(Protocol):
    """What hookmock needs of a clock."""

    is_virtual: bool

    def now_ns(self) -> int:
        """Nanoseconds since the Unix epoch."""
        ...

    def time(self) -> float:
        """Seconds since the Unix epoch as a float, like ``time.time()``."""
        ...

    def sleep_ns(self, ns: int) -> None:
        """Wait ``ns`` nanoseconds (really, or by advancing virtual time)."""
        ...


class RealClock:
    """The wall clock."""

    is_virtual = False

    def now_ns(self) -> int:
        return _time.time_ns()

    def time(self) -> float:
        return _time.time_ns() / SECOND

    def monotonic_ns(self) -> int:
        return _time.monotonic_ns()

    def sleep_ns(self, ns: int) -> None:
        if ns > 0:
            _time.sleep(ns / SECOND)

    def sleep(self, seconds: float) -> None:
        self.sleep_ns(to_ns(seconds))

    def __repr__(self) -> str:
        return "RealClock()"


class Timer:
    """A callback registered on a :class:`VirtualClock` to run at a due time."""

    __slots__ = ("_clock", "callback", "cancelled", "due_ns")

    def __init__(
        self, due_ns: int, callback: Callable[[], object] | None, clock: VirtualClock | None = None
    ) -> None:
        self.due_ns = due_ns
        self.callback = callback
        self.cancelled = False
        #: the clock whose heap still holds this timer (``None`` once it ran or was dropped)
        self._clock = clock

    def cancel(self) -> None:
        if self.cancelled:
            return
        self.cancelled = True
        clock, self._clock = self._clock, None
        if clock is not None:
            clock._forget_cancelled()


class VirtualClock:
    """A clock that only moves when told to.  Thread-safe.

    >>> clock = VirtualClock(start=1_700_000_000)
    >>> clock.advance(30)
    >>> clock.time()
    1700000030.0
    """

    is_virtual = True

    def __init__(self, start: int | float | datetime | None = None) -> None:
        self._now = DEFAULT_VIRTUAL_START_NS if start is None else to_ns(start)
        self._lock = threading.Lock()
        self._timers: list[tuple[int, int, Timer]] = []
        #: cancelled timers still in ``_timers``; the heap is compacted when they are most of it,
        #: so a clock that registers and cancels a timer per delivery (a deadline) and never
        #: reaches their due times does not grow without bound
        self._cancelled_in_heap = 0
        self._seq = itertools.count()

    # -- reading -----------------------------------------------------------------------
    def now_ns(self) -> int:
        return self._now

    def monotonic_ns(self) -> int:
        return self._now

    def time(self) -> float:
        """Seconds since the Unix epoch as a float, like ``time.time()``."""
        return self._now / SECOND

    # -- moving ------------------------------------------------------------------------
    def advance(self, seconds: int | float = 0, *, ms: int = 0, ns: int = 0) -> int:
        """Move forward by the given amount; returns the new time in ns.  Runs due timers."""
        delta = to_ns(seconds) + ms * MS + ns
        if delta < 0:
            raise ValueError(f"a virtual clock cannot go backwards (advance by {delta} ns)")
        with self._lock:
            target = self._now + delta
        return self.advance_to(target)

    def advance_to(self, t_ns: int) -> int:
        """Move forward to ``t_ns`` (never backwards), running every timer due on the way."""
        while True:
            with self._lock:
                if t_ns < self._now:
                    return self._now
                timer = self._pop_due(t_ns)
                if timer is None:
                    self._now = t_ns
                    return self._now
                self._now = max(self._now, timer.due_ns)
            if timer.callback is not None:
                timer.callback()

    def sleep_ns(self, ns: int) -> None:
        """Virtual sleep: advance the clock instead of waiting."""
        if ns > 0:
            self.advance(ns=ns)

    def sleep(self, seconds: float) -> None:
        self.sleep_ns(to_ns(seconds))

    # -- timers ------------------------------------------------------------------------
    def call_at(self, due_ns: int, callback: Callable[[], object] | None = None) -> Timer:
        """Register ``callback`` to run when the clock reaches ``due_ns``."""
        timer = Timer(due_ns, callback, self)
        with self._lock:
            heapq.heappush(self._timers, (due_ns, next(self._seq), timer))
        return timer

    def next_due(self) -> int | None:
        """The earliest pending timer's due time, or ``None``."""
        with self._lock:
            while self._timers and self._timers[0][2].cancelled:
                heapq.heappop(self._timers)
                self._cancelled_in_heap -= 1
            return self._timers[0][0] if self._timers else None

    def jump(self) -> bool:
        """Advance straight to the next due timer and run it.  False when none is pending."""
        due = self.next_due()
        if due is None:
            return False
        self.advance_to(max(due, self._now))
        return True

    def _pop_due(self, limit_ns: int) -> Timer | None:
        while self._timers:
            due, _, timer = self._timers[0]
            if timer.cancelled:
                heapq.heappop(self._timers)
                self._cancelled_in_heap -= 1
                continue
            if due <= limit_ns:
                heapq.heappop(self._timers)
                timer._clock = None
                return timer
            return None
        return None

    def _forget_cancelled(self) -> None:
        """A timer still in the heap was cancelled: drop the cancelled ones once they are most of it."""
        with self._lock:
            self._cancelled_in_heap += 1
            if self._cancelled_in_heap > 64 and 2 * self._cancelled_in_heap > len(self._timers):
                self._timers = [entry for entry in self._timers if not entry[2].cancelled]
                heapq.heapify(self._timers)
                self._cancelled_in_heap = 0

    def __repr__(self) -> str:
        return f"VirtualClock(now={format_iso(self._now)})"
