"""An in-memory log holds the attempt in flight beside the database: every reader still sees it."""

from __future__ import annotations

from typing import Any

from hookmock import VirtualClock
from hookmock.delivery.log import DeliveryLog
from hookmock.delivery.machine import Phase
from hookmock.sender import Sender


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
