"""FakeReceiver driven by hookmock's Sender over real loopback sockets, on a virtual clock."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator

import pytest

from hookmock.clock import SECOND, VirtualClock
from hookmock.errors import UsageError
from hookmock.receiver.assertions import assert_faithful_sender
from hookmock.receiver.faults import (
    CloseBeforeStatus,
    Delay,
    Dribble,
    Hang,
    Malformed,
    Reset,
    Respond,
    Sequence,
)
from hookmock.receiver.server import FakeReceiver
from hookmock.sender import Sender


@pytest.fixture(scope="module")
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture(scope="module")
def sender(clock: VirtualClock) -> Iterator[Sender]:
    with Sender("moda", clock=clock) as s:
        yield s


@pytest.fixture(scope="module")
def _server(clock: VirtualClock, sender: Sender) -> Iterator[FakeReceiver]:
    with FakeReceiver("moda", sender.secret, clock=clock, grace=0.3) as receiver:
        yield receiver


@pytest.fixture
def receiver(_server: FakeReceiver) -> Iterator[FakeReceiver]:
    _server.clear()
    yield _server
    _server.check()


def outcomes(delivery: object) -> list[str]:
    return [a.outcome for a in delivery.attempts]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("fault", "outcome"),
    [
        (Respond(503), "response"),
        (Hang(), "timeout"),
        (Delay(31), "timeout"),
        (Dribble(), "timeout"),
        (Reset(), "reset"),
        (CloseBeforeStatus(), "malformed"),
        (Malformed(), "malformed"),
    ],
)
def test_every_fault_gives_the_outcome_the_senders_log_expects(
    receiver: FakeReceiver, sender: Sender, fault: object, outcome: str
) -> None:
    receiver.respond_with(fault)  # type: ignore[arg-type]
    started = time.monotonic()
    delivery = sender.send(receiver.url, "task.succeeded")
    elapsed = time.monotonic() - started
    assert outcomes(delivery) == [outcome] * 4
    assert delivery.status == "failed"
    assert len(receiver.requests) == 4
    assert_faithful_sender(receiver)
    if outcome == "timeout":  # exactly the deadline on the sender's side too
        assert [a.duration_ns for a in delivery.attempts] == [30 * SECOND] * 4
    assert elapsed < 5  # 156 s of virtual time, no real waiting


def test_fail_twice_then_succeed_with_exact_spacing(receiver: FakeReceiver, sender: Sender) -> None:
    receiver.script("500,timeout,ok")
    delivery = sender.send(receiver.url, "task.failed")
    assert [a.status for a in delivery.attempts] == [500, None, 200]
    assert delivery.status == "succeeded"
    arrivals = [r.arrival_ns - receiver.requests[0].arrival_ns for r in receiver.requests]
    # 0; +1 s after the 500; the timeout ends 30 s later, then +5 s
    assert arrivals == [0, 1 * SECOND, 36 * SECOND]
    assert [r.attempt for r in receiver.requests] == [1, 2, 3]
    assert_faithful_sender(receiver, attempts=3)


def test_short_delay_advances_the_virtual_clock_and_answers(receiver: FakeReceiver, sender: Sender) -> None:
    receiver.respond_with(Delay(2.5, Respond(201)))
    delivery = sender.send(receiver.url, "task.succeeded")
    assert outcomes(delivery) == ["response"]
    assert delivery.attempts[0].duration_ns == 2500 * 1_000_000
    item = receiver.requests[0]
    assert item.ended_ns == item.arrival_ns + 2500 * 1_000_000


def test_a_dribble_inside_the_deadline_is_received(receiver: FakeReceiver, sender: Sender) -> None:
    receiver.respond_with(Dribble(10, Respond(200, b"x" * 50)))  # 5 s of dribbling
    delivery = sender.send(receiver.url, "task.succeeded")
    assert delivery.status == "succeeded"
    assert delivery.attempts[0].duration_ns == 5 * SECOND
    assert delivery.attempts[0].excerpt == b"x" * 50


def test_plan_per_event_id_and_attempt(receiver: FakeReceiver, sender: Sender) -> None:
    planned = "evt_01KQGD00000000000000000001"
    receiver.respond_with("ok")
    receiver.plan(planned, Sequence([Respond(502), Reset(), "ok"]))
    first = sender.send(receiver.url, "task.succeeded", id=planned)
    other = sender.send(receiver.url, "task.succeeded")
    assert outcomes(first) == ["response", "reset", "response"]
    assert outcomes(other) == ["response"]
    assert [r.source for r in receiver.record.for_event(planned)] == ["plan"] * 3
    assert receiver.record.for_event(other.event_id)[0].source == "default"


def test_chaos_is_reproducible_from_its_seed(receiver: FakeReceiver, sender: Sender) -> None:
    def run(seed: int) -> list[str]:
        receiver.clear()
        receiver.chaos(probability=0.5, seed=seed)
        results = []
        for n in range(6):
            d = sender.send(receiver.url, "task.succeeded", id=f"evt_01KQGD{n:020d}")
            # the sender gives up at the deadline while the receiver thread may still be recording
            # its hang: read the record once every request has been answered
            assert receiver.wait_idle()
            results.extend(f"{r.attempt}:{r.answer}" for r in receiver.record.for_event(d.event_id))
        return results

    first, again, other = run(1234), run(1234), run(99)
    assert first == again
    assert first != other
    assert any(r.source == "chaos" for r in receiver.requests)
    assert "seed=99" in receiver.timeline()


def test_record_carries_verdict_schema_and_raw_bytes(receiver: FakeReceiver, sender: Sender) -> None:
    delivery = sender.send(receiver.url + "?tenant=7", "export.succeeded")
    item = receiver.requests[0]
    assert item.path == "/webhook?tenant=7"
    assert item.body == delivery.body
    assert item.verdict is not None and item.verdict.ok and item.verdict.fresh
    assert item.schema_valid and item.event_type == "export.succeeded"
    assert item.event_id == delivery.event_id and item.status == 200


def test_bad_requests_are_recorded_not_crashed(receiver: FakeReceiver) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=5)
    conn.request("POST", "/anything/else", body=b"{not json", headers={"Content-Type": "application/json"})
    assert conn.getresponse().status == 200
    item = receiver.requests[0]
    assert item.json_error and not item.schema_valid
    assert item.verdict is not None and not item.verdict.ok
    assert "schema INVALID" in receiver.timeline()


def test_threaded_one_hang_does_not_block_others() -> None:
    """On the real clock, a hanging request does not hold up a second one."""
    with FakeReceiver("moda", grace=0.2) as receiver:
        receiver.plan("evt_slow", Hang())
        body = json.dumps({"id": "evt_slow"}).encode()
        slow = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=5)
        slow.request("POST", "/", body=body)
        t = time.monotonic()
        quick = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=5)
        quick.request("POST", "/", body=b"{}")
        assert quick.getresponse().status == 200
        assert time.monotonic() - t < 2
        slow.close()


def test_tls_with_a_run_time_ca(clock: VirtualClock) -> None:
    with FakeReceiver("moda", "whsec_" + "a" * 32, clock=clock, tls=True) as receiver:
        assert receiver.url.startswith("https://127.0.0.1:")
        assert receiver.ca_file is not None
        with Sender("moda", "whsec_" + "a" * 32, clock=clock, ca_file=receiver.ca_file) as sender:
            delivery = sender.send(receiver.url, "task.succeeded")
        assert delivery.status == "succeeded"
        assert receiver.requests[0].verdict.ok  # type: ignore[union-attr]
        with Sender("moda", clock=clock) as untrusting:
            refused = untrusting.send(receiver.url, "task.succeeded")
        assert refused.attempts[0].outcome == "tls_error"
        ca_file = receiver.ca_file
    import os

    assert not os.path.exists(ca_file)  # nothing left behind


def test_handler_errors_are_reraised_by_check(clock: VirtualClock) -> None:
    def broken(environ: object, start_response: object) -> list[bytes]:
        raise RuntimeError("handler bug")

    with FakeReceiver("moda", clock=clock, handler=broken) as receiver:
        conn = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=5)
        conn.request("POST", "/", body=b"{}")
        assert conn.getresponse().status == 500
        with pytest.raises(RuntimeError, match="handler bug"):
            receiver.check()


def test_secret_never_in_repr_and_bad_input_is_a_usage_error() -> None:
    receiver = FakeReceiver("moda", "whsec_" + "s" * 32)
    assert "sss" not in repr(receiver)
    with pytest.raises(UsageError, match="secret"):
        FakeReceiver("moda", "")
    with pytest.raises(UsageError, match="handler"):
        FakeReceiver("moda", handler=42)  # type: ignore[arg-type]


def test_wait_for_is_bounded(receiver: FakeReceiver) -> None:
    assert receiver.wait_for(1, timeout=0.05) is False
    threading.Thread(
        target=lambda: http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=5).request(
            "POST", "/", body=b"{}"
        )
    ).start()
    assert receiver.wait_for(1, timeout=5)


def test_rebind_serves_another_profile_secret_and_clock_on_the_same_socket() -> None:
    first, second = VirtualClock(start=1_700_000_000), VirtualClock(start=1_800_000_000)
    with FakeReceiver("moda", "whsec_first_secret_000000000000000", clock=first) as receiver:
        url = receiver.url
        receiver.script("500,ok")
        with Sender("moda", "whsec_first_secret_000000000000000", clock=first) as moda:
            moda.send(url, "task.succeeded")
        assert [r.status for r in receiver.requests] == [500, 200]

        def app(environ, start_response):  # type: ignore[no-untyped-def]
            start_response("202 Accepted", [])
            return [b""]

        seen: list[object] = []
        receiver.rebind(
            profile="modio", secret="game-token-2", clock=second, handler=app, on_request=seen.append
        )
        assert receiver.url == url and receiver.requests == []  # cleared: plans and records
        with Sender("modio", "game-token-2", clock=second) as modio:
            delivery = modio.send(url, "ADD_MOD")
        assert [a.status for a in delivery.attempts] == [202]  # the handler answers, no plan left
        (item,) = receiver.requests
        assert item.verdict is not None and item.verdict.ok and item.arrival_ns == second.now_ns()
        assert seen == [item]

        receiver.rebind(secret="another-token", handler=None)  # profile, clock, on_request kept
        with Sender("modio", "game-token-2", clock=second) as modio:
            assert [a.status for a in modio.send(url, "ADD_MOD").attempts] == [200]
        assert receiver.requests[0].verdict.reason == "bad_token"  # type: ignore[union-attr]
        assert receiver.profile.name == "modio" and receiver.clock is second and len(seen) == 2

        with pytest.raises(UsageError, match="secret=''"):
            receiver.rebind(secret="")
        with pytest.raises(UsageError, match="handler=42"):
            receiver.rebind(handler=42)
        assert receiver.secret == "another-token"  # a refused rebind changes nothing


def test_a_senders_ca_file_can_be_set_after_an_https_attempt() -> None:
    clock = VirtualClock()
    with (
        FakeReceiver("moda", tls=True, clock=clock) as receiver,
        Sender("moda", clock=clock, retry_delays_s=[]) as sender,
    ):
        refused = sender.send(receiver.url, "task.succeeded")
        assert refused.status == "failed" and receiver.requests == []  # not trusted yet
        sender.ca_file = receiver.ca_file
        assert sender.send(receiver.url, "task.succeeded").status == "succeeded"
