"""FaultProxy in front of real handlers: lost acknowledgements, duplicates, tampering, stale replay."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug import Request, Response
from werkzeug.serving import make_server

from hookmock.clock import VirtualClock
from hookmock.errors import UsageError
from hookmock.profiles import get_profile
from hookmock.receiver.faults import Hang, Reset
from hookmock.receiver.proxy import FaultProxy
from hookmock.receiver.server import FakeReceiver
from hookmock.sender import Sender

SECRET = "whsec_" + "p" * 32
PROFILE = get_profile("moda")


class Handler:
    """An integrator's receiver: verifies, then applies the event's side effect."""

    def __init__(self, clock: VirtualClock, *, dedupe: bool, together: int = 0) -> None:
        self.clock = clock
        self.dedupe = dedupe
        #: ``together`` copies must be in the handler at once (else BrokenBarrierError: a 500)
        self.barrier = threading.Barrier(together, timeout=5) if together else None
        self.effects: Counter[str] = Counter()
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        verdict = PROFILE.check(request.headers, body, SECRET, now=self.clock.time())
        if not verdict.ok:
            return Response(verdict.reason, status=401)(environ, start_response)
        event_id = json.loads(body)["id"]
        if self.barrier is not None:
            self.barrier.wait()  # concurrent copies meet here; copies one after another never do
        if self.dedupe:
            with self.lock:  # insert-if-absent under a lock: no check-then-insert race
                if event_id in self.seen:
                    return Response("duplicate", status=200)(environ, start_response)
                self.seen.add(event_id)
        with self.lock:
            self.effects[event_id] += 1
        return Response("applied", status=200)(environ, start_response)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def sender(clock: VirtualClock) -> Iterator[Sender]:
    with Sender("moda", SECRET, clock=clock) as s:
        yield s


@pytest.mark.parametrize(("dedupe", "effects"), [(False, 2), (True, 1)])
def test_lost_ack_over_a_real_socket_shows_the_duplicate(
    clock: VirtualClock, sender: Sender, dedupe: bool, effects: int
) -> None:
    handler = Handler(clock, dedupe=dedupe)
    proxy = FaultProxy(handler, "moda", clock=clock).lose_ack("timeout")
    with FakeReceiver("moda", SECRET, clock=clock, handler=proxy) as receiver:
        delivery = sender.send(receiver.url, "task.succeeded")
        receiver.check()
    assert [a.outcome for a in delivery.attempts] == ["timeout", "response"]
    assert delivery.status == "succeeded"
    assert handler.effects[delivery.event_id] == effects  # type: ignore[index]
    assert [c.answered for c in proxy.captured] == ["lost acknowledgement: hang", "upstream"]
    assert receiver.requests[0].held_past_deadline and receiver.requests[1].status == 200


@pytest.mark.parametrize("fault", ["500", Reset()])
def test_lost_ack_with_status_or_reset_behind_the_receiver(
    clock: VirtualClock, sender: Sender, fault: Any
) -> None:
    handler = Handler(clock, dedupe=False)
    proxy = FaultProxy(handler, "moda", clock=clock).lose_ack(fault)
    with FakeReceiver("moda", SECRET, clock=clock, handler=proxy) as receiver:
        delivery = sender.send(receiver.url, "task.succeeded")
    assert delivery.attempts[0].outcome == ("reset" if isinstance(fault, Reset) else "response")
    assert handler.effects[delivery.event_id] == 2  # type: ignore[index]


def test_lost_ack_in_process_through_the_wsgi_transport(clock: VirtualClock, sender: Sender) -> None:
    handler = Handler(clock, dedupe=False)
    proxy = FaultProxy(handler, "moda", clock=clock).lose_ack(Hang())
    delivery = sender.send(proxy, "task.failed")
    assert [a.outcome for a in delivery.attempts] == ["timeout", "response"]
    assert handler.effects[delivery.event_id] == 2  # type: ignore[index]
    proxy.clear()
    proxy.lose_ack(Reset())
    errored = sender.send(proxy, "task.failed")
    assert errored.attempts[0].outcome == "error"
    assert "needs a real connection" in errored.attempts[0].detail


def test_fail_answers_without_forwarding_and_leaves_other_rules_armed(
    clock: VirtualClock, sender: Sender
) -> None:
    handler = Handler(clock, dedupe=False)
    proxy = FaultProxy(handler, "moda", clock=clock).fail(503, times=2).duplicate(2)
    delivery = sender.send(proxy, "task.succeeded")
    assert [a.status for a in delivery.attempts] == [503, 503, 200] and delivery.status == "succeeded"
    assert b"did not see" in delivery.attempts[0].excerpt
    # the handler saw only the forwarded attempt, duplicated by the rule armed behind the failures
    assert handler.effects[delivery.event_id] == 2  # type: ignore[index]
    assert [c.answered for c in proxy.captured] == ["failed without forwarding: HTTP 503"] * 2 + ["upstream"]
    assert [len(c.upstream) for c in proxy.captured] == [0, 0, 2]
    # only for one event id; a timeout in-process is held to the deadline
    proxy.clear()
    proxy.fail("timeout", event_id="evt_someone_else")
    untouched = sender.send(proxy, "task.failed")
    assert [a.status for a in untouched.attempts] == [200]
    proxy.fail("timeout", times=1)
    timed_out = sender.send(proxy, "task.failed")
    assert [a.outcome for a in timed_out.attempts] == ["timeout", "response"]
    assert timed_out.attempts[0].duration_ns == PROFILE.deadline_ns
    with pytest.raises(UsageError):
        proxy.fail("not-a-fault")


def test_fail_with_a_reset_behind_a_real_socket(clock: VirtualClock, sender: Sender) -> None:
    handler = Handler(clock, dedupe=False)
    proxy = FaultProxy(handler, "moda", clock=clock).fail(Reset())
    with FakeReceiver("moda", SECRET, clock=clock, handler=proxy) as receiver:
        delivery = sender.send(receiver.url, "task.succeeded")
    assert [a.outcome for a in delivery.attempts] == ["reset", "response"]
    assert handler.effects[delivery.event_id] == 1  # type: ignore[index]


@pytest.mark.parametrize(("dedupe", "effects"), [(False, 3), (True, 1)])
def test_concurrent_copies_hit_the_dedupe(
    clock: VirtualClock, sender: Sender, dedupe: bool, effects: int
) -> None:
    handler = Handler(clock, dedupe=dedupe, together=3)
    proxy = FaultProxy(handler, "moda", clock=clock).duplicate(3, concurrent=True)
    delivery = sender.send(proxy, "task.succeeded")
    assert delivery.status == "succeeded"
    assert handler.effects[delivery.event_id] == effects  # type: ignore[index]
    assert len(proxy.captured[0].upstream) == 3


def test_tampered_signature_and_body_are_rejected_by_a_verifying_handler(
    clock: VirtualClock, sender: Sender
) -> None:
    handler = Handler(clock, dedupe=True)
    proxy = FaultProxy(handler, "moda", clock=clock).tamper(signature=True)
    first = sender.send(proxy, "task.succeeded")
    proxy.tamper(body=lambda b: b.replace(b'"task.succeeded"', b'"task.failed"'))
    second = sender.send(proxy, "task.succeeded")
    assert first.attempts[0].status == 401
    assert second.attempts[0].status == 401
    assert proxy.captured[0].upstream[0].body == b"bad_signature"
    assert sum(handler.effects.values()) == 2  # only the honest retries were applied
    with pytest.raises(UsageError, match="tamper"):
        proxy.tamper()


def test_stale_replay_keeps_original_bytes_and_headers(clock: VirtualClock, sender: Sender) -> None:
    handler = Handler(clock, dedupe=False)
    proxy = FaultProxy(handler, "moda", clock=clock)
    delivery = sender.send(proxy, "task.succeeded")
    assert handler.effects[delivery.event_id] == 1  # type: ignore[index]
    clock.advance(60)
    fresh_enough = proxy.replay(0)
    assert fresh_enough.status == 200  # inside the tolerance: accepted (and applied again)
    clock.advance(3600)
    stale = proxy.replay(proxy.captured[0])
    assert stale.status == 401 and stale.body == b"timestamp_too_old"
    assert handler.effects[delivery.event_id] == 2  # type: ignore[index]


def test_upstream_url_through_the_http_transport(clock: VirtualClock, sender: Sender) -> None:
    handler = Handler(clock, dedupe=False)
    upstream = make_server("127.0.0.1", 0, handler, threaded=True)
    thread = threading.Thread(target=upstream.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{upstream.port}/hooks"
        with FakeReceiver("moda", SECRET, clock=clock, handler=url) as receiver:
            assert isinstance(receiver.handler, FaultProxy)
            receiver.handler.lose_ack(502)
            delivery = sender.send(receiver.url, "task.succeeded")
        assert [a.status for a in delivery.attempts] == [502, 200]
        assert handler.effects[delivery.event_id] == 2  # type: ignore[index]
    finally:
        upstream.shutdown()
        thread.join()


def test_bad_proxy_configuration_is_a_usage_error(clock: VirtualClock) -> None:
    with pytest.raises(UsageError, match="upstream"):
        FaultProxy(42, "moda")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="copies"):
        FaultProxy(Handler(clock, dedupe=False), "moda").duplicate(0)
