"""What the fake receiver recorded stays what arrived, and its secret can be changed between requests.

* ``ReceivedRequest`` fields cannot be assigned (the headers were already an immutable tuple; the
  body, the verdict, the answer ... could be rewritten), while the record's own release of bodies
  (to bound its memory) still works.
* ``FakeReceiver.secret = new`` used to be ignored (the record kept the old one): it now applies to
  requests arriving afterwards, as pytest-httpserver's and WireMock's settings apply to later
  requests; requests already recorded keep the verdict of their arrival."""

from __future__ import annotations

import dataclasses

import pytest

from hookmock import FakeReceiver, Sender, VirtualClock
from hookmock.errors import UsageError
from hookmock.receiver.record import ReceivedRequest

pytest_plugins = ["pytester"]

S1 = "whsec_" + "A" * 32
S2 = "whsec_" + "B" * 32
FIELDS = [f.name for f in dataclasses.fields(ReceivedRequest) if not f.name.startswith("_")]


def _received(secret: str = S1) -> tuple[FakeReceiver, ReceivedRequest]:
    clock = VirtualClock()
    receiver = FakeReceiver("moda", secret, clock=clock)
    receiver.start()
    Sender("moda", secret, clock=clock).send(receiver.url, "task.succeeded")
    return receiver, receiver.requests[0]


@pytest.mark.parametrize("name", FIELDS)
def test_no_recorded_field_can_be_assigned_or_deleted(name: str) -> None:
    receiver, item = _received()
    try:
        before = getattr(item, name)
        for value in (b"forged", "forged", 1, None):
            with pytest.raises(
                AttributeError,
                match=rf"ReceivedRequest\.{name} cannot be changed: the record is what arrived",
            ):
                setattr(item, name, value)
        with pytest.raises(AttributeError, match="the record is what arrived"):
            delattr(item, name)
        assert getattr(receiver.requests[0], name) == before
    finally:
        receiver.stop()


def test_body_and_extra_cannot_be_rewritten_in_place_either() -> None:
    receiver, item = _received()
    try:
        body = item.body
        assert isinstance(body, bytes) and item.verdict is not None and item.verdict.ok
        with pytest.raises(TypeError):
            item.extra["upstream"] = "forged"  # type: ignore[index]
        with pytest.raises(AttributeError, match="the record is what arrived"):
            item.body = b'{"id": "forged"}'  # type: ignore[misc]
        assert receiver.requests[0].body == body and receiver.requests[0].verdict.ok
        assert "forged" not in receiver.timeline()
    finally:
        receiver.stop()


def test_the_record_still_releases_old_bodies_to_bound_its_memory() -> None:
    clock = VirtualClock()
    with FakeReceiver("moda", S1, clock=clock, keep_bytes=1500) as receiver:
        sender = Sender("moda", S1, clock=clock)
        for _ in range(4):
            sender.send(receiver.url, "task.succeeded")
        first, last = receiver.requests[0], receiver.requests[-1]
        assert first.body == b"" and first.headers == () and first.truncated
        assert first.body_size > 0 and first.verdict is not None and first.verdict.ok
        assert last.body and last.truncated is None
        with pytest.raises(AttributeError, match="the record is what arrived"):
            first.truncated = None  # type: ignore[misc]


def test_a_forwarding_failure_is_still_noted_in_extra() -> None:
    """The receiver's own note (``extra["upstream"]``) is written through its private path."""
    clock = VirtualClock()
    with FakeReceiver("moda", S1, clock=clock, handler="http://127.0.0.1:9/nothing-listens") as receiver:
        Sender("moda", S1, clock=clock).send(receiver.url, "task.succeeded")
        assert receiver.requests[0].extra.get("upstream")


def test_a_new_secret_applies_to_requests_arriving_after_it() -> None:
    clock = VirtualClock()
    with FakeReceiver("moda", S1, clock=clock) as receiver:
        Sender("moda", S1, clock=clock).send(receiver.url, "task.succeeded")
        receiver.secret = S2
        assert receiver.secret == S2 and receiver.record.secret == S2
        Sender("moda", S1, clock=clock).send(receiver.url, "task.succeeded")
        Sender("moda", S2, clock=clock).send(receiver.url, "task.succeeded")
        first, old_signed, new_signed = receiver.requests
        assert first.verdict is not None and first.verdict.ok  # as on its arrival
        assert old_signed.verdict is not None and not old_signed.verdict.authentic
        assert new_signed.verdict is not None and new_signed.verdict.ok
        timeline = receiver.timeline()
        assert S1 not in timeline and S2 not in timeline
        receiver.secret = None  # no secret: no verdicts from now on
        Sender("moda", S2, clock=clock).send(receiver.url, "task.succeeded")
        assert receiver.requests[-1].verdict is None and first.verdict.ok


@pytest.mark.parametrize("bad", ["", 3])
def test_an_unusable_secret_is_refused_when_assigned(bad: object) -> None:
    with FakeReceiver("moda", S1, clock=VirtualClock()) as receiver:
        with pytest.raises(UsageError, match="secret"):
            receiver.secret = bad  # type: ignore[assignment]
        assert receiver.secret == S1 and receiver.record.secret == S1


def test_the_pytest_fixture_s_receiver_takes_a_new_secret(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        def test_new_secret(hookmock_sender, hookmock_receiver, hookmock_secret):
            hookmock_sender.send(hookmock_receiver.url, "task.succeeded")
            hookmock_receiver.secret = {S2!r}
            hookmock_sender.send(hookmock_receiver.url, "task.succeeded")
            first, second = hookmock_receiver.requests[:2]
            assert first.verdict.ok
            assert not second.verdict.authentic

        def test_the_next_test_has_the_test_secret_again(hookmock_sender, hookmock_receiver, hookmock_secret):
            assert hookmock_receiver.secret == hookmock_secret
            hookmock_sender.send(hookmock_receiver.url, "task.succeeded")
            assert hookmock_receiver.requests[0].verdict.ok
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
