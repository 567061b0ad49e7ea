"""The delivery log's SQLite layout: schema and migrations, connection set-up, and rows <-> records.

Schema versioned with ``PRAGMA user_version``: ``MIGRATIONS[i]`` brings a log from version ``i``
to ``i + 1``.  Attempt rows are append-only and completed once (triggers refuse the rest).
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

from .._util.sqlite import check_hookmock_tables, immediate
from ..errors import UsageError
from .machine import _PHASE_STATUS, DeliveryState, Phase
from .records import AttemptRecord, DeliveryRecord, headers_to_json

__all__ = [
    "DELIVERY_COLUMNS",
    "EXTRA_INDEXES",
    "INSERT_ATTEMPT",
    "INSERT_DELIVERY",
    "MIGRATIONS",
    "REPLACED_INDEXES",
    "RESPONSE_SET",
    "SCHEMA_VERSION",
    "SELECT_ATTEMPT",
    "SELECT_ATTEMPTS",
    "SELECT_BY_ID",
    "STATE_SET",
    "add_indexes",
    "attempt_args",
    "delivery_args",
    "index_name",
    "seq_of",
    "seq_phase_of",
    "setup",
    "split",
    "state_args",
    "store_state",
    "to_record",
]

_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    profile TEXT NOT NULL,
    event_id TEXT,
    event_type TEXT NOT NULL,
    target_url TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    phase TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    created_ns INTEGER NOT NULL,
    next_due_ns INTEGER,
    in_flight_started_ns INTEGER,
    last_attempted_ns INTEGER,
    response_status_code INTEGER,
    response_body_excerpt BLOB,
    last_duration_ns INTEGER,
    api_key_id TEXT,
    replayed_from_id TEXT,
    agent_job_id TEXT,
    body BLOB NOT NULL
);
CREATE TABLE attempts (
    delivery_seq INTEGER NOT NULL REFERENCES deliveries(seq),
    number INTEGER NOT NULL,
    started_ns INTEGER NOT NULL,
    duration_ns INTEGER,
    outcome TEXT NOT NULL,
    status INTEGER,
    excerpt BLOB NOT NULL DEFAULT x'',
    detail TEXT NOT NULL DEFAULT '',
    timestamp INTEGER,
    PRIMARY KEY (delivery_seq, number)
) WITHOUT ROWID;
CREATE INDEX deliveries_by_created ON deliveries (created_ns DESC, seq DESC);
CREATE INDEX deliveries_by_event_type ON deliveries (event_type, created_ns DESC, seq DESC);
CREATE INDEX deliveries_by_status ON deliveries (status, created_ns DESC, seq DESC);
CREATE INDEX deliveries_by_api_key ON deliveries (api_key_id, created_ns DESC, seq DESC);
CREATE INDEX deliveries_unfinished ON deliveries (next_due_ns) WHERE status = 'pending';
CREATE TRIGGER attempts_no_delete BEFORE DELETE ON attempts
BEGIN SELECT RAISE(ABORT, 'attempt rows are append-only'); END;
CREATE TRIGGER attempts_complete_once BEFORE UPDATE ON attempts
WHEN OLD.outcome <> 'in_flight' OR NEW.delivery_seq <> OLD.delivery_seq OR NEW.number <> OLD.number
     OR NEW.started_ns <> OLD.started_ns
BEGIN SELECT RAISE(ABORT, 'an attempt row is completed once and never rewritten'); END;
"""

#: The history page's filters: by profile (a log of one profile's rows must not be scanned for
#: the other's) and the search by event id, both fast on a million rows.
_V2 = """
CREATE INDEX deliveries_by_profile ON deliveries (profile, created_ns DESC, seq DESC);
CREATE INDEX deliveries_by_event_id ON deliveries (event_id);
"""

#: Each attempt's response headers, bounded and redacted: a JSON array of ``[name, value]``
#: (NULL: none, or an attempt logged before version 3).
_V3 = """
ALTER TABLE attempts ADD COLUMN headers TEXT;
"""

#: migrations[i] brings a log from user_version i to i + 1.
MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3)
SCHEMA_VERSION = len(MIGRATIONS)

