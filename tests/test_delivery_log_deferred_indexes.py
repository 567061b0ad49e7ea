"""An in-memory log makes its secondary indexes at the first query that may use each, not on every
row written: until then it answers every query a file log answers, the same way, and afterwards it
has exactly the indexes a file log has."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hookmock.clock import SECOND
from hookmock.delivery import machine as m
from hookmock.delivery.log import STATUSES, DeliveryLog
from hookmock.ids import crockford_id
from hookmock.transport import AttemptResult
from test_delivery_log_memory import MODA, T0, _fill

#: every query that reads more than one row by key, and the indexes it makes first
QUERIES: dict[str, tuple[Callable[[DeliveryLog], Any], set[str]]] = {
    "find": (lambda log: log.find("evt_3"), {"deliveries_by_event_id"}),
    "unfinished": (lambda log: log.unfinished(), {"deliveries_unfinished"}),
    "unfinished_profile": (lambda log: log.unfinished(profile="modio"), {"deliveries_unfinished"}),
    "count": (lambda log: log.count(), {"deliveries_by_status"}),
    "count_status": (lambda log: [log.count(status=s) for s in STATUSES], {"deliveries_by_status"}),
    "in_flight": (lambda log: log.in_flight_attempts(), {"attempts_in_flight"}),
    "last_seq": (lambda log: log.last_seq(), set()),
}


def _indexes(log: DeliveryLog) -> set[str]:
    """The log's secondary indexes (SQLite's own, for the keys and UNIQUE, have no SQL)."""
    rows = log._db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
    return {str(r[0]) for r in rows}


def _file_indexes(tmp_path: Path) -> set[str]:
    with DeliveryLog(tmp_path / "schema.db") as file:
        return _indexes(file)


def test_a_new_memory_log_keeps_its_keys_and_triggers_but_makes_no_secondary_index(tmp_path: Path) -> None:
    with DeliveryLog() as memory:
        assert _indexes(memory) == set()
        assert set(memory._deferred_indexes) == _file_indexes(tmp_path)  # every one, made later
        _fill(memory, [crockford_id("whd") for _ in range(300)])  # more than it holds: written
        assert len(memory._held) < 300 and _indexes(memory) == set()
        ids = [r[0] for r in memory._db.execute("SELECT id FROM deliveries LIMIT 1")]
        with pytest.raises(sqlite3.IntegrityError):  # the UNIQUE id is there from the start
            memory._db.execute(
                "INSERT INTO deliveries (id, profile, event_type, target_url, status, phase, created_ns, "
                "body) VALUES (?, 'moda', 't', 'u', 'pending', 'scheduled', 0, x'')",
                ids,
            )
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):  # and the triggers
            memory._db.execute("DELETE FROM attempts")


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_each_query_makes_the_indexes_it_may_use_and_answers_as_a_file_log(name: str, tmp_path: Path) -> None:
    query, made = QUERIES[name]
    ids = [crockford_id("whd") for _ in range(40)]
    with DeliveryLog() as memory, DeliveryLog(tmp_path / "log.db") as file:
        _fill(memory, ids)
        _fill(file, ids)
        assert query(memory) == query(file)
        assert _indexes(memory) == made
        assert query(memory) == query(file)  # and again, with them


def test_a_page_makes_every_index_and_the_log_then_has_a_file_logs_schema(tmp_path: Path) -> None:
    ids = [crockford_id("whd") for _ in range(40)]
    with DeliveryLog() as memory, DeliveryLog(tmp_path / "log.db") as file:
        _fill(memory, ids)
        _fill(file, ids)
        assert memory.count(status="failed") == file.count(status="failed")
        assert [r.id for r in memory.list(limit=200).records] == [r.id for r in file.list(limit=200).records]
        assert _indexes(memory) == _indexes(file) == _file_indexes(tmp_path)
        assert not memory._deferred_indexes
        # written from now on as a file log writes them: the new row is found through each index
        more = crockford_id("whd")
        for log in (memory, file):
            log.create(
                delivery_id=more,
                profile="modio",
                event_id="evt_more",
                event_type="export.failed",
                target_url="http://127.0.0.1:9/hook",
                body=b"{}",
                created_ns=T0 + 99 * SECOND,
                api_key_id="key_b",
            )
        for filters in ({"api_key_id": "key_b"}, {"event_type": "export.failed"}, {"profile": "modio"}):
            assert [r.id for r in memory.list(**filters).records] == [
                r.id for r in file.list(**filters).records
            ]
        assert [r.id for r in memory.find("evt_more")] == [more]
        assert [r.id for r in memory.unfinished()] == [r.id for r in file.unfinished()]


def test_recovery_and_cancel_see_the_same_rows_without_a_query_first(tmp_path: Path) -> None:
    ids = [crockford_id("whd") for _ in range(12)]
    with DeliveryLog() as memory, DeliveryLog(tmp_path / "log.db") as file:
        for log in (memory, file):
            _fill(log, ids)
            flying = ids[0]  # left pending and untouched by _fill: start an attempt, never finish it
            state = m.attempt_started(log.get(flying).state, MODA, T0 + 50 * SECOND)
            log.start_attempt(flying, state, timestamp=T0 // SECOND)
        assert memory.recover(T0 + 60 * SECOND) == file.recover(T0 + 60 * SECOND) == [ids[0]]
        assert memory.cancel_pending(T0) == file.cancel_pending(T0)
        assert [r.state for r in memory.list(limit=200).records] == [
            r.state for r in file.list(limit=200).records
        ]


def test_an_attempt_finished_after_its_delivery_was_written_updates_it_without_indexes() -> None:
    with DeliveryLog() as log:
        ids = [crockford_id("whd") for _ in range(3)]
        _fill(log, ids)
        delivery_id = ids[0]
        state = m.attempt_started(log.get(delivery_id).state, MODA, T0)
        log.start_attempt(delivery_id, state, timestamp=T0 // SECOND)
        log.set_state(ids[1], log.get(ids[1]).state)  # a writer: writes the held rows, makes no index
        assert not log._held and _indexes(log) == set()
        ok = AttemptResult("response", 1_000_000, 200)
        log.finish_attempt(delivery_id, 1, ok, m.complete(state, MODA, ok))
        assert log.get(delivery_id).status == "succeeded" and _indexes(log) == set()
        assert log.count(status="succeeded") >= 1
