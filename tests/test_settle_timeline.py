"""EffectWatcher read by read: exact timelines on a fake monotonic clock (no real waiting).

Where ``tests/test_settle.py`` checks the behaviour in ranges, these pin every number a read
produces: each sleep, the history of counts (relative to the read's start, which is not 0 on this
clock), the time waited, whether it settled, the lag learned, and the texts shown in the report.
"""

from __future__ import annotations

import argparse

import pytest

from hookmock.auditing.settle import APPEAR_WAIT_NS, EffectWatcher, Reading, check_settle, settle_arg
from hookmock.clock import MS, SECOND
from hookmock.errors import UsageError

T0 = 1_000 * SECOND  # the monotonic clock does not start at 0


class Timeline:
    """A fake clock, and a probe whose count for each event steps up at given times."""

    def __init__(self, **steps: list[tuple[int, int]]) -> None:
        self.now = T0
        self.steps = {event: [(T0 + at, count) for at, count in s] for event, s in steps.items()}
        self.sleeps: list[float] = []
        self.asked: list[str] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += round(seconds * SECOND)

    def monotonic_ns(self) -> int:
        return self.now

    def probe(self, event_id: str) -> int:
        self.asked.append(event_id)
        count = 0
        for at, value in self.steps.get(event_id, []):
            if self.now >= at:
                count = value
        return count

    def watcher(self, **kwargs: object) -> EffectWatcher:
        return EffectWatcher(self.probe, sleep=self.sleep, monotonic_ns=self.monotonic_ns, **kwargs)  # type: ignore[arg-type]


def test_the_baseline_learns_the_lag_then_lets_the_first_reading_settle():
    t = Timeline(evt=[(100 * MS, 1), (160 * MS, 2)])
    w = t.watcher()
    reading = w.read("evt", at_least=1)
    # learning: read every 5 ms until the count reaches 1 (at 100 ms): the lag
    assert w.lag_ns == 100 * MS
    assert w.period_ns() == 2 * 100 * MS + 30 * MS
    # then, settling for 230 ms: reads every 50 ms (a quarter of the period, at most 50 ms); the
    # count reaches 2 at the read of 200 ms and stays there until 450 ms
    assert t.sleeps == [0.005] * 20 + [0.05] * 7
    assert reading == Reading(2, ((0, 0), (100 * MS, 1), (200 * MS, 2)), 450 * MS, True)
    assert reading.progression() == "the count went 0 → 1 → 2 within 200 ms"
    assert set(t.asked) == {"evt"}
    assert w.describe() == "applied about 100 ms after the answer: effects read after 230 ms without a change"
    assert w.never_applied is False


def test_a_later_event_slower_than_the_baseline_lengthens_the_lag():
    t = Timeline(evt=[(100 * MS, 1)], later=[(0, 0)])
    w = t.watcher()
    w.read("evt", at_least=1)
    assert w.lag_ns == 100 * MS
    start = t.now
    t.steps["later"] = [(start + 300 * MS, 1)]
    t.sleeps.clear()
    reading = w.read("later", at_least=1)
    assert reading == Reading(1, ((0, 0), (300 * MS, 1)), 550 * MS, True)
    assert t.sleeps == [0.05] * 11
    assert w.lag_ns == 300 * MS  # only a longer lag is kept
    assert w.period_ns() == 630 * MS
    t.steps["quicker"] = [(t.now, 1)]
    w.read("quicker", at_least=1)
    assert w.lag_ns == 300 * MS


def test_reading_after_learning_without_expecting_an_event_learns_nothing():
    t = Timeline(evt=[(100 * MS, 1)], other=[(0, 1)])
    w = t.watcher()
    w.read("evt", at_least=1)
    t.steps["other"] = [(t.now + 400 * MS, 1)]
    reading = w.read("other")  # at_least=0: a settled read of whatever is there
    assert reading.count == 0 and reading.settled
    assert reading.waited_ns == 250 * MS  # 230 ms without a change, read every 50 ms
    assert w.lag_ns == 100 * MS


def test_a_quick_baseline_stops_when_the_event_is_applied():
    t = Timeline(evt=[(100 * MS, 1), (160 * MS, 2)])
    w = t.watcher()
    reading = w.read("evt", at_least=1, quick=True)
    assert reading == Reading(1, ((0, 0), (100 * MS, 1)), 100 * MS, True)
    assert w.lag_ns == 100 * MS


def test_a_baseline_expecting_two_keeps_one_entry_per_change():
    t = Timeline(evt=[(50 * MS, 1), (100 * MS, 2)])
    w = t.watcher()
    reading = w.read("evt", at_least=2)
    assert reading.history == ((0, 0), (50 * MS, 1), (100 * MS, 2))
    assert reading.count == 2 and reading.settled


def test_the_floor_does_not_delay_learning():
    # over HTTP the period is at least a floor (20 ms), but the baseline itself stops at the
    # first application: the lag it measures must not include the floor
    t = Timeline(evt=[(10 * MS, 1)])
    w = t.watcher(floor_s=0.02)
    assert w.period_ns() == 20 * MS
    reading = w.read("evt", at_least=1, quick=True)
    assert reading.waited_ns == 10 * MS
    assert w.lag_ns == 10 * MS