#: Indexes every version of the schema can carry, added to a log that lacks them whenever it is
#: opened, *without* a new schema version: an older hookmock still opens the file (SQLite keeps
#: an index it does not know up to date).  ``attempts_in_flight`` holds only the attempts in
#: flight (a handful, whatever the log's size), so recovery at start-up reads those instead of
#: scanning every delivery.
#:
#: ``deliveries_by_api_key_filters`` replaces ``deliveries_by_api_key`` (same leading columns, so
#: every query that used one uses the other): it also carries the other filters' columns, so a
#: page filtered by API key *and* event type, status or profile is checked inside the index, and
#: only the rows of the page are read from the table (on 10 M rows, reading every row of the key
#: to test its event type and status took tens of ms a page).
EXTRA_INDEXES: dict[str, str] = {
    "attempts_in_flight": (
        "CREATE INDEX IF NOT EXISTS attempts_in_flight ON attempts (delivery_seq) WHERE outcome = 'in_flight'"
    ),
    "deliveries_by_api_key_filters": (
        "CREATE INDEX IF NOT EXISTS deliveries_by_api_key_filters "
        "ON deliveries (api_key_id, created_ns DESC, seq DESC, event_type, status, profile)"
    ),
}
#: Indexes an :data:`EXTRA_INDEXES` entry makes redundant: dropped once it exists (an older
#: hookmock's queries work on either).
REPLACED_INDEXES: dict[str, str] = {"deliveries_by_api_key": "deliveries_by_api_key_filters"}

DELIVERY_COLUMNS = (
    "seq, id, profile, event_id, event_type, target_url, phase, attempts, failures, created_ns, "
    "next_due_ns, in_flight_started_ns, last_attempted_ns, response_status_code, response_body_excerpt, "
    "last_duration_ns, api_key_id, replayed_from_id, agent_job_id, body"
)


