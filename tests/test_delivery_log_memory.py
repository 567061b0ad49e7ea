"""An in-memory log holds new deliveries and attempts in flight beside the database: every reader
still sees them, as a file log shows them."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import pytest

from hookmock import VirtualClock
from hookmock.clock import SECOND
from hookmock.delivery import machine as m
from hookmock.delivery._writes import HOLD_MAX
from hookmock.delivery.log import STATUSES, DeliveryLog
from hookmock.delivery.machine import Phase
from hookmock.delivery.records import DeliveryRecord
from hookmock.ids import crockford_id
from hookmock.profiles import get_profile
from hookmock.sender import Sender
from hookmock.transport import AttemptResult


def test_memory_log_is_not_durable_and_a_file_log_is(tmp_path: Any) -> None:
    with DeliveryLog() as memory, DeliveryLog(tmp_path / "log.db") as file:
        assert not memory.durable and file.durable


def test_readers_during_the_request_see_the_attempt_in_flight() -> None:
    seen: dict[str, Any] = {}
    sender = Sender("moda", clock=VirtualClock())

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        log = sender.log
        (delivery_id,) = [r.id for r in log.list().records]
        record, attempts = log.snapshot(delivery_id)
        seen["get"] = (log.get(delivery_id).state.phase, record.last_attempted_ns is not None)
        seen["attempts"] = [(a.number, a.in_flight) for a in attempts]
        seen["unfinished"] = [r.state.phase for r in log.unfinished()]
        seen["count"] = log.in_flight_attempts()
        seen["after"] = [(a.number, a.in_flight) for a in log.attempts(delivery_id)]
        start_response("204 No Content", [])
        return [b""]

    with sender:
        delivery = sender.send(app, "task.succeeded")
        assert seen["get"] == (Phase.IN_FLIGHT, True)
        assert seen["attempts"] == [(1, True)] and seen["after"] == [(1, True)]
        assert seen["unfinished"] == [Phase.IN_FLIGHT] and seen["count"] == 1
        # written to the database by the readers above, then completed once, as in a file log
        assert delivery.succeeded and [(a.number, a.status) for a in delivery.attempts] == [(1, 204)]
        assert sender.log.in_flight_attempts() == 0


def test_the_attempt_in_flight_is_completed_in_one_write() -> None:
    seen: list[Any] = []
    sender = Sender("moda", clock=VirtualClock())

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        (delivery_id,) = sender.log._flying  # held beside the database, nothing written yet
        seen.append(sender.log._db.execute("SELECT count(*) FROM attempts").fetchone()[0])
        seen.append(sender.log.get(delivery_id).state.phase)
        start_response("500 Oops", [])
        return [b"no"]

    with sender:
        delivery = sender.send(app, "task.succeeded")
    assert seen[0] == 0 and seen[1] == Phase.IN_FLIGHT
    assert [a.status for a in delivery.attempts] == [500] * 4 and delivery.status == "failed"
    assert not sender.log._flying


# -- new deliveries held beside the database ---------------------------------------------------

T0 = 1_777_593_600 * SECOND
MODA = m.Rules.from_profile(get_profile("moda"))
EVENT_TYPES = ("task.succeeded", "task.failed", "export.failed")


def _fill(log: DeliveryLog, ids: list[str]) -> None:
    """The same deliveries in any log: some pending untouched, some retried, some finished."""
    for n, delivery_id in enumerate(ids):
        log.create(
            delivery_id=delivery_id,
            profile="moda" if n % 4 else "modio",
            event_id=f"evt_{n}",
            event_type=EVENT_TYPES[n % 3],
            target_url="http://127.0.0.1:9/hook",
            body=b'{"id":"evt_%d"}' % n,
            created_ns=T0 + (n // 2) * SECOND,  # pairs share created_ns: seq breaks the tie
            api_key_id="key_a" if n % 2 else None,
        )
        if n % 3 == 0:
            continue
        for k, status in enumerate((503, 200) if n % 3 == 1 else (500,)):
            now = T0 + (n + k) * SECOND
            state = m.attempt_started(log.get(delivery_id).state, MODA, now)
            log.start_attempt(delivery_id, state, timestamp=now // SECOND)
            result = AttemptResult("response", 1_000_000 + n, status, excerpt=b"r%d" % n)
            log.finish_attempt(delivery_id, state.attempts, result, m.complete(state, MODA, result))


def _pages(log: DeliveryLog, **filters: Any) -> list[list[DeliveryRecord]]:
    pages, cursor = [], None
    while True:
        page = log.list(limit=4, cursor=cursor, **filters)
        pages.append(page.records)
        cursor = page.next_cursor
        if cursor is None:
            return pages


def _in_thread(fn: Callable[[], Any]) -> Any:
    out: list[Any] = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join(10)
    return out[0]


def test_a_memory_log_shows_the_same_rows_as_a_file_log(tmp_path: Any) -> None:
    ids = [crockford_id("whd") for _ in range(23)]
    with DeliveryLog() as memory, DeliveryLog(tmp_path / "log.db") as file:
        _fill(memory, ids)
        _fill(file, ids)
        assert len(memory._held) == 23  # nothing written yet
        gets = _in_thread(lambda: [(memory.get(i), memory.attempts(i)) for i in ids])
        assert gets == [(file.get(i), file.attempts(i)) for i in ids]
        for filters in ({}, {"status": "pending"}, {"event_type": "task.failed"}, {"api_key_id": "key_a"}):
            # a cursor from one log is not valid in the other (each has its own key): compare records
            assert [r for p in _in_thread(lambda f=filters: _pages(memory, **f)) for r in p] == [
                r for p in _pages(file, **filters) for r in p
            ]
        assert not memory._held  # list() wrote them
        assert memory.unfinished() == file.unfinished()
        assert memory.count() == file.count() == 23 and memory.last_seq() == file.last_seq() == 23
        assert [memory.count(status=s) for s in STATUSES] == [file.count(status=s) for s in STATUSES]
        assert [(memory.get(i), memory.attempts(i)) for i in ids] == gets  # the same once written


def test_held_deliveries_are_seen_by_unfinished_and_cancel_pending_from_another_thread() -> None:
    ids = [crockford_id("whd") for _ in range(9)]
    with DeliveryLog() as log:
        _fill(log, ids)
        pending = [i for i in ids if log.get(i).status == "pending"]
        assert pending and log._held
        assert sorted(r.id for r in _in_thread(log.unfinished)) == sorted(pending)
        assert not log._held
        more = crockford_id("whd")
        _fill_one = log.create(
            delivery_id=more,
            profile="moda",
            event_id="evt_more",
            event_type="task.succeeded",
            target_url="http://127.0.0.1:9/hook",
            body=b"{}",
            created_ns=T0,
        )
        assert more in log._held and _fill_one.seq == 10
        canceled = _in_thread(lambda: log.cancel_pending(T0, delivery_ids=[more, ids[0]]))
        assert sorted(canceled) == sorted([more, ids[0]])
        assert log.get(more).state.phase is Phase.CANCELED and log.get(more).status == "failed"


def test_get_from_another_thread_sees_a_held_delivery_as_it_will_be_written() -> None:
    with Sender("moda", clock=VirtualClock()) as sender:
        pending = sender.accept(_ok, "task.succeeded")
        seen = _in_thread(lambda: sender.log.get(pending.id))
        assert pending.id in sender.log._held and seen == pending.record
        assert sender.log.count() == 1  # written
        assert sender.log.get(pending.id) == seen


def test_send_returns_what_get_returns_once_written() -> None:
    with Sender("moda", clock=VirtualClock()) as sender:
        sent = [sender.send(_ok, "task.succeeded"), sender.send(_fail, "task.failed")]
        assert all(d.id in sender.log._held for d in sent)
        assert sender.log.list().records  # writes them
        assert not sender.log._held
        assert sent == [sender.get(d.id) for d in sent]
        assert sent[0].succeeded and [a.status for a in sent[1].attempts] == [500] * 4


def test_a_memory_log_holds_at_most_hold_max_and_counts_seq_on(tmp_path: Any) -> None:
    with DeliveryLog() as log:
        ids = [crockford_id("whd") for _ in range(HOLD_MAX + 5)]
        _fill(log, ids)
        assert 0 < len(log._held) <= HOLD_MAX
        assert [log.get(i).seq for i in ids] == list(range(1, HOLD_MAX + 6))
        with pytest.raises(sqlite3.IntegrityError):
            _fill(log, ids[:1])  # held or written, an id is unique
        with pytest.raises(sqlite3.IntegrityError):
            _fill(log, ids[-1:])
        assert log.last_seq() == HOLD_MAX + 5 and not log._held


def _ok(environ: dict[str, Any], start_response: Any) -> Any:
    start_response("204 No Content", [])
    return [b""]


def _fail(environ: dict[str, Any], start_response: Any) -> Any:
    start_response("500 Oops", [])
    return [b"no"]
