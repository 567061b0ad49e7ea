"""What a storm has sent so far, aggregated as it goes: its memory stays flat however long it runs.

A storm of a million requests keeps no record per request.  :class:`Tally` counts statuses,
deliveries over the deadline, failed deliveries and stale replays, and keeps latencies in a
:class:`LatencyHistogram`.  Only the exactly-once check needs one entry per *event* (the effect
probe reads every accepted event), so event ids are kept only when a probe will read them.
"""

from __future__ import annotations

import math
import threading
from collections import Counter

from ..clock import MS

__all__ = ["EXACT_LATENCIES", "LatencyHistogram", "Tally"]

#: Latencies kept exactly (percentiles of every sample); past that, a histogram.
EXACT_LATENCIES = 4096
#: Significant bits kept per latency in the histogram: a bucket spans under 1/128 of its value.
_BITS = 8


def _bucket(ns: int) -> int:
    """The histogram bucket of ``ns``: values below 2**_BITS exactly, above by their top bits."""
    shift = max(0, ns.bit_length() - _BITS)
    return (shift << _BITS) | (ns >> shift)


def _upper(bucket: int) -> int:
    """The largest value in ``bucket``."""
    shift, mantissa = bucket >> _BITS, bucket & ((1 << _BITS) - 1)
    return ((mantissa + 1) << shift) - 1


class LatencyHistogram:
    """Latencies (ns) with bounded memory: the first :data:`EXACT_LATENCIES` kept exactly, then
    every one counted in a log-linear histogram (a few thousand buckets at most).

    Percentiles are exact while every sample is kept; after that each is the upper edge of its
    bucket (at most 0.8 % above the true sample, never below it) and never above the maximum,
    which is always exact.
    """

    def __init__(self) -> None:
        self.count = 0
        self.max_ns: int | None = None
        self._exact: list[int] | None = []
        self._buckets: Counter[int] = Counter()

    def add(self, ns: int) -> None:
        ns = max(0, int(ns))
        self.count += 1
        if self.max_ns is None or ns > self.max_ns:
            self.max_ns = ns
        self._buckets[_bucket(ns)] += 1
        if self._exact is not None:
            if len(self._exact) < EXACT_LATENCIES:
                self._exact.append(ns)
            else:
                self._exact = None  # from here on the histogram alone

    @property
    def exact(self) -> bool:
        return self._exact is not None

    def percentile_ms(self, q: float) -> float | None:
        """The ``q`` quantile (nearest rank) in ms; None without samples."""
        if not self.count:
            return None
        rank = max(1, math.ceil(q * self.count))
        if self._exact is not None:
            return sorted(self._exact)[rank - 1] / MS
        seen = 0
        for bucket in sorted(self._buckets):
            seen += self._buckets[bucket]
            if seen >= rank:
                assert self.max_ns is not None
                return min(_upper(bucket), self.max_ns) / MS
        return None  # pragma: no cover - the counts add up to self.count

    def summary_ms(self) -> dict[str, float | None]:
        return {
            "p50": self.percentile_ms(0.50),
            "p95": self.percentile_ms(0.95),
            "p99": self.percentile_ms(0.99),
            "max": None if self.max_ns is None else self.max_ns / MS,
        }


def _accepted(outcome: str, status: int | None) -> bool:
    return outcome == "response" and status is not None and 200 <= status <= 299


class Tally:
    """Every figure of a storm's report, updated by the sending threads as each answer comes.

    ``acceptance`` (only with ``keep_events``): each event id, in the order its unit was taken,
    mapped to whether a live copy of it was answered 2xx: what the effect probe reads.
    """

    def __init__(self, *, keep_events: bool = False) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.events = 0
        self.accepted = 0
        self.statuses: Counter[str] = Counter()
        self.latency = LatencyHistogram()
        self.over_deadline = 0
        self.errors = 0
        self.stale_sent = 0
        self.stale_accepted = 0
        self.acceptance: dict[str, bool] | None = {} if keep_events else None

    def event(self, event_id: str) -> None:
        """A unit (one new event) is about to be sent."""
        with self._lock:
            self.events += 1
            if self.acceptance is not None:
                self.acceptance.setdefault(event_id, False)

    def answer(self, event_id: str, kind: str, outcome: str, status: int | None, duration_ns: int) -> None:
        """One request's answer: ``kind`` is first, concurrent, duplicate or stale."""
        accepted = _accepted(outcome, status)
        with self._lock:
            self.requests += 1
            self.accepted += accepted
            if outcome == "response":
                self.statuses[str(status)] += 1
                self.latency.add(duration_ns)
            else:
                self.statuses[outcome] += 1
            if outcome == "timeout":
                self.over_deadline += 1
            if kind == "stale":
                self.stale_sent += 1
                self.stale_accepted += accepted
            else:
                if not accepted:
                    self.errors += 1
                elif self.acceptance is not None:
                    self.acceptance[event_id] = True

    def by_acceptance(self) -> tuple[list[str], list[str]]:
        """Event ids (in order) with a 2xx answer to a live copy, and those without any."""
        acceptance = self.acceptance or {}
        return [e for e, ok in acceptance.items() if ok], [e for e, ok in acceptance.items() if not ok]
