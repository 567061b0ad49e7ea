"""Durability: a sending process killed with SIGKILL loses nothing; a restart completes every delivery."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from hookmock import Sender, VirtualClock
from hookmock.clock import RealClock
from hookmock.delivery.log import DeliveryLog

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

SECRET = "whsec_crashTESTsecret0123456789abcd"
N = 10

CHILD = r"""
import os, sys, time
from hookmock import Sender
from hookmock.delivery.log import DeliveryLog
url, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
# long waits: when the parent kills us, retries are pending and some attempts are in flight
sender = Sender("moda", os.environ["HOOKMOCK_SECRET"], log=path, deadline_s=20, retry_delays_s=(60, 60, 60))
for _ in range(n):
    sender.submit(url, "task.succeeded")
print("submitted", flush=True)
time.sleep(120)
"""


class Receiver:
    """Phase 1: even requests get 503, odd ones hang (attempts left in flight).  Phase 2: 200."""

    def __init__(self) -> None:
        self.phase = 1
        self.count = 0
        self.events: list[str] = []
        self.release = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.count += 1
            k = self.count
            self.events.append(json.loads(request.get_data())["id"])
            phase = self.phase
        if phase == 2:
            return Response("ok")
        if k % 2 == 0:
            self.release.wait(30)
            return Response("too late")
        return Response("busy", status=503)


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    yield srv
    srv.clear()
    srv.stop()


def _wait_for(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def test_sigkill_with_pending_retries_then_restart_completes_everything(server: HTTPServer, tmp_path: Path):
    rx = Receiver()
    server.expect_request("/hook", method="POST").respond_with_handler(rx)
    path = tmp_path / "deliveries.db"
    env = {**os.environ, "HOOKMOCK_SECRET": SECRET}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, server.url_for("/hook"), str(path), str(N)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "submitted", child.stderr.read() if child.stderr else ""
        _wait_for(lambda: rx.count >= N)  # every delivery has had its first attempt reach us
        with DeliveryLog(path) as log:
            _wait_for(lambda: log.count() == N and log.count(status="pending") == N)
            _wait_for(lambda: log.in_flight_attempts() == N // 2)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        rx.release.set()
    assert child.returncode == -signal.SIGKILL

    with DeliveryLog(path) as log:  # what the dead process left behind
        assert log.count() == N and log.in_flight_attempts() == N // 2
        before = {r.id: r for r in log.unfinished()}
    assert len(before) == N

    rx.phase = 2
    clock = VirtualClock(start=RealClock().now_ns() / 1e9)
    with Sender("moda", SECRET, clock=clock, log=path) as restarted:
        assert len(restarted.recovered) == N // 2
        done = restarted.resume()
        assert restarted.log.in_flight_attempts() == 0 and restarted.log.unfinished() == []
        assert restarted.log.count() == N
    assert sorted(d.id for d in done) == sorted(before)
    assert {d.status for d in done} == {"succeeded"}
    outcomes = {d.id: [a.outcome for a in d.attempts] for d in done}
    interrupted = [i for i, o in outcomes.items() if o[0] == "interrupted"]
    assert len(interrupted) == N // 2
    for delivery in done:
        assert delivery.attempts[-1].status == 200
        if delivery.id in interrupted:  # resent at once on recovery
            assert outcomes[delivery.id] == ["interrupted", "response"]
        else:  # resumed on its schedule: the retry came when it was due, not earlier
            retry = delivery.attempts[1]
            assert retry.started_ns >= before[delivery.id].state.next_due_ns  # type: ignore[operator]
    assert {d.event_id for d in done} <= set(rx.events) and len({d.event_id for d in done}) == N