SELECT_BY_ID = f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?"
SELECT_ATTEMPTS = (
    "SELECT number, started_ns, duration_ns, outcome, status, excerpt, detail, timestamp, headers "
    "FROM attempts WHERE delivery_seq = ? ORDER BY number"
)
SELECT_ATTEMPT = (
    "SELECT d.seq, d.phase, a.started_ns, a.timestamp FROM deliveries d "
    "LEFT JOIN attempts a ON a.delivery_seq = d.seq AND a.number = ? WHERE d.id = ?"
)
#: a whole delivery row, for an in-memory log's held deliveries (see :func:`delivery_args`)
INSERT_DELIVERY = (
    "INSERT INTO deliveries (seq, id, profile, event_id, event_type, target_url, status, phase, attempts, "
    "failures, next_due_ns, in_flight_started_ns, created_ns, last_attempted_ns, response_status_code, "
    "response_body_excerpt, last_duration_ns, api_key_id, replayed_from_id, agent_job_id, body) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
#: a completed attempt row (see :func:`attempt_args`)
INSERT_ATTEMPT = (
    "INSERT INTO attempts (delivery_seq, number, started_ns, duration_ns, outcome, status, excerpt, detail, "
    "timestamp, headers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
#: the columns a delivery's machine state is stored in, for ``UPDATE deliveries SET ...``
STATE_SET = "status = ?, phase = ?, attempts = ?, failures = ?, next_due_ns = ?, in_flight_started_ns = ?"
RESPONSE_SET = "response_status_code = ?, response_body_excerpt = ?, last_duration_ns = ?"


def setup(
    db: sqlite3.Connection,
    path: str,
    lock: threading.RLock,
    *,
    throwaway: bool = False,
    deferred: list[str] | None = None,
) -> bytes:
    """Set the connection's pragmas and bring the schema up to date; returns the cursor key.
    ``throwaway``: a file removed at exit is not synced on each commit (``synchronous=OFF``, set
    before the switch to WAL, which otherwise syncs too).  ``deferred``: the secondary indexes of
    a new log are not made but their statements put in this list (an in-memory log makes them
    before the first query that may use one: see :meth:`LogBase._materialize`); the tables, their
    keys, the ``UNIQUE`` id and the triggers are made as always."""
    if path != ":memory:":
        check_hookmock_tables(db, path)  # before anything is changed: another program's file
    db.execute("PRAGMA synchronous=OFF" if throwaway else "PRAGMA synchronous=FULL")
    if path != ":memory:":
        db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise UsageError(
            f"delivery log {path!r} has schema version {version}, newer than this hookmock "
            f"understands ({SCHEMA_VERSION}); upgrade hookmock"
        )
    if version < SCHEMA_VERSION:
        with immediate(db, lock, path):
            version = db.execute("PRAGMA user_version").fetchone()[0]  # re-read inside the lock
            for step in range(version, SCHEMA_VERSION):
                for statement in split(MIGRATIONS[step]):
                    if deferred is not None and statement.startswith("CREATE INDEX "):
                        deferred.append(statement)
                        continue
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {step + 1}")
            if version == 0:
                db.execute(
                    "INSERT INTO meta (key, value) VALUES ('cursor_key', ?)", (secrets.token_bytes(32),)
                )
    if deferred is not None:
        deferred[:] = [sql for sql in deferred if index_name(sql) not in REPLACED_INDEXES]
        deferred += EXTRA_INDEXES.values()
    else:
        add_indexes(db, lock, path)
    return bytes(db.execute("SELECT value FROM meta WHERE key = 'cursor_key'").fetchone()[0])


def add_indexes(db: sqlite3.Connection, lock: threading.RLock, path: str | None = None) -> None:
    """Create the :data:`EXTRA_INDEXES` a log lacks and drop the ones they replace (one
    transaction; nothing written when the log has them already)."""
    have = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    if have.issuperset(EXTRA_INDEXES) and have.isdisjoint(REPLACED_INDEXES):
        return
    with immediate(db, lock, path):  # IF [NOT] EXISTS: another process may have done it meanwhile
        for sql in EXTRA_INDEXES.values():
            db.execute(sql)
        for old in REPLACED_INDEXES:
            db.execute(f"DROP INDEX IF EXISTS {old}")


def index_name(sql: str) -> str:
    """The name a ``CREATE INDEX [IF NOT EXISTS] name ON ...`` statement gives its index."""
    return sql.split(" ON ", 1)[0].split()[-1]


def split(script: str) -> list[str]:
    """The statements of a migration script (triggers keep their inner ``;``)."""
    statements: list[str] = []
    buffer = ""
    for line in script.strip().splitlines():
        buffer += line + "\n"
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def state_args(state: DeliveryState) -> tuple[Any, ...]:
    phase = state.phase._value_  # (what ``.value`` returns, without the enum property: per row)
    return (
        _PHASE_STATUS[phase],
        phase,
        state.attempts,
        state.failures,
        state.next_due_ns,
        state.started_ns,
    )


def delivery_args(r: DeliveryRecord) -> tuple[Any, ...]:
    """The values of :data:`INSERT_DELIVERY` for ``r`` (the state's as :func:`state_args` gives
    them, written out: one row per held delivery)."""
    state = r.state
    phase = state.phase._value_
    return (
        r.seq,
        r.id,
        r.profile,
        r.event_id,
        r.event_type,
        r.target_url,
        _PHASE_STATUS[phase],
        phase,
        state.attempts,
        state.failures,
        state.next_due_ns,
        state.started_ns,
        r.created_ns,
        r.last_attempted_ns,
        r.response_status_code,
        r.response_body_excerpt,
        r.last_duration_ns,
        r.api_key_id,
        r.replayed_from_id,
        r.agent_job_id,
        r.body,
    )


def attempt_args(a: AttemptRecord, seq: int | None = None) -> tuple[Any, ...]:
    """The values of :data:`INSERT_ATTEMPT` after ``delivery_seq`` (with it first when ``seq`` is
    given)."""
    if seq is not None:
        return (
            seq,
            a.number,
            a.started_ns,
            a.duration_ns,
            a.outcome,
            a.status,
            a.excerpt,
            a.detail,
            a.timestamp,
            headers_to_json(a.headers),
        )
    return (
        a.number,
        a.started_ns,
        a.duration_ns,
        a.outcome,
        a.status,
        a.excerpt,
        a.detail,
        a.timestamp,
        headers_to_json(a.headers),
    )


def store_state(db: sqlite3.Connection, delivery_id: str, state: DeliveryState) -> None:
    db.execute(f"UPDATE deliveries SET {STATE_SET} WHERE id = ?", (*state_args(state), delivery_id))


def seq_phase_of(db: sqlite3.Connection, delivery_id: str) -> tuple[int, str]:
    row = db.execute("SELECT seq, phase FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
    if row is None:
        raise UsageError(f"no delivery {delivery_id!r} in this delivery log")
    return int(row[0]), str(row[1])


def seq_of(db: sqlite3.Connection, delivery_id: str) -> int:
    row = db.execute("SELECT seq FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
    if row is None:
        raise UsageError(f"no delivery {delivery_id!r} in this delivery log")
    return int(row[0])


def to_record(row: Sequence[Any]) -> DeliveryRecord:
    (seq, id_, profile, event_id, event_type, target, phase, attempts, failures, created, due, started) = row[
        :12
    ]
    state = DeliveryState(Phase(phase), attempts, failures, due, started)
    return DeliveryRecord(
        seq=seq,
        id=id_,
        profile=profile,
        event_id=event_id,
        event_type=event_type,
        target_url=target,
        state=state,
        created_ns=created,
        last_attempted_ns=row[12],
        response_status_code=row[13],
        response_body_excerpt=None if row[14] is None else bytes(row[14]),
        last_duration_ns=row[15],
        api_key_id=row[16],
        replayed_from_id=row[17],
        agent_job_id=row[18],
        body=bytes(row[19]),
    )
