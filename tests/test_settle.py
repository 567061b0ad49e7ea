"""EffectWatcher: settled reads of the effect probe, on a fake monotonic clock (no real waiting).

The probe's answer is a function of the fake time, so each test is an exact timeline: an event
applied 100 ms after the read starts, a count rising to 2 later, a count that never appears.
"""

from __future__ import annotations

import pytest

from hookmock.auditing.settle import APPEAR_WAIT_NS, EffectWatcher, check_settle, settle_arg
from hookmock.cli import main
from hookmock.clock import MS
from hookmock.errors import UsageError


class Timeline:
    """A fake clock and a probe whose count steps up at given times (ns after creation)."""

    def __init__(self, steps: list[tuple[int, int]]) -> None:
        self.now = 0
        self.steps = steps
        self.reads = 0

    def sleep(self, seconds: float) -> None:
        self.now += int(seconds * 1e9)

    def monotonic_ns(self) -> int:
        return self.now

    def probe(self, event_id: str) -> int:
        self.reads += 1
        count = 0
        for at, value in self.steps:
            if self.now >= at:
                count = value
        return count

    def watcher(self, **kwargs: object) -> EffectWatcher:
        return EffectWatcher(self.probe, sleep=self.sleep, monotonic_ns=self.monotonic_ns, **kwargs)  # type: ignore[arg-type]


def test_a_synchronous_receiver_is_read_once_and_learns_no_lag() -> None:
    t = Timeline([(0, 1)])
    w = t.watcher()
    reading = w.read("evt", at_least=1)
    assert (reading.count, t.reads, t.now) == (1, 1, 0)
    assert w.lag_ns == 0 and w.period_ns() == 0
    assert "synchronous" in w.describe()
    assert w.read("evt2").count == 1 and t.now == 0  # later reads: no waiting either


def test_the_baseline_teaches_the_lag_and_later_reads_settle_for_twice_it() -> None:
    t = Timeline([(100 * MS, 1)])
    w = t.watcher()
    first = w.read("evt", at_least=1)
    assert first.count == 1
    assert 100 * MS <= w.lag_ns <= 105 * MS  # type: ignore[operator]
    period = w.period_ns()
    assert period == 2 * w.lag_ns + 30 * MS  # type: ignore[operator]
    assert "applied about 10" in w.describe()
    # a no-dedupe receiver: the count rises to 2 some time after it reached 1
    t2 = Timeline([(50 * MS, 1), (120 * MS, 2)])
    t2.steps = [(at + t.now, c) for at, c in t2.steps]
    t.steps = t2.steps
    reading = w.read("evt", at_least=1)
    assert reading.count == 2
    assert reading.progression().startswith("the count went 0 → 1 → 2 within ")


def test_quick_stops_as_soon_as_the_event_is_applied() -> None:
    t = Timeline([(100 * MS, 1)])
    w = t.watcher(settle=1.0)
    start = t.now
    assert w.read("evt", at_least=1, quick=True).count == 1
    assert t.now - start < 110 * MS


def test_a_fixed_settle_waits_that_long_without_a_change() -> None:
    t = Timeline([(0, 1), (300 * MS, 2)])
    w = t.watcher(settle=0.5)
    reading = w.read("evt", at_least=1)
    assert reading.count == 2 and reading.settled
    assert t.now >= 300 * MS + 500 * MS
    assert "settle=0.5 s" in w.describe()


def test_settle_zero_reads_once() -> None:
    t = Timeline([(100 * MS, 1)])
    reading = t.watcher(settle=0).read("evt", at_least=1)
    assert (reading.count, t.reads, t.now) == (0, 1, 0)


def test_an_event_that_never_appears_is_bounded_and_stops_later_waits() -> None:
    t = Timeline([])
    w = t.watcher()
    reading = w.read("evt", at_least=1)
    assert reading.count == 0 and not reading.settled
    assert APPEAR_WAIT_NS <= t.now < APPEAR_WAIT_NS + 20 * MS
    before = t.now
    assert w.read("evt2", at_least=1).count == 0
    assert t.now == before  # a wrong probe URL does not cost the bound on every read


def test_a_count_that_keeps_changing_is_bounded() -> None:
    t = Timeline([(i * 40 * MS, i) for i in range(1, 1000)])
    w = t.watcher(settle=0.1)
    reading = w.read("evt", at_least=1)
    assert not reading.settled
    assert t.now <= 2 * 1_000_000_000 + 100 * MS


@pytest.mark.parametrize("value", [-1, float("nan"), float("inf"), 61, "1", True])
def test_bad_settle_values_are_usage_errors(value: object) -> None:
    with pytest.raises(UsageError, match="settle="):
        check_settle(value)


def test_the_cli_rejects_a_bad_settle_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["audit", "http://127.0.0.1:1/", "--secret", "s", "--settle", "-1"],
        [
            "scenario",
            "run",
            "moda-lost-ack",
            "--target",
            "http://127.0.0.1:1/",
            "--secret",
            "s",
            "--settle",
            "x",
        ],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "--settle" in err and "Traceback" not in err
    assert settle_arg("0.25") == 0.25
