"""Recovery and cancellation in the delivery log, one promise each (real SQLite files).

``recover`` ends the attempts a dead process left in flight (``interrupted``, with how long they
ran and why) and makes their deliveries due again, only for the profile asked about; it leaves a
live sender's attempts alone and, with ``alone=True``, says the file is in use.  ``cancel_pending``
ends exactly the pending deliveries asked for.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hookmock.clock import SECOND
from hookmock.delivery import machine as m
from hookmock.delivery.log import DeliveryLog
from hookmock.errors import UsageError
from hookmock.profiles import get_profile
from hookmock.transport import AttemptResult

T0 = 1_800_000_000 * SECOND
RULES = {name: m.Rules.from_profile(get_profile(name)) for name in ("moda", "modio")}
DETAIL = "the sending process stopped before the attempt completed"


def _create(log: DeliveryLog, delivery_id: str, profile: str = "moda") -> str:
    log.create(
        delivery_id=delivery_id,
        profile=profile,
        event_id=f"evt_{delivery_id}",
        event_type="task.succeeded" if profile == "moda" else "mod_added",
        target_url="http://127.0.0.1:9/x",
        body=b"{}",
        created_ns=T0,
    )
    return delivery_id


def _start(log: DeliveryLog, delivery_id: str, at: int) -> m.DeliveryState:
    record = log.get(delivery_id)
    state = m.attempt_started(record.state, RULES[record.profile], at)
    log.start_attempt(delivery_id, state, timestamp=at // SECOND)
    return state


def _die(log: DeliveryLog) -> None:
    """The process "dies": its connection and its send lock go, its rows stay."""
    log._db.close()
    if log._sendlock is not None:
        log._sendlock.close()


def _attempts(log: DeliveryLog, delivery_id: str) -> list[tuple[str, int, str | None]]:
    return [(a.outcome, a.duration_ns, a.detail) for a in log.attempts(delivery_id)]


def test_recovery_records_how_long_the_attempt_ran_and_why_it_ended(tmp_path: Path):
    path = tmp_path / "log.db"
    log = DeliveryLog(path)
    _create(log, "whd_a")
    _start(log, "whd_a", T0 + 2 * SECOND)
    _die(log)
    with DeliveryLog(path) as again:
        assert again.recover(T0 + 9 * SECOND) == ["whd_a"]
        assert _attempts(again, "whd_a") == [("interrupted", 7 * SECOND, DETAIL)]
        state = again.get("whd_a").state
        assert state.phase is not m.Phase.IN_FLIGHT
        assert state.next_due_ns == T0 + 9 * SECOND  # due again at once


def test_an_attempt_recovered_the_instant_it_started_lasted_zero(tmp_path: Path):
    path = tmp_path / "log.db"
    log = DeliveryLog(path)
    _create(log, "whd_a")
    _start(log, "whd_a", T0)
    _die(log)
    with DeliveryLog(path) as again:
        assert again.recover(T0) == ["whd_a"]
        assert _attempts(again, "whd_a") == [("interrupted", 0, DETAIL)]


def test_recovery_of_one_profile_leaves_the_others_in_flight(tmp_path: Path):
    path = tmp_path / "log.db"
    log = DeliveryLog(path)
    _create(log, "whd_moda", "moda")
    _create(log, "whd_modio", "modio")
    _start(log, "whd_moda", T0)
    _start(log, "whd_modio", T0)
    _die(log)
    with DeliveryLog(path) as again:
        assert again.recover(T0 + SECOND, profile="modio") == ["whd_modio"]
        assert [a.outcome for a in again.attempts("whd_moda")] == ["in_flight"]
        assert again.get("whd_moda").state.phase is m.Phase.IN_FLIGHT
        assert again.recover(T0 + 2 * SECOND, profile="moda") == ["whd_moda"]
        assert _attempts(again, "whd_moda") == [("interrupted", 2 * SECOND, DETAIL)]
        assert again.in_flight_attempts() == 0


def test_the_attempts_of_canceled_deliveries_end_for_the_profile_recovered_only(tmp_path: Path):
    path = tmp_path / "log.db"
    log = DeliveryLog(path)
    for profile in ("moda", "modio"):
        _create(log, f"whd_{profile}", profile)
        _start(log, f"whd_{profile}", T0)
    assert sorted(log.cancel_pending(T0)) == ["whd_moda", "whd_modio"]
    _die(log)
    with DeliveryLog(path) as again:
        assert again.recover(T0 + 3 * SECOND, profile="moda") == []  # canceled: nothing to resend
        assert _attempts(again, "whd_moda") == [("interrupted", 3 * SECOND, DETAIL)]
        assert [a.outcome for a in again.attempts("whd_modio")] == ["in_flight"]
        again.recover(T0 + 5 * SECOND)  # every profile
        assert _attempts(again, "whd_modio") == [("interrupted", 5 * SECOND, DETAIL)]
        for delivery_id in ("whd_moda", "whd_modio"):
            assert again.get(delivery_id).state.phase is m.Phase.CANCELED


@pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")
def test_a_live_sender_is_left_alone_and_named_when_alone_is_asked(tmp_path: Path):
    path = tmp_path / "shared.db"
    with DeliveryLog(path) as sending:
        _create(sending, "whd_a")
        _start(sending, "whd_a", T0)
        with DeliveryLog(path) as other:
            assert other.recover(T0 + SECOND) == []  # by default: quietly nothing
            with pytest.raises(UsageError) as info:
                other.recover(T0 + SECOND, alone=True)
            assert str(info.value) == (
                f"delivery log {str(path)!r} is in use by another running hookmock process "
                "(sending from it); stop that process or give another --db"
            )
            assert other.in_flight_attempts() == 1
        # the recovering log gave its exclusive claim back: the live sender still sends
        _create(sending, "whd_b")
        _start(sending, "whd_b", T0 + SECOND)
        assert sending.in_flight_attempts() == 2


@pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")
def test_after_a_recovery_another_sender_may_start(tmp_path: Path):
    path = tmp_path / "shared.db"
    with DeliveryLog(path) as first:
        assert first.recover(T0, alone=True) == []
        with DeliveryLog(path) as second:  # shares the file: the first one is not exclusive now
            _create(second, "whd_a")
            _start(second, "whd_a", T0)
            assert first.recover(T0 + SECOND) == []  # alive: its attempt is left alone
            assert second.in_flight_attempts() == 1


def test_cancel_pending_ends_only_the_ids_asked_for_in_log_order(log: DeliveryLog):
    for n in range(4):
        _create(log, f"whd_{n}")
    assert log.cancel_pending(T0, delivery_ids=["whd_3", "whd_1"]) == ["whd_1", "whd_3"]
    phases = {d: log.get(d).state.phase for d in ("whd_0", "whd_1", "whd_2", "whd_3")}
    assert phases["whd_1"] is m.Phase.CANCELED and phases["whd_3"] is m.Phase.CANCELED
    assert phases["whd_0"] is not m.Phase.CANCELED and phases["whd_2"] is not m.Phase.CANCELED
    assert log.cancel_pending(T0, delivery_ids=[]) == []
    assert log.cancel_pending(T0) == ["whd_0", "whd_2"]


def test_cancel_pending_of_one_profile(log: DeliveryLog):
    _create(log, "whd_moda", "moda")
    _create(log, "whd_modio", "modio")
    assert log.cancel_pending(T0, profile="modio") == ["whd_modio"]
    assert log.get("whd_moda").status == "pending"
    assert log.get("whd_modio").status == "failed"


def test_cancel_pending_skips_finished_deliveries(log: DeliveryLog):
    _create(log, "whd_done")
    state = _start(log, "whd_done", T0)
    ok = AttemptResult("response", SECOND // 10, 200)
    log.finish_attempt("whd_done", 1, ok, m.complete(state, RULES["moda"], ok))
    _create(log, "whd_open")
    assert log.cancel_pending(T0 + SECOND) == ["whd_open"]
    assert log.get("whd_done").status == "succeeded"


@pytest.fixture
def log(tmp_path: Path):
    with DeliveryLog(tmp_path / "log.db") as db:
        yield db
