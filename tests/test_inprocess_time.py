"""Real handler time in-process: an in-process attempt lasts as long as the handler really ran, and
on the fixtures' virtual clock that time moves the clock (timestamps, retries, deadline see it)."""

from __future__ import annotations

import re
import time

import pytest

import hookmock.auditing

# Shared with pytester's in-process runs (see tests/test_plugin_fixtures.py).
import hookmock.pytest_plugin.receiver
import hookmock.pytest_plugin.support
import hookmock.receiver.proxy
import hookmock.sender  # noqa: F401
from hookmock import Sender, VirtualClock
from hookmock.clock import MS, SECOND, RealClock
from hookmock.transport.inprocess import HandlerTime

pytest_plugins = ["pytester"]


@pytest.mark.realtime
def test_pytester_slow_handler_is_measured_and_moves_the_clock(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import time
        from flask import Flask
        from hookmock.clock import MS, SECOND

        app = Flask("slow")

        @app.post("/webhooks/moda")
        def slow():
            time.sleep(0.3)
            return "ok"

        def test_slow_handler(hookmock_sender, hookmock_clock):
            start = hookmock_clock.now_ns()
            delivery = hookmock_sender.send((app, "/webhooks/moda"), "task.succeeded")
            attempt = delivery.attempts[0]
            assert delivery.status == "succeeded" and attempt.status == 200
            assert 300 * MS <= attempt.duration_ns < 3 * SECOND, attempt.duration_ns
            assert hookmock_clock.now_ns() - start == attempt.duration_ns  # the clock moved as much
            assert attempt.duration_ns % MS == 0  # whole milliseconds on the virtual clock
            print("TIMELINE", delivery.timeline())

        modio_app = Flask("slow_modio")

        @modio_app.post("/hooks")
        def slower():
            time.sleep(0.5)
            return "ok"

        def test_modio_handler_past_the_deadline_is_a_timeout(hookmock_make_sender, hookmock_clock):
            sender = hookmock_make_sender("modio", deadline_s=0.3)  # not faithful: 5 s, shortened
            start = hookmock_clock.now_ns()
            delivery = sender.send((modio_app, "/hooks"), "ADD_MOD")
            attempt = delivery.attempts[0]
            assert attempt.outcome == "timeout" and attempt.duration_ns == 300 * MS
            assert attempt.started_ns == start
            assert hookmock_clock.now_ns() == start + 300 * MS  # stands at start + deadline
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*  1  +0.000 *ms response      200*"])
    line = next(x for x in result.outlines if x.strip().startswith("1  +0.000"))
    shown_ms = float(line.split()[2])
    assert shown_ms >= 300, line  # the timeline shows the real handler time


@pytest.mark.realtime
def test_the_audit_deadline_check_sees_real_handler_time() -> None:
    from flask import Flask

    from hookmock.auditing import audit

    clock = VirtualClock()
    app = Flask("sluggish")

    @app.post("/hook")
    def hook() -> str:
        time.sleep(0.3)
        return "ok"

    report = audit(
        (app, "/hook"), profile="moda", secret="whsec_x", clock=clock, only=["deadline"], warn_after_s=0.2
    )
    assert report.status("deadline") == "warn", report.text()
    took = [int(m) for m in re.findall(r"answered in (\d+) ms", report["deadline"].detail)]
    assert took and min(took) >= 300, report["deadline"].detail


@pytest.mark.realtime
def test_the_retry_schedule_counts_real_handler_time() -> None:
    """Moda retries a delay after the previous attempt *ended*: a 200 ms handler shifts the retry."""
    from flask import Flask

    clock = VirtualClock()
    app = Flask("failing")

    @app.post("/hook")
    def hook() -> tuple[str, int]:
        time.sleep(0.2)
        return "down", 500

    sender = Sender("moda", clock=clock, retry_delays_s=[1])
    delivery = sender.send((app, "/hook"), "task.succeeded")
    first, second = delivery.attempts[:2]
    assert first.duration_ns >= 200 * MS
    assert second.started_ns == first.started_ns + first.duration_ns + 1 * SECOND
    assert second.timestamp == second.started_ns // SECOND


def test_handler_time_on_a_virtual_clock_without_real_time() -> None:
    clock = VirtualClock(start=1_000)
    timer = HandlerTime(clock, 30 * SECOND)
    clock.advance(ms=2500)  # what a Delay fault does in-process
    assert timer.finish(timer.real_start_ns + 400 * MS + 999_999) == 2500 * MS  # virtual time wins
    timer = HandlerTime(clock, 30 * SECOND)
    start = clock.now_ns()
    assert timer.finish(timer.real_start_ns + 1234 * MS + 5) == 1234 * MS  # real time, whole ms
    assert clock.now_ns() == start + 1234 * MS
    timer = HandlerTime(clock, 5 * SECOND)
    start = clock.now_ns()
    assert timer.finish(timer.real_start_ns + 6 * SECOND) is None  # past the deadline
    assert timer.timeout_ns() == 5 * SECOND and clock.now_ns() == start + 5 * SECOND


def test_handler_time_on_the_real_clock_is_the_clock_s_own_measure() -> None:
    timer = HandlerTime(RealClock(), 30 * SECOND)
    took = timer.finish()
    assert took is not None and 0 <= took < 5 * SECOND
    assert HandlerTime(RealClock(), 1).timeout_ns() == 1


@pytest.mark.realtime
def test_scenario_attempt_times_follow_the_schedule_whatever_the_handler_takes() -> None:
    """A 100 ms handler starts the retry 1.1 s after the first attempt (Moda waits 1 s after the
    attempt *ended*); the drill's ``attempt_times = [0, 1]`` is the schedule, and still holds."""
    import json

    from flask import Flask, request

    from hookmock.scenarios import example_paths, run_scenario

    applied: set[str] = set()
    app = Flask("slow_shop")

    @app.post("/webhooks/moda")
    def hook() -> str:
        time.sleep(0.1)
        applied.add(json.loads(request.get_data())["id"])
        return "ok"

    drill = next(p for p in example_paths() if p.stem == "moda-lost-ack")
    clock = VirtualClock()
    result = run_scenario(
        drill, (app, "/webhooks/moda"), secret="whsec_x", clock=clock, probe=lambda e: int(e in applied)
    )
    assert result.ok, result.text()
    assert "+1.1" in result.steps[0].timeline  # the retry really came 1.1 s after the first start
