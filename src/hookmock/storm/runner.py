"""Running a storm: worker threads sending signed deliveries through a hookmock transport.

A URL goes through :class:`~hookmock.transport.http.HTTPTransport` (loopback only unless
allowed, total deadline per attempt, no redirects); an application (WSGI/ASGI) through
:class:`~hookmock.transport.inprocess.InProcessTransport`.  ``users`` threads take units (see
:mod:`hookmock.storm.plan`) from one shared source; with ``rate`` each unit waits for its slot
(``start + i / rate``).  A ``burst`` is built first (the backlog queued during an outage) and then
released at once, with no pacing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..clock import SECOND, RealClock
from ..transport import AttemptResult
from .plan import STALE_AGE_S, StormOptions, Unit, UnitSource
from .tally import Tally

__all__ = ["StormRun", "send_storm"]

#: Threads when neither --users nor --rate says otherwise.
DEFAULT_USERS = 16
_REAL = RealClock()


@dataclass
class StormRun:
    """A storm as it goes: its :class:`~hookmock.storm.tally.Tally` (every figure of the report,
    aggregated per answer, no record per request), and when it started and ended."""

    tally: Tally
    started_ns: int
    ended_ns: int

    @property
    def requests(self) -> int:
        return self.tally.requests

    @property
    def events(self) -> int:
        return self.tally.events

    @property
    def accepted(self) -> int:
        return self.tally.accepted


class _Shared:
    def __init__(self, units: Iterator[Unit], rate: float | None, end_ns: int | None) -> None:
        self.units = units
        self.rate = rate
        self.end_ns = end_ns
        self.lock = threading.Lock()
        self.slot = 0
        self.start_ns = _REAL.monotonic_ns()
        self.stopped = threading.Event()

    def take(self, paced: bool) -> Unit | None:
        with self.lock:
            if self.stopped.is_set():
                return None
            if self.end_ns is not None and _REAL.monotonic_ns() >= self.end_ns:
                return None
            unit = next(self.units, None)
            slot = self.slot
            self.slot += 1
        if unit is None:
            return None
        if paced and self.rate:
            due = self.start_ns + int(slot * SECOND / self.rate)
            wait = due - _REAL.monotonic_ns()
            if wait > 0 and self.stopped.wait(wait / SECOND):
                return None
        return unit


class _Sender:
    def __init__(self, options: StormOptions, target: object, transport: Any, tally: Tally) -> None:
        self.options = options
        self.profile = options.checked_profile
        self.target = target
        self.transport = transport
        self.deadline_ns = options.deadline_ns
        self.tally = tally

    def one(self, unit: Unit, kind: str, at: float | None = None) -> None:
        now = _REAL.time() if at is None else at
        headers = self.profile.delivery_headers(unit.body, self.options.secret, now, message_id=unit.event_id)
        headers.update(self.profile.event_headers(unit.event_type))
        try:
            result: AttemptResult = self.transport.send(
                self.target, headers, unit.body, deadline_ns=self.deadline_ns, clock=_REAL
            )
        except Exception as exc:  # an in-process app that raises: one failed request, not a crash
            result = AttemptResult("error", 0, detail=f"{type(exc).__name__}: {exc}")
        self.tally.answer(unit.event_id, kind, result.outcome, result.status, result.duration_ns)

    def unit(self, unit: Unit) -> None:
        self.tally.event(unit.event_id)
        if unit.concurrent:
            barrier = threading.Barrier(2)

            def copy() -> None:
                barrier.wait()
                self.one(unit, "concurrent")

            helper = threading.Thread(target=copy, daemon=True)
            helper.start()
            barrier.wait()
            self.one(unit, "first")
            helper.join()
        else:
            self.one(unit, "first")
        if unit.duplicate:
            self.one(unit, "duplicate")  # a retry: the same bytes, a fresh signature
        if unit.stale:
            self.one(unit, "stale", at=_REAL.time() - STALE_AGE_S)  # the captured request, replayed


def _work(sender: _Sender, shared: _Shared, paced: bool) -> None:
    while True:
        unit = shared.take(paced)
        if unit is None:
            return
        sender.unit(unit)


def _run_phase(
    sender: _Sender, units: Iterator[Unit], threads: int, rate: float | None, end_ns: int | None
) -> None:
    shared = _Shared(units, rate, end_ns)
    workers = [
        threading.Thread(target=_work, args=(sender, shared, rate is not None), daemon=True)
        for _ in range(threads)
    ]
    for w in workers:
        w.start()
    try:
        for w in workers:
            while w.is_alive():
                w.join(0.2)
    except BaseException:
        shared.stopped.set()  # Ctrl-C: no new units; the ones in flight end at their deadline
        raise


def send_storm(
    options: StormOptions,
    target: object,
    transport: Any,
    *,
    on_progress: Callable[[StormRun], None] | None = None,
    progress_every_s: float = 0.5,
    keep_events: bool = False,
) -> StormRun:
    """Send the storm ``options`` describes to ``target`` and return its tally.

    ``keep_events``: keep each event id and whether it was accepted (for the effect probe).
    """
    source = UnitSource(options)
    run = StormRun(Tally(keep_events=keep_events), _REAL.monotonic_ns(), 0)
    sender = _Sender(options, target, transport, run.tally)
    users = options.users or DEFAULT_USERS
    done = threading.Event()
    ticker = None
    if on_progress is not None:

        def tick() -> None:
            while not done.wait(progress_every_s):
                on_progress(run)

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
    try:
        if options.burst:
            backlog = [source.unit() for _ in range(options.burst)]  # queued during the outage
            run.started_ns = _REAL.monotonic_ns()
            _run_phase(sender, iter(backlog), max(users, min(options.burst, 64)), None, None)
        end_ns = None
        if options.duration_s is not None:
            end_ns = _REAL.monotonic_ns() + int(options.duration_s * SECOND)
        if options.count is not None or options.duration_s is not None:
            limit = None if options.count is None else source.made + options.count
            _run_phase(sender, source.units(limit), users, options.rate, end_ns)
    finally:
        run.ended_ns = _REAL.monotonic_ns()
        done.set()
        if ticker is not None:
            ticker.join()
    return run
