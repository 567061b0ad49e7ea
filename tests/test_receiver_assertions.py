"""Sender assertions: deliberately wrong senders are each caught; correct senders pass them all."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from hookmock.clock import SECOND, VirtualClock
from hookmock.factories import EventFactory
from hookmock.profiles import get_profile
from hookmock.receiver.assertions import (
    assert_attempts,
    assert_faithful_sender,
    assert_fresh_signatures,
    assert_gave_up_at_deadline,
    assert_identical_bodies,
    assert_same_event_id,
    assert_schedule,
    assert_valid_bodies,
    expected_attempts,
)
from hookmock.receiver.server import FakeReceiver
from hookmock.sender import Sender

SECRET = "whsec_" + "k" * 32
#: attempt 1 hangs past the deadline, 2 and 3 fail, 4 succeeds: exercises every rule
SCRIPT = "timeout,500,503,ok"


@dataclass
class HandMadeSender:
    """A small sender written the way integrators write theirs, with switchable mistakes."""

    clock: VirtualClock
    retry: bool = True
    delays_s: tuple[float, ...] = (1, 5, 30)
    reserialize: bool = False
    reuse_timestamp: bool = False
    new_id_per_attempt: bool = False
    deadline_s: float | None = 30
    stale_by_s: int = 0

    def send(self, url_port: int) -> None:
        profile = get_profile("moda")
        factory = EventFactory(profile, seed=7, clock=self.clock)
        payload = factory.event("task.succeeded")
        body = profile.serialize(payload)
        first_ts = self.clock.time()
        attempts = 1 + (len(self.delays_s) if self.retry else 0)
        for n in range(attempts):
            if n:
                self.clock.advance(self.delays_s[n - 1])
            if self.new_id_per_attempt and n:
                payload = factory.event("task.succeeded")
                body = profile.serialize(payload)
            if self.reserialize and n:
                body = json.dumps(json.loads(body), indent=n).encode()
            ts = (first_ts if self.reuse_timestamp else self.clock.time()) - self.stale_by_s
            headers = profile.delivery_headers(body, SECRET, ts)
            if self._post(url_port, headers, body):
                return

    def _post(self, port: int, headers: dict[str, str], body: bytes) -> bool:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        timer = None
        if self.deadline_s is not None:
            due = self.clock.now_ns() + round(self.deadline_s * SECOND)
            timer = self.clock.call_at(due, lambda: _shut(sock))
        try:
            head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            sock.sendall(
                f"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n{head}\r\n".encode()
                + body
            )
            data = b""
            with contextlib.suppress(OSError):
                while chunk := sock.recv(4096):
                    data += chunk
            return data.startswith(b"HTTP/1.1 2")
        finally:
            if timer is not None:
                timer.cancel()
            sock.close()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def receiver() -> Iterator[FakeReceiver]:
    with FakeReceiver("moda", SECRET, clock=VirtualClock(), grace=0.3) as r:
        r.script(SCRIPT)
        yield r
        r.check()


def run(receiver: FakeReceiver, **mistakes: Any) -> FakeReceiver:
    assert isinstance(receiver.clock, VirtualClock)
    HandMadeSender(receiver.clock, **mistakes).send(receiver.port)
    receiver.wait_idle()
    return receiver


def test_hookmocks_sender_passes_every_assertion(receiver: FakeReceiver) -> None:
    with Sender("moda", SECRET, clock=receiver.clock) as sender:
        delivery = sender.send(receiver.url, "task.failed")
    assert delivery.status == "succeeded"
    assert expected_attempts(receiver) == 4
    assert_faithful_sender(receiver, attempts=4)
    for check in (assert_schedule, assert_same_event_id, assert_identical_bodies, assert_valid_bodies):
        check(receiver)
    assert_fresh_signatures(receiver)
    assert_gave_up_at_deadline(receiver)


def test_a_correct_hand_made_sender_passes_every_assertion(receiver: FakeReceiver) -> None:
    run(receiver)
    assert_faithful_sender(receiver, attempts=4)
    assert_gave_up_at_deadline(receiver)


WRONG: list[tuple[str, dict[str, Any], Callable[..., None], str]] = [
    ("no retry", {"retry": False}, assert_attempts, "expected exactly 4 attempt(s)"),
    ("wrong spacing", {"delays_s": (1, 1, 1)}, assert_schedule, "off schedule"),
    ("re-serialized body", {"reserialize": True}, assert_identical_bodies, "different body bytes"),
    ("reused timestamp", {"reuse_timestamp": True}, assert_fresh_signatures, "stamped"),
    ("new event id per attempt", {"new_id_per_attempt": True}, assert_same_event_id, "different event ids"),
    ("no deadline", {"deadline_s": None}, assert_gave_up_at_deadline, "still waiting"),
    ("deadline too long", {"deadline_s": 60}, assert_gave_up_at_deadline, "still waiting"),
    ("stale timestamps", {"stale_by_s": 400}, assert_fresh_signatures, "timestamp_too_old"),
]


@pytest.mark.parametrize(("name", "mistake", "check", "message"), WRONG, ids=[w[0] for w in WRONG])
def test_each_wrong_sender_is_caught_by_its_assertion(
    receiver: FakeReceiver, name: str, mistake: dict[str, Any], check: Callable[..., None], message: str
) -> None:
    run(receiver, **mistake)
    kwargs = {"n": 4} if check is assert_attempts else {}
    with pytest.raises(AssertionError) as caught:
        check(receiver, **kwargs)
    text = str(caught.value)
    assert message in text
    assert "delivery timeline (moda" in text and "#1 attempt 1 at +0.000s" in text
    with pytest.raises(AssertionError):
        assert_faithful_sender(receiver, attempts=4)


def test_attempts_default_follows_the_answers(receiver: FakeReceiver) -> None:
    receiver.script("500,ok")
    run(receiver)
    assert expected_attempts(receiver) == 2
    assert_attempts(receiver)
    receiver.clear()
    receiver.script("500,ok")
    run(receiver, retry=False)
    with pytest.raises(AssertionError, match=r"expected exactly 4 attempt.*retry until"):
        assert_attempts(receiver)


def test_retry_after_success_is_caught(receiver: FakeReceiver) -> None:
    receiver.script("ok")
    # A sender that ignores the 200 and keeps going: modelled by four posts in a row.
    sender = HandMadeSender(receiver.clock)  # type: ignore[arg-type]
    for n in range(2):
        if n:
            receiver.clock.advance(1)  # type: ignore[attr-defined]
        sender._post(
            receiver.port, get_profile("moda").delivery_headers(b"{}", SECRET, sender.clock.time()), b"{}"
        )
    receiver.wait_idle()
    with pytest.raises(AssertionError, match="although attempt 1 succeeded"):
        assert_schedule(receiver)
    with pytest.raises(AssertionError, match="not schema-valid"):
        assert_valid_bodies(receiver)


def test_nothing_received_and_no_secret_give_clear_failures() -> None:
    with FakeReceiver("moda", clock=VirtualClock()) as r:
        with pytest.raises(AssertionError, match="sent nothing"):
            assert_same_event_id(r)
        with Sender("moda", clock=r.clock) as sender:
            sender.send(r.url, "task.succeeded")
        with pytest.raises(AssertionError, match="give the FakeReceiver the secret"):
            assert_fresh_signatures(r)
        with pytest.raises(AssertionError, match="plan a Hang"):
            assert_gave_up_at_deadline(r)
        with pytest.raises(TypeError, match="FakeReceiver or its Record"):
            assert_attempts(object(), 1)


def test_modio_sender_passes_and_token_checked() -> None:
    with FakeReceiver("modio", "t" * 40, clock=VirtualClock(), grace=0.3) as r:
        r.script("timeout")
        with Sender("modio", "t" * 40, clock=r.clock) as sender:
            delivery = sender.send(r.url, "ADD_MOD_COMMENT")
        assert delivery.status == "failed" and len(delivery.attempts) == 1  # mod.io never retries
        assert_faithful_sender(r, attempts=1)
        assert r.requests[0].gave_up_ns == r.requests[0].arrival_ns + 5 * SECOND
