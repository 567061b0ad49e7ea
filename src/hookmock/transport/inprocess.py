"""In-process delivery to WSGI and ASGI applications, and the time such an attempt takes.

:class:`InProcessTransport` is what a Sender, the audit and the fault proxy use for an app
target: it takes any target :func:`~hookmock.transport.apps.as_target` accepts and hands it to
:class:`~hookmock.transport.wsgi.WSGITransport` or :class:`~hookmock.transport.asgi.ASGITransport`.

Time (:class:`HandlerTime`, both transports).  An in-process handler runs in real time even when
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

from collections.abc import Mapping
from typing import Any

from ..clock import MS, Clock, RealClock
from ..errors import UsageError
from . import EXCERPT_BYTES, AttemptResult
from .apps import AppTarget, as_target

__all__ = ["HandlerTime", "InProcessTransport"]

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


class InProcessTransport:
    """Deliver attempts in-process to WSGI or ASGI applications, whichever the target is."""

    def __init__(self, *, excerpt_bytes: int = EXCERPT_BYTES, remote_addr: str = "127.0.0.1") -> None:
        if excerpt_bytes < 0:
            raise UsageError(f"excerpt_bytes={excerpt_bytes} is negative; use 0 or more")
        self.excerpt_bytes = excerpt_bytes
        self.remote_addr = remote_addr
        self._wsgi: Any = None
        self._asgi: Any = None

    def __repr__(self) -> str:
        return "InProcessTransport()"

    def transport_for(self, target: AppTarget) -> Any:
        if target.interface == "asgi":
            if self._asgi is None:
                from .asgi import ASGITransport

                self._asgi = ASGITransport(excerpt_bytes=self.excerpt_bytes, remote_addr=self.remote_addr)
            return self._asgi
        if self._wsgi is None:
            from .wsgi import WSGITransport

            self._wsgi = WSGITransport(excerpt_bytes=self.excerpt_bytes, remote_addr=self.remote_addr)
        return self._wsgi

    def send(
        self,
        target: object,
        headers: Mapping[str, str],
        body: bytes,
        *,
        deadline_ns: int,
        clock: Clock,
    ) -> AttemptResult:
        resolved = as_target(target)
        if isinstance(resolved, str):
            raise UsageError(
                f"InProcessTransport got the URL {resolved!r}; give the application itself, or "
                "(app, '/path'), or use HTTPTransport for a real server"
            )
        return self.transport_for(resolved).send(
            resolved, headers, body, deadline_ns=deadline_ns, clock=clock
        )
