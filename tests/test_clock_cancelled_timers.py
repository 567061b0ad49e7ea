"""A virtual clock that registers and cancels a timer per delivery stays bounded.

Each in-process ASGI delivery registers its deadline on the clock and cancels it when the app
answers; a run whose clock never reaches those due times must not keep every cancelled timer.
"""

from __future__ import annotations

from hookmock.clock import SECOND, VirtualClock


def test_cancelled_timers_do_not_pile_up_on_a_clock_that_never_reaches_them() -> None:
    clock = VirtualClock(start=1_700_000_000)
    for _ in range(10_000):
        clock.call_at(clock.now_ns() + 30 * SECOND, lambda: None).cancel()
    assert len(clock._timers) <= 200
    assert clock.next_due() is None


def test_compaction_keeps_every_live_timer_and_their_order() -> None:
    clock = VirtualClock(start=1_700_000_000)
    fired: list[int] = []
    live = []
    for i in range(2_000):
        timer = clock.call_at(clock.now_ns() + (i + 1) * SECOND, lambda i=i: fired.append(i))
        if i % 10 == 0:
            live.append(i)
        else:
            timer.cancel()
    assert len(clock._timers) < 2_000
    clock.advance(3_000)
    assert fired == live


def test_cancelling_a_timer_that_already_ran_or_twice_changes_nothing() -> None:
    clock = VirtualClock(start=1_700_000_000)
    ran: list[str] = []
    first = clock.call_at(clock.now_ns() + SECOND, lambda: ran.append("first"))
    clock.advance(1)
    first.cancel()
    first.cancel()
    keep = [clock.call_at(clock.now_ns() + (i + 1) * SECOND, lambda: ran.append("later")) for i in range(100)]
    assert clock._cancelled_in_heap == 0
    keep[0].cancel()
    keep[0].cancel()
    assert clock._cancelled_in_heap == 1
    clock.advance(200)
    assert ran == ["first"] + ["later"] * 99
