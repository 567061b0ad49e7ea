"""Recovery at start-up on a large delivery log reads the attempts in flight, never every delivery.

``hookmock serve --db FILE`` recovers the log on every start.  Ending the attempts left in flight
for deliveries canceled meanwhile once scanned the whole deliveries table (``phase`` has no
index): seconds on a 10 M-row log.  The partial index ``attempts_in_flight`` drives it now, and
is added to older logs on open without a new schema version (an older hookmock still opens them).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hookmock.clock import SECOND
from hookmock.delivery import machine as m
from hookmock.delivery._recovery import canceled_in_flight
from hookmock.delivery._schema import EXTRA_INDEXES
from hookmock.delivery.log import SCHEMA_VERSION, DeliveryLog
from hookmock.profiles import get_profile

T0 = 1_777_593_600 * SECOND
MODA = m.Rules.from_profile(get_profile("moda"))
ROWS = 5_000
_INSERT = (
    "INSERT INTO deliveries (id, profile, event_id, event_type, target_url, status, phase, attempts, "
    "created_ns, body) VALUES (?, ?, ?, 'task.succeeded', 'http://127.0.0.1:9/hook', ?, ?, 1, ?, x'7b7d')"
)


def _fill(path: Path) -> None:
    """``ROWS`` finished deliveries (every one with its attempt), a tenth of them canceled."""
    DeliveryLog(path).close()
    db = sqlite3.connect(path)
    rows = []
    for n in range(ROWS):
        phase = "canceled" if n % 10 == 0 else "succeeded"
        status = "failed" if phase == "canceled" else "succeeded"
        rows.append((f"whd_bulk{n}", "modio" if n % 2 else "moda", f"evt_{n}", status, phase, T0 + n))
    db.executemany(_INSERT, rows)
    db.execute(
        "INSERT INTO attempts (delivery_seq, number, started_ns, duration_ns, outcome, status) "
        "SELECT seq, 1, created_ns, 1000, 'response', 200 FROM deliveries"
    )
    db.commit()
    db.execute("ANALYZE")  # the planner's statistics, as a long-lived log has them
    db.commit()
    db.close()


def _flying(log: DeliveryLog, n: int, profile: str) -> str:
    delivery_id = f"whd_flying{n}"
    log.create(
        delivery_id=delivery_id,
        profile=profile,
        event_id=f"evt_flying{n}",
        event_type="task.succeeded",
        target_url="http://127.0.0.1:9/hook",
        body=b"{}",
        created_ns=T0 + ROWS + n,
    )
    log.start_attempt(delivery_id, m.attempt_started(log.get(delivery_id).state, MODA, T0))
    return delivery_id


def _plan(db: sqlite3.Connection, sql: str, args: list[object]) -> list[str]:
    return [str(row[3]) for row in db.execute("EXPLAIN QUERY PLAN " + sql, args)]


def test_recovery_of_canceled_in_flight_attempts_uses_the_index_not_a_scan(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    _fill(path)
    log = DeliveryLog(path)
    moda, modio, kept = _flying(log, 1, "moda"), _flying(log, 2, "modio"), _flying(log, 3, "moda")
    log.cancel_pending(T0 + SECOND, delivery_ids=[moda, modio])  # kept stays pending, in flight
    for profile in (None, "moda"):
        plan = _plan(log._db, *canceled_in_flight(T0, profile))
        # only the partial index (the attempts in flight) is read through; each delivery by its key
        scans = [step for step in plan if step.startswith("SCAN")]
        assert scans == ["SCAN attempts USING INDEX attempts_in_flight"], plan
        assert "SEARCH d USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
    log._db.close()  # the process "dies" with three attempts in flight
    log._sendlock.close()  # type: ignore[union-attr]
    with DeliveryLog(path) as again:
        assert again.recover(T0 + 4 * SECOND, profile="moda") == [kept]
        outcomes = {d: [a.outcome for a in again.attempts(d)] for d in (moda, modio, kept)}
        assert outcomes == {moda: ["interrupted"], modio: ["in_flight"], kept: ["interrupted"]}
        assert again.recover(T0 + 5 * SECOND) == []
        assert again.in_flight_attempts() == 0
        assert [a.duration_ns for a in again.attempts(modio)] == [5 * SECOND]
        assert again.get(moda).state.phase is m.Phase.CANCELED
        # every other attempt untouched
        assert again._db.execute("SELECT count(*) FROM attempts WHERE outcome = 'response'").fetchone() == (
            ROWS,
        )


def test_a_log_without_the_index_gains_it_on_open_and_keeps_its_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "older.db"
    with DeliveryLog(path) as log:
        flying = _flying(log, 1, "moda")
    raw = sqlite3.connect(path)
    for name in EXTRA_INDEXES:  # as the hookmock before this index wrote the file
        raw.execute(f"DROP INDEX {name}")
    raw.commit()
    raw.close()
    with DeliveryLog(path) as log:
        names = {r[0] for r in log._db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert set(EXTRA_INDEXES) <= names
        assert log.schema_version == SCHEMA_VERSION  # not bumped: an older hookmock still opens it
        log.cancel_pending(T0, delivery_ids=[flying])
        assert log.recover(T0 + SECOND) == []
        assert [a.outcome for a in log.attempts(flying)] == ["interrupted"]
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()
