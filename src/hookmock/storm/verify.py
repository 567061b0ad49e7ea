"""Exactly-once after the storm: how many times the receiver applied each event, settled.

The effect probe is the audit's (:mod:`hookmock.auditing.effect`: a callable ``probe(event_id)
-> int`` or a URL template with ``{event_id}``, fetched with the delivery transport's policy and
never following a redirect).  Settling is the audit's :class:`~hookmock.auditing.settle.EffectWatcher`:
the first event teaches the receiver's lag (0 for a receiver that applies before it answers);
after one settle period every event is read once, in parallel, and an accepted event read as 0 is
read again, settled, before it is called lost.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..auditing.settle import EffectWatcher
from ..clock import RealClock

__all__ = ["Applied", "count_applied"]

_PROBE_THREADS = 8
_REAL = RealClock()


@dataclass
class Applied:
    """Events by how many times the receiver applied them."""

    counts: dict[str, int] = field(default_factory=dict)
    #: Events no copy of which was accepted (2xx): not counted as lost.
    never_accepted: int = 0
    settle_ms: float = 0.0

    def _ids(self, test: Callable[[int], bool]) -> list[str]:
        return [e for e, c in self.counts.items() if test(c)]

    @property
    def lost(self) -> list[str]:
        return self._ids(lambda c: c == 0)

    @property
    def once(self) -> list[str]:
        return self._ids(lambda c: c == 1)

    @property
    def many(self) -> list[str]:
        return self._ids(lambda c: c > 1)


def _parallel(ids: Sequence[str], probe: Callable[[str], int]) -> dict[str, int]:
    out: dict[str, int] = {}
    errors: list[BaseException] = []
    it = iter(ids)
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                event_id = next(it, None)
            if event_id is None or errors:
                return
            try:
                out[event_id] = int(probe(event_id))
            except BaseException as exc:  # the first probe failure ends the check
                errors.append(exc)
                return

    threads = [threading.Thread(target=work, daemon=True) for _ in range(min(_PROBE_THREADS, len(ids)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return out


def count_applied(
    probe: Callable[[str], int], accepted: Sequence[str], rejected: Sequence[str], settle: float | None
) -> Applied:
    """Read the probe for every ``accepted`` event (one with a 2xx answer), settled."""
    result = Applied(never_accepted=len(rejected))
    if not accepted:
        return result
    watcher = EffectWatcher(probe, settle=settle)
    watcher.read(accepted[0], at_least=1)  # learns the lag (adaptive) and lets it settle
    period = watcher.period_ns()
    result.settle_ms = period / 1e6
    if period:
        _REAL.sleep_ns(period)  # the last deliveries' effects land
    counts = _parallel(accepted, probe)
    for event_id, count in counts.items():
        if count == 0:
            counts[event_id] = watcher.read(event_id, at_least=1).count
    if period:  # an asynchronous receiver: a second settled pass catches late second applications
        _REAL.sleep_ns(period)
        again = _parallel(list(counts), probe)
        counts = {e: max(c, again[e]) for e, c in counts.items()}
    result.counts = counts
    return result
