from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest

from hookmock.clock import MS, SECOND, RealClock, VirtualClock, format_iso, to_ns, unix_s


def test_virtual_clock_is_still_until_moved():
    clock = VirtualClock(start=1_700_000_000)
    assert clock.time() == 1_700_000_000
    assert clock.now_ns() == 1_700_000_000 * SECOND
    clock.advance(30)
    clock.advance(ms=1500)
    assert clock.now_ns() == (1_700_000_031 * SECOND) + 500 * MS
    assert clock.time() == 1_700_000_031.5
    assert unix_s(clock) == 1_700_000_031


def test_time_is_float_seconds_on_both_clocks_like_time_time():
    """An app handed ``now=clock.time`` gets the same type in-process (virtual) and over sockets
    (real): float seconds, as ``time.time()`` returns; whole seconds come from ``unix_s``."""
    import time

    virtual, real = VirtualClock(start=1_700_000_000), RealClock()
    assert type(virtual.time()) is type(real.time()) is type(time.time()) is float
    assert abs(real.time() - time.time()) < 5
    assert type(unix_s(virtual)) is type(unix_s(real)) is int
    virtual.advance(ms=999)
    assert unix_s(virtual) == 1_700_000_000 and virtual.time() == 1_700_000_000.999


def test_virtual_clock_never_goes_backwards():
    clock = VirtualClock(start=100)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    assert clock.advance_to(50 * SECOND) == 100 * SECOND


def test_sleep_advances_instead_of_waiting():
    clock = VirtualClock(start=0)
    clock.sleep(31)
    assert clock.time() == 31


def test_timers_run_in_order_and_jump_goes_to_next_due():
    clock = VirtualClock(start=0)
    fired: list[tuple[str, int]] = []
    clock.call_at(5 * SECOND, lambda: fired.append(("b", clock.time())))
    clock.call_at(1 * SECOND, lambda: fired.append(("a", clock.time())))
    cancelled = clock.call_at(3 * SECOND, lambda: fired.append(("x", clock.time())))
    cancelled.cancel()
    assert clock.next_due() == 1 * SECOND
    assert clock.jump() is True
    assert fired == [("a", 1)]
    clock.advance(10)
    assert fired == [("a", 1), ("b", 5)]
    assert clock.time() == 11
    assert clock.jump() is False


def test_virtual_clock_is_thread_safe():
    clock = VirtualClock(start=0)

    def work():
        for _ in range(1000):
            clock.advance(ns=1)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clock.now_ns() == 4000


def test_start_from_datetime_and_iso_format():
    clock = VirtualClock(start=datetime(2026, 5, 1, tzinfo=timezone.utc))
    assert format_iso(clock.now_ns()) == "2026-05-01T00:00:00+00:00"
    with pytest.raises(ValueError, match="naive"):
        to_ns(datetime(2026, 5, 1))


def test_real_clock_moves():
    """It reads the wall clock (not a value fixed at construction) and it advances."""
    clock = RealClock()
    a = clock.now_ns()
    assert isinstance(a, int)
    assert abs(a - time.time_ns()) < SECOND
    assert abs(clock.time() - time.time()) < 1.0
    give_up = time.perf_counter() + 1.0
    b = clock.now_ns()
    while b == a and time.perf_counter() < give_up:  # busy-wait one clock tick, no sleep
        b = clock.now_ns()
    assert b > a
    assert not clock.is_virtual
