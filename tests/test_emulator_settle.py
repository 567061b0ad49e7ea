"""``POST /_hookmock/settle`` and what ``clock/advance`` reports: pending work and the drift of the
virtual clock from wall time (real sockets: an in-process emulator and an HTTPS fake receiver)."""

from __future__ import annotations

import logging

import pytest

from emulator_support import running, stack
from hookmock.clock import RealClock, VirtualClock
from hookmock.emulator.control import DRIFT_TOLERANCE_S
from hookmock.receiver.server import FakeReceiver


def _task(api, receiver):
    return api.post("/v1/tasks", {"prompt": "A poster", "callback_url": receiver.url})


def test_advance_says_what_is_pending_and_warns_past_the_tolerance(caplog: pytest.LogCaptureFixture):
    with stack("500,ok") as (_emu, api, receiver):
        _task(api, receiver)
        first = api.advance(3)  # the task succeeded, attempt 1 got a 500: a retry is scheduled
        assert first["warning"] is None and abs(first["skew_s"] - 3) < 2
        pending = first["pending"]
        assert pending["deliveries"] == 1 and pending["in_flight"] == 0
        assert pending["next_attempt_at"] is not None and pending["next_task_step_at"] is None
        with caplog.at_level(logging.WARNING, logger="hookmock.emulator"):
            later = api.advance(DRIFT_TOLERANCE_S + 100)
        assert later["pending"] == {
            "deliveries": 0,
            "in_flight": 0,
            "next_attempt_at": None,
            "next_task_step_at": None,
        }
        assert later["skew_s"] > DRIFT_TOLERANCE_S
        assert "ahead of wall time" in later["warning"] and f"{DRIFT_TOLERANCE_S} s" in later["warning"]
        assert any("ahead of wall time" in r.getMessage() for r in caplog.records)  # the log line
        clock = api.get("/_hookmock/clock")  # GET says it too
        assert clock["warning"] == later["warning"]


def test_settle_returns_once_the_in_flight_attempt_is_answered():
    """Real clock: the receiver holds the request 0.3 s; settle waits for it, then reports nothing due."""
    clock = RealClock()
    with FakeReceiver("moda", "whsec_" + "S" * 32) as receiver:
        receiver.script("delay:0.3:200")
        with running(clock, clock="real", allow_http_callbacks=True) as (_emu, api):
            status, body, _ = api.call(
                "POST",
                "/_hookmock/moda/events",
                {"event_type": "task.succeeded", "callback_url": receiver.url},
            )
            assert status == 202, body
            settled = api.post("/_hookmock/settle?timeout=10")
            assert settled["settled"] is True and settled["pending"]["deliveries"] == 0
            assert len(receiver.requests) == 1 and receiver.requests[0].ended_ns is not None
            assert settled["waited_ms"] >= 100  # it did wait for the slow answer


def test_settle_reports_a_timeout_and_refuses_a_bad_one():
    with running() as (_emu, api):
        quick = api.post("/_hookmock/settle?timeout=0")
        assert quick["settled"] is True and quick["pending"]["deliveries"] == 0
        for bad in ("abc", "-1", "nan", "1000"):
            status, body, _ = api.call("POST", f"/_hookmock/settle?timeout={bad}")
            assert status == 400, body
            assert "timeout=" in body["error"]["message"]


def test_virtual_clock_start_is_wall_time_so_no_warning_before_advancing():
    with running(VirtualClock(start=RealClock().time())) as (_emu, api):
        clock = api.get("/_hookmock/clock")
        assert clock["warning"] is None and abs(clock["skew_s"]) < 5


def test_stale_drill_is_stale_by_wall_time_after_the_virtual_clock_moved_ahead():
    """After a 72 s advance, "stale" must still be older than the tolerance by the receiver's wall clock
    (it was 231 s old by wall time before), and by the virtual clock too."""
    with stack("ok") as (_emu, api, receiver):
        _task(api, receiver)
        api.advance(72)
        [row] = api.get("/v1/webhook_deliveries")["data"]
        [sent] = api.post("/_hookmock/drills", {"mode": "stale", "delivery_id": row["id"]})["sent"]
        wall_now = RealClock().time()
        assert sent["timestamp"] < wall_now - 300  # stale for a receiver on wall time
        virtual_now = api.get("/_hookmock/clock")["now_ns"] // 1_000_000_000
        assert sent["timestamp"] < virtual_now - 300
        verdict = receiver.requests[-1].verdict  # the fake receiver runs on the virtual clock
        assert verdict is not None and verdict.fresh is False and not verdict.ok
