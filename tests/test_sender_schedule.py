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
            if sender.get(accepted.id).attempts and sender.get(accepted.id).attempts[0].outcome != "in_flight":
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
