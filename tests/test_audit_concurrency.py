"""The ``concurrent-duplicates`` check makes its copies truly concurrent, whatever the scheduler does.

Starting the copies' threads together is not enough on a loaded machine: they reach the receiver
one after another and a check-then-insert window of a millisecond is missed, so the verdict
depended on the OS scheduler (``awx-github`` passed under load).  Each copy is now held at the
last moment before the receiver can act on it (its last byte unsent; in-process, its handler
reading the body) until every copy is there.  These tests pin that property directly, so they do
not depend on the scheduler either.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from hookmock.auditing import audit
from hookmock.auditing.probes_delivery import CONCURRENT_ROUNDS
from hookmock.clock import VirtualClock
from hookmock.profiles import get_profile
from hookmock.transport._gate import Gate
from hookmock.transport.wsgi import WSGITransport
from receivers import CORRECT, build
from receivers.base import WerkzeugReceiver
from receivers.ported.measure import serving


class _Census(WerkzeugReceiver):
    """Correct, and counts how many copies had entered the app when each one got its body."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entered = 0
        self.seen_at_read: list[int] = []
        self.census_lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ["REQUEST_METHOD"] == "POST":
            with self.census_lock:
                self.entered += 1
        return super().__call__(environ, start_response)

    def handle(self, request: Request) -> Response:
        request.get_data()  # the gate is here
        with self.census_lock:
            self.seen_at_read.append(self.entered)
        return super().handle(request)


class _CheckThenInsert(WerkzeugReceiver):
    """Deduplicates by looking the id up, then recording it a moment later (a database round
    trip): concurrent copies all pass the lookup."""

    window_s = 0.0002

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: set[str] = set()

    def process(self, request: Request, payload: dict[str, Any]) -> Response:
        event_id = self.profile.event_id(payload) or ""
        if event_id in self.seen:
            return Response("duplicate", status=200)
        time.sleep(self.window_s)
        self.seen.add(event_id)
        self.store.apply_always(event_id)
        return Response("ok", status=200)


def _app(cls: type, profile: str = "moda") -> tuple[Any, str, VirtualClock]:
    clock = VirtualClock()
    secret = get_profile(profile).generate_secret()
    return cls(profile, secret, clock), secret, clock


@pytest.mark.parametrize("profile", ["moda", "modio"])
def test_in_process_every_copy_is_inside_the_handler_before_any_gets_its_body(profile: str) -> None:
    app, secret, clock = _app(_Census, profile)
    report = audit(
        app, profile=profile, secret=secret, probe=app.count, clock=clock, only=["concurrent-duplicates"]
    )
    assert report.status("concurrent-duplicates") == "pass", report.text()
    assert f"{CONCURRENT_ROUNDS} burst(s) held" in report["concurrent-duplicates"].detail
    # the baseline (1 copy), then CONCURRENT_ROUNDS bursts of 6: in a burst, each read waits
    # until all 6 copies of that burst have entered the app
    bursts = app.seen_at_read[1:]
    assert len(bursts) == 6 * CONCURRENT_ROUNDS
    for n, seen in enumerate(bursts):
        assert seen >= 1 + 6 * (n // 6 + 1), app.seen_at_read


def test_a_narrow_check_then_insert_window_is_caught_every_time() -> None:
    """0.2 ms between the lookup and the insert: the threads-started-together version missed it
    in about 1 audit of 6 on an idle machine; held copies catch it in every audit."""
    for _ in range(15):
        app, secret, clock = _app(_CheckThenInsert)
        report = audit(
            app, profile="moda", secret=secret, probe=app.count, clock=clock, only=["concurrent-duplicates"]
        )
        assert report.status("concurrent-duplicates") == "fail", report.text()


@pytest.mark.realtime  # loopback sockets and the gate's short real pause
def test_over_sockets_a_narrow_window_is_caught_and_a_correct_receiver_passes() -> None:
    for cls, want in ((_CheckThenInsert, "fail"), (CORRECT["werkzeug"], "pass")):
        for _ in range(3):
            secret = get_profile("moda").generate_secret()
            app = build(cls, "moda", secret, None)
            with serving(app) as url:
                report = audit(
                    url + "/webhook", secret=secret, probe=app.count, only=["concurrent-duplicates"]
                )
            assert report.status("concurrent-duplicates") == want, report.text()


def test_a_copy_that_never_reads_its_body_releases_the_others_at_once() -> None:
    """A handler that answers without reading its body never reaches the gate: the others must not
    wait for it until the gate's timeout (that would be seconds per burst)."""

    def lazy(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Length", "0")])
        return []

    gate = Gate(3, timeout_s=30)
    transport = WSGITransport()
    results: list[Any] = []

    def one() -> None:
        results.append(transport.send(lazy, {}, b"{}", deadline_ns=10**10, clock=VirtualClock(), gate=gate))

    started = time.monotonic()
    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert time.monotonic() - started < 5
    assert [r.status for r in results] == [200, 200, 200]
    assert gate.together is False


@pytest.mark.realtime  # waits out the gate's (shortened) timeout once
def test_a_receiver_that_serialises_its_requests_passes_after_one_burst(monkeypatch: Any) -> None:
    """A lock around the whole handler: the copies can never be held together in-process (the first
    holds the lock while it waits at the gate), so the gate times out once and no more bursts run;
    the receiver is correct and passes."""

    class Serial(CORRECT["werkzeug"]):  # type: ignore[misc,valid-type]
        big_lock = threading.Lock()

        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            with self.big_lock:
                return super().__call__(environ, start_response)

    monkeypatch.setattr("hookmock.auditing.context.GATE_TIMEOUT_S", 0.2)  # the wait is real time
    app, secret, clock = _app(Serial)
    report = audit(
        app, profile="moda", secret=secret, probe=app.count, clock=clock, only=["concurrent-duplicates"]
    )
    assert report.status("concurrent-duplicates") == "pass", report.text()
    assert "sent at once" in report["concurrent-duplicates"].detail


def _burst(app: Any, copies: int = 4) -> list[Any]:
    from hookmock.transport.inprocess import InProcessTransport

    gate = Gate(copies, timeout_s=30)
    transport = InProcessTransport()
    results: list[Any] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(
                transport.send((app, "/"), {}, b"{}", deadline_ns=10**10, clock=VirtualClock(), gate=gate)
            )
        )
        for _ in range(copies)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert gate.together
    return results


def test_an_asgi_handler_gets_its_body_only_when_every_copy_is_running() -> None:
    entered: list[int] = []
    seen: list[int] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        entered.append(1)
        await receive()  # the gate is here, off the event loop: the other copies keep running
        seen.append(len(entered))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    results = _burst(app)
    assert [r.status for r in results] == [200] * 4
    assert seen == [4, 4, 4, 4]


def test_a_wsgi_handler_gets_its_body_only_when_every_copy_is_running() -> None:
    entered: list[int] = []
    seen: list[int] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        entered.append(1)
        environ["wsgi.input"].read()
        seen.append(len(entered))
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    results = _burst(app)
    assert [r.status for r in results] == [200] * 4
    assert seen == [4, 4, 4, 4]
