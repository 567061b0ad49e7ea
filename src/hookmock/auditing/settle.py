"""Waiting for effects to settle: receivers that answer 2xx at once and do the work on a queue.

An asynchronous receiver applies an event some time after it answered, so reading the effect
probe right after the answer sees 0 for a correct receiver, and too few applications for one that
applies duplicates.  :class:`EffectWatcher` reads the probe until the count has been stable for
a *settle period*, within a bounded total wait:

* **adaptive** (``settle=None``, the default): the first accepted delivery (the audit's baseline)
  teaches the receiver's lag, the time from its answer to the count reaching 1; the settle period
  is then twice that lag plus a margin (0 for a receiver that had applied the event before it
  answered: synchronous receivers cost no waiting at all);
* **fixed** (``settle=SECONDS``, ``--settle SECONDS``): that settle period, whatever the lag;
  ``settle=0`` reads the probe once, right after the answer.

A read that expects an accepted event to have been applied (``at_least=1``) also waits, within
the bound, for the count to reach 1, so a receiver whose lag varies is not reported as losing the
event.  Waiting is real time: the receiver's real lag is the thing measured.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..clock import MS, SECOND
from ..errors import UsageError

__all__ = ["EffectWatcher", "Reading", "check_settle", "settle_arg"]

#: The longest settle period, learned or given (seconds).
SETTLE_MAX_S = 60.0
#: The learned settle period: LAG_FACTOR x the baseline's lag + LAG_MARGIN, at most LEARNED_MAX.
LAG_FACTOR = 2
LAG_MARGIN_NS = 30 * MS
LEARNED_MAX_NS = 5 * SECOND
#: How long the first read (the baseline) waits for an accepted event's first application.
APPEAR_WAIT_NS = 2 * SECOND
#: How long later reads wait at least (more for a slow receiver: 10 x its lag, 4 x the period).
APPEAR_MIN_NS = 250 * MS


def check_settle(settle: object, option: str = "settle=") -> float | None:
    """``settle`` as seconds (``None``: adaptive); a clear :class:`UsageError` otherwise."""
    if settle is None:
        return None
    if isinstance(settle, bool) or not isinstance(settle, (int, float)):
        raise UsageError(f"{option} {settle!r}: give a number of seconds (or leave it out: adaptive)")
    value = float(settle)
    if not math.isfinite(value) or value < 0 or value > SETTLE_MAX_S:
        raise UsageError(
            f"{option} {settle!r}: give a number of seconds from 0 to {SETTLE_MAX_S:g} "
            "(0 reads the effect probe once, right after the answer)"
        )
    return value


def settle_arg(text: str) -> float:
    """argparse ``type=`` for ``--settle SECONDS``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (e.g. --settle 0.5)") from None
    try:
        check_settle(value)  # its own message names settle=; this one names --settle
    except UsageError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a number of seconds from 0 to {SETTLE_MAX_S:g} (0: read at once)"
        ) from None
    return value


@dataclass(frozen=True)
class Reading:
    """What one settled read saw: the final count and every change on the way."""

    count: int
    #: ``(ns since the read started, count)``: the first reading, then each change.
    history: tuple[tuple[int, int], ...]
    waited_ns: int
    settled: bool

    def progression(self) -> str:
        """``"the count went 1 → 2 → 3 within 210 ms"``, or "" when it never changed."""
        if len(self.history) < 2:
            return ""
        counts = " → ".join(str(c) for _, c in self.history)
        return f"the count went {counts} within {self.history[-1][0] / MS:.0f} ms"


class EffectWatcher:
    """Settled reads of an effect probe (see the module docstring)."""

    def __init__(
        self,
        probe: Callable[[str], int],
        *,
        settle: float | None = None,
        floor_s: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.probe = probe
        fixed = check_settle(settle)
        self.fixed_ns = None if fixed is None else int(fixed * SECOND)
        self.floor_ns = int(floor_s * SECOND)
        self.lag_ns: int | None = None
        #: Set when an accepted event never showed up: later reads stop waiting for one.
        self.never_applied = False
        self._sleep = sleep
        self._now = monotonic_ns

    @property
    def adaptive(self) -> bool:
        return self.fixed_ns is None

    def period_ns(self) -> int:
        """The current settle period."""
        if self.fixed_ns is not None:
            return self.fixed_ns
        if not self.lag_ns:
            return self.floor_ns
        return max(self.floor_ns, min(LEARNED_MAX_NS, LAG_FACTOR * self.lag_ns + LAG_MARGIN_NS))

    def describe(self) -> str:
        period = self.period_ns() / MS
        if self.fixed_ns is not None:
            return (
                f"effects read after {period:.0f} ms without a change (settle={self.fixed_ns / SECOND:g} s)"
            )
        if not self.lag_ns:
            return "applied before the answer (synchronous): effects read at once"
        return (
            f"applied about {self.lag_ns / MS:.0f} ms after the answer: effects read after "
            f"{period:.0f} ms without a change"
        )

    def _bound_ns(self, learning: bool) -> int:
        """The longest a read waits (for the count to reach ``at_least`` and then settle)."""
        if learning:
            return APPEAR_WAIT_NS
        return max(APPEAR_MIN_NS, 10 * (self.lag_ns or 0), 4 * self.period_ns())

    def read(self, event_id: str, *, at_least: int = 0, quick: bool = False) -> Reading:
        """Read the count of ``event_id`` until it is stable for the settle period and has reached
        ``at_least``, within a bound.  ``quick``: stop as soon as it reaches ``at_least`` (for an
        event delivered once: nothing more can come)."""
        learning = self.adaptive and self.lag_ns is None and at_least >= 1
        if self.never_applied or self.fixed_ns == 0:
            at_least = 0
        quick = quick and at_least >= 1
        period = 0 if learning else self.period_ns()
        bound = self._bound_ns(learning)
        interval_ns = min(50 * MS, max(5 * MS, period // 4))
        start = self._now()
        count = int(self.probe(event_id))
        history = [(0, count)]
        last_change = start
        while True:
            now = self._now()
            if count >= at_least and (quick or now - last_change >= period):
                settled = True
                break
            if now - start >= bound:
                settled = False
                break
            self._sleep((interval_ns if period else 5 * MS) / SECOND)
            new = int(self.probe(event_id))
            if new != count:
                last_change = self._now()
                history.append((last_change - start, new))
                count = new
        waited = self._now() - start
        if self.adaptive and not learning and self.lag_ns and at_least >= 1 and count >= at_least:
            reached = next(t for t, c in history if c >= at_least)
            self.lag_ns = max(self.lag_ns, reached)  # keep learning: only a longer lag matters
        if learning:
            if count >= at_least:
                self.lag_ns = history[-1][0]
            else:
                self.never_applied = True
            if self.period_ns() and not quick:  # asynchronous: let the first reading settle too
                more = self.read(event_id)
                for t, c in more.history:
                    if c != history[-1][1]:
                        history.append((t + waited, c))
                count, waited, settled = more.count, waited + more.waited_ns, more.settled
        return Reading(count, tuple(history), waited, settled)
