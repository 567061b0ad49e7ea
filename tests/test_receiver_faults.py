"""The fault vocabulary and script parser (pure), and the real-clock path of each timed fault."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from hookmock.clock import SECOND, RealClock
from hookmock.errors import UsageError
from hookmock.receiver.faults import (
    Chaos,
    CloseBeforeStatus,
    Delay,
    Dribble,
    Hang,
    Malformed,
    Reset,
    Respond,
    Sequence,
    as_plan,
    parse_script,
)
from hookmock.receiver.server import FakeReceiver
from hookmock.sender import Sender


def test_script_tokens() -> None:
    plan = parse_script("500, ok,timeout,reset,close,malformed,delay:2.5,delay:1:503,dribble,dribble:10,hang")
    assert plan.faults == (
        Respond(500),
        Respond(200),
        Hang(),
        Reset(),
        CloseBeforeStatus(),
        Malformed(),
        Delay(2.5),
        Delay(1.0, Respond(503)),
        Dribble(),
        Dribble(10.0),
        Hang(),
    )


def test_sequence_repeats_its_last_step_and_star_repeats_a_token() -> None:
    plan = parse_script("500*2,ok")
    assert [plan.for_attempt(n).describe() for n in (1, 2, 3, 4)] == [
        "HTTP 500",
        "HTTP 500",
        "HTTP 200",
    ] * 1 + ["HTTP 200"]
    assert as_plan(503) == Respond(503)
    assert as_plan([500, "ok"]) == Sequence([Respond(500), Respond(200)])


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("500,bogus", "'bogus'"),
        ("", "empty fault script"),
        ("500,,ok", "extra comma"),
        ("999", "100-599"),
        ("delay:x", "delay:2.5"),
        ("dribble:0", "dribble:10"),
        ("500*0", "500\\*3"),
    ],
)
def test_bad_scripts_name_the_token(script: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_script(script)


def test_bad_fault_values() -> None:
    with pytest.raises(UsageError, match="status"):
        Respond(42)
    with pytest.raises(UsageError, match="seconds"):
        Delay(-1)
    with pytest.raises(UsageError, match="rate"):
        Dribble(0)
    with pytest.raises(UsageError, match="probability"):
        Chaos(1.5, 1)
    with pytest.raises(UsageError, match="not a fault"):
        as_plan(object())
    assert Respond(200, "text").body == b"text"  # type: ignore[arg-type]
    assert Respond(200, headers={"X-A": "1"}).headers == (("X-A", "1"),)  # type: ignore[arg-type]


def test_chaos_depends_only_on_seed_event_and_attempt() -> None:
    chaos = Chaos(0.5, seed=1234)
    picks = [chaos.choose(f"evt_{n}", a) for n in range(40) for a in (1, 2)]
    assert picks == [Chaos(0.5, seed=1234).choose(f"evt_{n}", a) for n in range(40) for a in (1, 2)]
    assert 20 < sum(p is not None for p in picks) < 60
    assert picks != [Chaos(0.5, seed=4321).choose(f"evt_{n}", a) for n in range(40) for a in (1, 2)]
    assert Chaos(0.0, 1).choose("x", 1) is None and Chaos(1.0, 1).choose("x", 1) is not None


# -- the real-clock path: one short test per timed fault kind ------------------------------------


@pytest.fixture
def real() -> Iterator[tuple[FakeReceiver, Sender]]:
    with (
        FakeReceiver("moda", "whsec_" + "r" * 32, grace=0.5) as receiver,
        Sender("moda", "whsec_" + "r" * 32, deadline_s=0.4, retry_delays_s=[]) as sender,
    ):
        yield receiver, sender


@pytest.mark.realtime
def test_real_clock_delay_really_waits(real: tuple[FakeReceiver, Sender]) -> None:
    receiver, sender = real
    receiver.respond_with(Delay(0.15))
    t = time.monotonic()
    delivery = sender.send(receiver.url, "task.succeeded")
    assert time.monotonic() - t >= 0.15
    assert delivery.attempts[0].status == 200
    assert delivery.attempts[0].duration_ns >= 0.15 * SECOND  # type: ignore[operator]


@pytest.mark.realtime
def test_real_clock_hang_is_abandoned_at_the_senders_deadline(real: tuple[FakeReceiver, Sender]) -> None:
    receiver, sender = real
    receiver.respond_with(Hang())
    delivery = sender.send(receiver.url, "task.succeeded")
    assert delivery.attempts[0].outcome == "timeout"
    receiver.wait_idle()
    item = receiver.requests[0]
    waited = (item.gave_up_ns - item.arrival_ns) / SECOND  # type: ignore[operator]
    assert 0.35 <= waited < 1.0  # the sender hung up at its (shortened) deadline
    assert isinstance(receiver.clock, RealClock)


@pytest.mark.realtime
def test_real_clock_dribble_is_cut_by_a_total_deadline(real: tuple[FakeReceiver, Sender]) -> None:
    receiver, sender = real
    receiver.respond_with(Dribble(20, Respond(200, b"." * 40)))  # 2 s of body, 0.4 s deadline
    t = time.monotonic()
    delivery = sender.send(receiver.url, "task.succeeded")
    assert delivery.attempts[0].outcome == "timeout"
    assert time.monotonic() - t < 1.5
    receiver.wait_idle()
    assert "sender hung up" in receiver.requests[0].answer