def test_the_floor_applies_once_the_lag_is_learned():
    t = Timeline(evt=[(10 * MS, 1)])
    w = t.watcher(floor_s=0.02)
    reading = w.read("evt", at_least=1)
    # 10 ms to the first application (no floor while learning), then 50 ms (2 x 10 + 30, above
    # the floor) without a change, read every 12.5 ms
    assert reading == Reading(1, ((0, 0), (10 * MS, 1)), 60 * MS, True)
    assert t.sleeps == [0.005, 0.005, 0.0125, 0.0125, 0.0125, 0.0125]


def test_an_event_never_applied_waits_exactly_the_bound():
    t = Timeline()
    w = t.watcher()
    reading = w.read("evt", at_least=1)
    assert reading == Reading(0, ((0, 0),), APPEAR_WAIT_NS, False)
    assert reading.settled is False
    assert reading.progression() == ""
    assert w.never_applied is True
    assert t.sleeps == [0.005] * (APPEAR_WAIT_NS // (5 * MS))


def test_a_fixed_settle_learns_nothing_and_reads_every_quarter_period():
    t = Timeline(evt=[(0, 1), (50 * MS, 2)])
    w = t.watcher(settle=0.1)
    reading = w.read("evt", at_least=1)
    assert w.lag_ns is None
    assert reading == Reading(2, ((0, 1), (50 * MS, 2)), 150 * MS, True)
    assert set(t.sleeps) == {0.025}
    assert w.describe() == "effects read after 100 ms without a change (settle=0.1 s)"


def test_a_short_fixed_settle_still_reads_every_5_ms():
    t = Timeline(evt=[(0, 1)])
    w = t.watcher(settle=0.01)
    w.read("evt")
    assert t.sleeps == [0.005, 0.005]


def test_a_long_fixed_settle_reads_every_50_ms():
    t = Timeline(evt=[(0, 1)])
    w = t.watcher(settle=1.0)
    w.read("evt")
    assert t.sleeps == [0.05] * 20


@pytest.mark.parametrize(
    ("settle", "bound_ns"),
    [
        (0.01, 250 * MS),  # at least 250 ms
        (0.1, 400 * MS),  # else 4 x the period
    ],
)
def test_a_later_read_waits_for_an_event_within_its_bound(settle: float, bound_ns: int):
    t = Timeline()
    w = t.watcher(settle=settle)
    reading = w.read("evt", at_least=1)
    assert (reading.count, reading.waited_ns, reading.settled) == (0, bound_ns, False)


def test_after_learning_the_bound_is_ten_lags_or_four_periods():
    t = Timeline(evt=[(100 * MS, 1)])
    w = t.watcher()
    w.read("evt", at_least=1)
    reading = w.read("never", at_least=1)  # lag 100 ms, period 230 ms: 1000 ms > 920 ms
    assert (reading.count, reading.waited_ns, reading.settled) == (0, 1000 * MS, False)
    assert w.lag_ns == 100 * MS


def test_a_synchronous_receiver_costs_no_waiting():
    t = Timeline(evt=[(0, 1)])
    w = t.watcher()
    assert w.read("evt", at_least=1) == Reading(1, ((0, 1),), 0, True)
    assert t.sleeps == []
    assert w.describe() == "applied before the answer (synchronous): effects read at once"
    assert w.read("evt") == Reading(1, ((0, 1),), 0, True)  # the default expects nothing


def test_a_fixed_settle_reads_only_when_nothing_is_expected_by_default():
    t = Timeline()
    w = t.watcher(settle=0.1)
    reading = w.read("evt")
    assert (reading.count, reading.waited_ns, reading.settled) == (0, 100 * MS, True)


def test_progression_of_one_change():
    reading = Reading(1, ((0, 0), (1_499_999, 1)), 2 * MS, True)
    assert reading.progression() == "the count went 0 → 1 within 1 ms"


def test_settle_bounds_and_messages():
    assert check_settle(60) == 60.0
    assert check_settle(0) == 0.0
    assert check_settle(None) is None
    with pytest.raises(UsageError) as info:
        check_settle(60.5)
    assert str(info.value) == (
        "settle= 60.5: give a number of seconds from 0 to 60 "
        "(0 reads the effect probe once, right after the answer)"
    )
    with pytest.raises(UsageError) as info:
        check_settle("1", "--settle")
    assert str(info.value) == "--settle '1': give a number of seconds (or leave it out: adaptive)"


def test_settle_arg_messages():
    assert settle_arg("60") == 60.0
    with pytest.raises(argparse.ArgumentTypeError) as info:
        settle_arg("soon")
    assert str(info.value) == "'soon' is not a number of seconds (e.g. --settle 0.5)"
    with pytest.raises(argparse.ArgumentTypeError) as info:
        settle_arg("61")
    assert str(info.value) == "'61': give a number of seconds from 0 to 60 (0: read at once)"
