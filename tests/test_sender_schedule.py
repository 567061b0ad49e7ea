"""Sender.schedule (hand a pending delivery of the log to the concurrent driver) and cancelling
pending deliveries (DeliveryLog.cancel_pending), on the virtual clock with in-process receivers."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from werkzeug import Request, Response

from hookmock import Sender, UsageError, VirtualClock
from hookmock.clock import SECOND
from hookmock.delivery.log import DeliveryLog
from hookmock.profiles import get_profile

MODA = get_profile("moda")
FIRST_DELAY_S = MODA.retry_delays_ns[0] // SECOND


class App:
    """A WSGI receiver answering from ``codes`` (the last one repeats), counting what it saw."""

    def __init__(self, *codes: int) -> None:
        self.codes = list(codes)
        self.seen: list[bytes] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with self.lock:
            self.seen.append(Request(environ).get_data())
            code = self.codes[min(len(self.seen), len(self.codes)) - 1]
        return Response(f"answer {code}", status=code)(environ, start_response)


def test_schedule_hands_an_accepted_delivery_to_the_driver():
    clock = VirtualClock()
    app = App(500, 200)
    with Sender("moda", clock=clock, max_workers=2) as sender:
        accepted = sender.accept(app, "task.succeeded")
        assert accepted.status == "pending" and app.seen == []  # accepting sends nothing
        assert sender.schedule(accepted).id == accepted.id  # returns at once
        pool = sender.pool
        assert pool is not None
        for _ in range(500):  # the first attempt runs on a worker thread
            attempts = sender.get(accepted.id).attempts
            if attempts and not attempts[0].in_flight:
                break
            threading.Event().wait(0.002)
        assert [a.status for a in sender.get(accepted.id).attempts] == [500]
        clock.advance(FIRST_DELAY_S)  # the retry timer fires on the clock
        done = sender.wait(accepted.id, timeout=10)
        assert done.status == "succeeded" and [a.status for a in done.attempts] == [500, 200]
        assert pool.errors == [] and len(app.seen) == 2
        # a finished delivery is left alone: nothing is sent again
        assert sender.schedule(accepted.id).status == "succeeded"
        sender.wait_all(timeout=5)
        assert len(app.seen) == 2


def test_schedule_refuses_another_profiles_delivery():
    clock = VirtualClock()
    log = DeliveryLog()
    with Sender("modio", clock=clock, log=log) as modio, Sender("moda", clock=clock, log=log) as moda:
        theirs = modio.accept(App(200), "PING")
        with pytest.raises(UsageError, match="modio"):
            moda.schedule(theirs.id)
        with pytest.raises(UsageError, match="no delivery"):
            moda.schedule("whd_missing")
    log.close()


def _settled(sender: Sender, delivery_id: str) -> None:
    """Wait (really, briefly) until the worker has completed the attempt it is making."""
    for _ in range(2500):
        attempts = sender.get(delivery_id).attempts
        if attempts and not attempts[-1].in_flight:
            return
        threading.Event().wait(0.002)
    raise AssertionError(sender.get(delivery_id).timeline())


def test_cancel_pending_releases_waiters_and_nothing_is_sent_again():
    clock = VirtualClock()
    app = App(500)
    with Sender("moda", clock=clock, max_workers=2) as sender:
        kept = sender.submit(app, "task.succeeded")
        _settled(sender, kept.id)
        assert sender.get(kept.id).status == "pending"  # its first retry waits on the clock
        assert sender.cancel_pending() == [kept.id]
        # waiters return at once (on this virtual clock the retry timer would never fire by itself)
        assert sender.wait(kept.id, timeout=5).status == "failed"
        assert sender.pool is not None and kept.id not in sender.pool
        clock.advance(3600)  # the stale retry timer fires and finds the delivery finished
        assert sender.wait_all(timeout=5) and len(app.seen) == 1
        assert sender.pool.errors == []
        assert sender.get(kept.id).canceled


def test_a_cancel_during_the_attempt_in_flight_stops_the_retries():
    clock = VirtualClock()
    sender = Sender("moda", clock=clock)
    seen: list[bytes] = []

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(Request(environ).get_data())
        canceled = sender.cancel_pending()  # e.g. the emulator's reset, while this attempt is out
        return Response(f"canceled {len(canceled)}", status=500)(environ, start_response)

    events: list[Any] = []
    sender.add_listener(events.append)
    with sender:
        delivery = sender.send(app, "task.failed")  # inline: would retry three times otherwise
        assert delivery.status == "failed" and len(seen) == 1
        assert [(a.status, a.excerpt) for a in delivery.attempts] == [(500, b"canceled 1")]
        assert [e.state.phase.value for e in events] == ["canceled"] and events[0].next_due_ns is None
        assert delivery.canceled and "canceled: no further attempts" in delivery.timeline()
