"""The delivery log: every delivery and every attempt, in SQLite.

A file (WAL journal, ``synchronous=FULL``, schema versioned with ``PRAGMA user_version``) or
``":memory:"``.  One connection guarded by a lock, so the log is safe to share between threads.

Durability rule, kept by the drivers: an attempt row is inserted (``outcome = 'in_flight'``)
and committed *before* the request is sent, then completed exactly once; attempt rows are never
deleted or rewritten (triggers refuse it).  :meth:`DeliveryLog.recover` marks attempts left in
flight by a dead process ``interrupted`` and makes their deliveries due again.
:meth:`DeliveryLog.cancel_pending` ends pending deliveries for good (``canceled``) without
deleting anything: drivers re-read the log before each attempt, and an attempt in flight at that
moment completes without re-opening its delivery.

An in-memory log (``durable`` is False) survives no crash, so committing the in-flight row before
the request buys nothing there: the attempt in flight is held beside the database (under the same
lock, so every reader sees it: ``get``, ``snapshot`` and ``attempts`` merge it, every other reader
writes it to the database first) and written together with its completion, in one transaction.

The log stores no secret, token or signature header: only the body bytes and what came back.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..clock import to_ns
from ..errors import UsageError
from .cursor import decode_cursor, encode_cursor
from .machine import DeliveryCanceled, DeliveryState, Phase, canceled, interrupted, new_delivery
from .records import IN_FLIGHT, INTERRUPTED, AttemptRecord, DeliveryRecord, Page

if TYPE_CHECKING:  # pragma: no cover
    from ..transport import AttemptResult

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "SCHEMA_VERSION", "DeliveryLog"]

T = TypeVar("T")

DEFAULT_LIMIT = 50
_INTERRUPTED_DETAIL = "the sending process stopped before the attempt completed"
MAX_LIMIT = 200
STATUSES = ("pending", "succeeded", "failed")

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

#: migrations[i] brings a log from user_version i to i + 1.
MIGRATIONS: tuple[str, ...] = (_V1,)
SCHEMA_VERSION = len(MIGRATIONS)

_DELIVERY_COLUMNS = (
    "seq, id, profile, event_id, event_type, target_url, phase, attempts, failures, created_ns, "
    "next_due_ns, in_flight_started_ns, last_attempted_ns, response_status_code, response_body_excerpt, "
    "last_duration_ns, api_key_id, replayed_from_id, agent_job_id, body"
)


_SELECT_BY_ID = f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE id = ?"
_SELECT_ATTEMPTS = (
    "SELECT number, started_ns, duration_ns, outcome, status, excerpt, detail, timestamp "
    "FROM attempts WHERE delivery_seq = ? ORDER BY number"
)
_SELECT_ATTEMPT = (
    "SELECT d.seq, d.phase, a.started_ns, a.timestamp FROM deliveries d "
    "LEFT JOIN attempts a ON a.delivery_seq = d.seq AND a.number = ? WHERE d.id = ?"
)
#: the columns a delivery's machine state is stored in, for ``UPDATE deliveries SET ...``
_STATE_SET = "status = ?, phase = ?, attempts = ?, failures = ?, next_due_ns = ?, in_flight_started_ns = ?"
_RESPONSE_SET = "response_status_code = ?, response_body_excerpt = ?, last_duration_ns = ?"


def _state_args(state: DeliveryState) -> tuple[Any, ...]:
    return (
        state.status,
        state.phase.value,
        state.attempts,
        state.failures,
        state.next_due_ns,
        state.started_ns,
    )


def _record(row: Sequence[Any]) -> DeliveryRecord:
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


def _time_arg(value: int | str | datetime | None, name: str) -> int | None:
    """ns since the epoch from ns (int), an aware datetime or an ISO 8601 string."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return to_ns(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return to_ns(parsed)
    raise UsageError(
        f"{name}={value!r} is not a date-time; give ISO 8601 with an offset, e.g. 2026-05-01T00:00:00+00:00"
    )


class DeliveryLog:
    """The SQLite delivery log.  ``DeliveryLog()`` is in memory; ``DeliveryLog(path)`` a file."""

    def __init__(self, path: str | os.PathLike[str] = ":memory:", *, create: bool = True) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Job] = []
        #: an in-memory log's attempts in flight, not yet in the database: id -> (seq, attempt, state)
        self._flying: dict[str, tuple[int, AttemptRecord, DeliveryState]] = {}
        if self.path != ":memory:":
            p = Path(self.path)
            if p.is_dir():
                raise UsageError(f"delivery log {self.path!r} is a directory; give a file path")
            if not create and not p.exists():
                raise UsageError(f"delivery log {self.path!r} does not exist; check --db")
            if not p.parent.is_dir():
                raise UsageError(
                    f"delivery log {self.path!r}: its folder {str(p.parent)!r} does not exist; create it"
                )
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            self._setup()
        except sqlite3.DatabaseError as exc:
            raise UsageError(f"{self.path!r} is not a hookmock delivery log ({exc})") from None

    # -- setup -------------------------------------------------------------------------
    def _setup(self) -> None:
        db = self._db
        if self.path != ":memory:":
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise UsageError(
                f"delivery log {self.path!r} has schema version {version}, newer than this hookmock "
                f"understands ({SCHEMA_VERSION}); upgrade hookmock"
            )
        if version < SCHEMA_VERSION:
            with self._write():
                version = db.execute("PRAGMA user_version").fetchone()[0]  # re-read inside the lock
                for step in range(version, SCHEMA_VERSION):
                    for statement in _split(MIGRATIONS[step]):
                        db.execute(statement)
                    db.execute(f"PRAGMA user_version = {step + 1}")
                if version == 0:
                    db.execute(
                        "INSERT INTO meta (key, value) VALUES ('cursor_key', ?)", (secrets.token_bytes(32),)
                    )
        self._cursor_key = bytes(db.execute("SELECT value FROM meta WHERE key = 'cursor_key'").fetchone()[0])

    @property
    def durable(self) -> bool:
        """True for a file: what is committed survives a crash of the sending process."""
        return self.path != ":memory:"

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _batched(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in a write transaction, committed before this returns (group commit).

        Writers queue their work; whoever takes the connection lock first runs every queued job
        in one transaction (each under its own savepoint, so one failing job does not undo the
        others) and one commit, i.e. one fsync, serves them all.
        """
        if not self.durable:  # no fsync to share: one transaction of its own, at once
            with self._write() as db:
                return fn(db)
        job = _Job(fn)
        with self._queue_lock:
            self._queue.append(job)
        with self._lock:
            if not job.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._run_batch(batch)
        if job.error is not None:
            raise job.error
        return job.result

    def _run_batch(self, batch: list[_Job]) -> None:
        db = self._db
        alone = len(batch) == 1  # nothing to keep apart: no savepoint, a failure rolls back
        try:
            db.execute("BEGIN IMMEDIATE")
            for job in batch:
                if not alone:
                    db.execute("SAVEPOINT job")
                try:
                    job.result = job.fn(db)
                except Exception as exc:
                    db.execute("ROLLBACK" if alone else "ROLLBACK TO job")
                    job.error = exc
                if not alone:
                    db.execute("RELEASE job")
            if db.in_transaction:
                db.execute("COMMIT")
        except BaseException as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            for job in batch:
                job.result = None
                job.error = job.error or exc
        finally:
            for job in batch:
                job.done = True

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> DeliveryLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DeliveryLog({self.path!r})"

    # -- writing -----------------------------------------------------------------------
    def create(
        self,
        *,
        delivery_id: str,
        profile: str,
        event_id: str | None,
        event_type: str,
        target_url: str,
        body: bytes,
        created_ns: int,
        api_key_id: str | None = None,
        replayed_from_id: str | None = None,
        agent_job_id: str | None = None,
    ) -> DeliveryRecord:
        """Accept a delivery: committed before this returns; its first attempt is due at once."""
        state = new_delivery(created_ns)

        data = bytes(body)

        def write(db: sqlite3.Connection) -> int:
            cur = db.execute(
                "INSERT INTO deliveries (id, profile, event_id, event_type, target_url, status, phase, "
                "attempts, failures, created_ns, next_due_ns, api_key_id, replayed_from_id, agent_job_id, "
                "body) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?, ?)",
                (
                    delivery_id,
                    profile,
                    event_id,
                    event_type,
                    target_url,
                    state.status,
                    state.phase.value,
                    created_ns,
                    state.next_due_ns,
                    api_key_id,
                    replayed_from_id,
                    agent_job_id,
                    data,
                ),
            )
            return int(cur.lastrowid or 0)

        seq = self._batched(write)
        return DeliveryRecord(
            seq=seq,
            id=delivery_id,
            profile=profile,
            event_id=event_id,
            event_type=event_type,
            target_url=target_url,
            state=state,
            created_ns=created_ns,
            last_attempted_ns=None,
            response_status_code=None,
            response_body_excerpt=None,
            last_duration_ns=None,
            api_key_id=api_key_id,
            replayed_from_id=replayed_from_id,
            agent_job_id=agent_job_id,
            body=data,
        )

    def _set_state(self, db: sqlite3.Connection, delivery_id: str, state: DeliveryState) -> None:
        db.execute(f"UPDATE deliveries SET {_STATE_SET} WHERE id = ?", (*_state_args(state), delivery_id))

    def start_attempt(
        self, delivery_id: str, state: DeliveryState, *, timestamp: int | None = None
    ) -> AttemptRecord:
        """Record attempt ``state.attempts`` in flight (``state`` is the machine's state after START)."""
        if state.phase is not Phase.IN_FLIGHT or state.started_ns is None:
            raise ValueError(f"start_attempt needs an in-flight state, got {state}")

        attempt = AttemptRecord(state.attempts, state.started_ns, None, IN_FLIGHT, None, b"", "", timestamp)
        if not self.durable:  # held beside the database until it completes (see the module's doc)
            with self._lock:
                seq, phase = self._seq_phase(self._db, delivery_id)
                if phase == Phase.CANCELED.value:
                    raise DeliveryCanceled(f"delivery {delivery_id} was canceled; no attempt is started")
                if delivery_id in self._flying:
                    raise sqlite3.IntegrityError(f"delivery {delivery_id} already has an attempt in flight")
                self._flying[delivery_id] = (seq, attempt, state)
            return attempt

        def write(db: sqlite3.Connection) -> None:
            seq, phase = self._seq_phase(db, delivery_id)
            if phase == Phase.CANCELED.value:  # canceled since the driver read it: send nothing
                raise DeliveryCanceled(f"delivery {delivery_id} was canceled; no attempt is started")
            db.execute(
                "INSERT INTO attempts (delivery_seq, number, started_ns, outcome, timestamp) "
                "VALUES (?, ?, ?, ?, ?)",
                (seq, state.attempts, state.started_ns, IN_FLIGHT, timestamp),
            )
            db.execute(
                f"UPDATE deliveries SET {_STATE_SET}, last_attempted_ns = ? WHERE seq = ?",
                (*_state_args(state), state.started_ns, seq),
            )

        self._batched(write)  # committed (group commit) before this returns
        return attempt

    def _materialize(self) -> None:
        """Write an in-memory log's attempts in flight to the database (as a file log has them)."""
        with self._lock:
            if not self._flying:
                return
            with self._write() as db:
                for seq, attempt, state in self._flying.values():
                    db.execute(
                        "INSERT INTO attempts (delivery_seq, number, started_ns, outcome, timestamp) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (seq, attempt.number, attempt.started_ns, IN_FLIGHT, attempt.timestamp),
                    )
                    db.execute(
                        f"UPDATE deliveries SET {_STATE_SET}, last_attempted_ns = ? WHERE seq = ?",
                        (*_state_args(state), attempt.started_ns, seq),
                    )
            self._flying.clear()

    def _finish_flying(
        self, delivery_id: str, number: int, result: AttemptResult, state: DeliveryState, excerpt: bytes
    ) -> AttemptRecord | None:
        """Complete an in-memory log's attempt held in flight: one transaction writes it whole."""
        with self._lock:
            flying = self._flying.get(delivery_id)
            if flying is None or flying[1].number != number:
                return None
            seq, started, _ = flying
            # still held, so nothing canceled or re-opened the delivery since (they write it first)
            done = AttemptRecord(
                number,
                started.started_ns,
                result.duration_ns,
                result.outcome,
                result.status,
                excerpt,
                result.detail,
                started.timestamp,
            )
            response = (result.status, excerpt if result.outcome == "response" else None, result.duration_ns)

            def write(db: sqlite3.Connection) -> None:
                db.execute(
                    "INSERT INTO attempts (delivery_seq, number, started_ns, duration_ns, outcome, status, "
                    "excerpt, detail, timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (seq, number, done.started_ns, *_attempt_tail(done)),
                )
                db.execute(
                    f"UPDATE deliveries SET {_STATE_SET}, {_RESPONSE_SET}, last_attempted_ns = ? "
                    "WHERE seq = ?",
                    (*_state_args(state), *response, done.started_ns, seq),
                )
                del self._flying[delivery_id]

            self._batched(write)
        return done

    def finish_attempt(
        self, delivery_id: str, number: int, result: AttemptResult, state: DeliveryState
    ) -> AttemptRecord:
        """Complete attempt ``number`` with ``result`` and store the machine's next ``state``."""
        excerpt = bytes(result.excerpt[:2048])
        if self._flying:
            done = self._finish_flying(delivery_id, number, result, state, excerpt)
            if done is not None:
                return done

        def write(db: sqlite3.Connection) -> tuple[int, int | None]:
            row = db.execute(_SELECT_ATTEMPT, (number, delivery_id)).fetchone()
            if row is None:
                raise UsageError(f"no delivery {delivery_id!r} in this delivery log")
            seq, phase, started_ns, timestamp = row
            cur = db.execute(
                "UPDATE attempts SET duration_ns = ?, outcome = ?, status = ?, excerpt = ?, detail = ? "
                "WHERE delivery_seq = ? AND number = ? AND outcome = ?",
                (
                    result.duration_ns,
                    result.outcome,
                    result.status,
                    excerpt,
                    result.detail,
                    seq,
                    number,
                    IN_FLIGHT,
                ),
            )
            if cur.rowcount != 1:
                raise ValueError(f"attempt {number} of {delivery_id} is not in flight")
            response = (result.status, excerpt if result.outcome == "response" else None, result.duration_ns)
            if phase != Phase.CANCELED.value:  # canceled while in flight: it stays canceled
                db.execute(
                    f"UPDATE deliveries SET {_STATE_SET}, {_RESPONSE_SET} WHERE seq = ?",
                    (*_state_args(state), *response, seq),
                )
            else:
                db.execute(f"UPDATE deliveries SET {_RESPONSE_SET} WHERE seq = ?", (*response, seq))
            return int(started_ns), timestamp

        row = self._batched(write)
        return AttemptRecord(
            number, row[0], result.duration_ns, result.outcome, result.status, excerpt, result.detail, row[1]
        )

    def set_state(self, delivery_id: str, state: DeliveryState) -> None:
        """Store a state reached without an attempt (e.g. a manual retry re-opening the entry)."""

        self._materialize()

        def write(db: sqlite3.Connection) -> None:
            self._seq(db, delivery_id)
            self._set_state(db, delivery_id, state)

        self._batched(write)

    def recover(self, now_ns: int, *, profile: str | None = None) -> list[str]:
        """Mark attempts left in flight ``interrupted``; their deliveries become due at ``now_ns``.

        Call once when a sender starts on a log file another process may have left behind (never
        while another process is sending from the same file).  Returns the deliveries touched.
        """
        touched: list[str] = []
        self._materialize()
        with self._write() as db:
            sql = f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE status = 'pending' AND phase = ?"
            args: list[Any] = [Phase.IN_FLIGHT.value]
            if profile is not None:
                sql += " AND profile = ?"
                args.append(profile)
            for row in db.execute(sql, args).fetchall():
                record = _record(row)
                started = record.state.started_ns or now_ns
                db.execute(
                    "UPDATE attempts SET outcome = ?, duration_ns = ?, detail = ? "
                    "WHERE delivery_seq = ? AND outcome = ?",
                    (
                        INTERRUPTED,
                        max(0, now_ns - started),
                        _INTERRUPTED_DETAIL,
                        record.seq,
                        IN_FLIGHT,
                    ),
                )
                self._set_state(db, record.id, interrupted(record.state, now_ns))
                touched.append(record.id)
            # deliveries canceled while an attempt was in flight stay canceled; the attempt ends
            sql = (
                "UPDATE attempts SET outcome = ?, duration_ns = MAX(0, ? - started_ns), detail = ? "
                "WHERE outcome = ? AND delivery_seq IN (SELECT seq FROM deliveries WHERE phase = ?"
            )
            args = [INTERRUPTED, now_ns, _INTERRUPTED_DETAIL, IN_FLIGHT, Phase.CANCELED.value]
            if profile is not None:
                sql += " AND profile = ?"
                args.append(profile)
            db.execute(sql + ")", args)
        return touched

    def cancel_pending(
        self, now_ns: int, *, profile: str | None = None, delivery_ids: Sequence[str] | None = None
    ) -> list[str]:
        """End every pending delivery (of ``profile``, or only ``delivery_ids``) for good.

        Each becomes ``canceled`` (``failed`` in the providers' views): no driver sends it again,
        since drivers re-read the log before every attempt.  Nothing is deleted; an attempt in
        flight completes normally without re-opening its delivery.  Returns the ids canceled.
        """
        touched: list[str] = []
        self._materialize()
        with self._write() as db:
            sql = f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE status = 'pending'"
            args: list[Any] = []
            if profile is not None:
                sql += " AND profile = ?"
                args.append(profile)
            wanted = None if delivery_ids is None else set(delivery_ids)
            for row in db.execute(sql + " ORDER BY seq", args).fetchall():
                record = _record(row)
                if wanted is not None and record.id not in wanted:
                    continue
                self._set_state(db, record.id, canceled(record.state, now_ns))
                touched.append(record.id)
        return touched

    @staticmethod
    def _seq_phase(db: sqlite3.Connection, delivery_id: str) -> tuple[int, str]:
        row = db.execute("SELECT seq, phase FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
        if row is None:
            raise UsageError(f"no delivery {delivery_id!r} in this delivery log")
        return int(row[0]), str(row[1])

    @staticmethod
    def _seq(db: sqlite3.Connection, delivery_id: str) -> int:
        row = db.execute("SELECT seq FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
        if row is None:
            raise UsageError(f"no delivery {delivery_id!r} in this delivery log")
        return int(row[0])

    # -- reading -----------------------------------------------------------------------
    def get(self, delivery_id: str) -> DeliveryRecord:
        with self._lock:
            row = self._db.execute(_SELECT_BY_ID, (delivery_id,)).fetchone()
            flying = self._flying.get(delivery_id) if self._flying else None
        if row is None:
            raise UsageError(
                f"no delivery {delivery_id!r} in the delivery log {self.path!r}; list them with "
                "'hookmock deliveries --db PATH'"
            )
        record = _record(row)
        if flying is not None:  # an in-memory log's attempt in flight
            record = dataclasses.replace(record, state=flying[2], last_attempted_ns=flying[1].started_ns)
        return record

    def snapshot(self, delivery_id: str) -> tuple[DeliveryRecord, list[AttemptRecord]]:
        """A delivery and its attempts, read together."""
        with self._lock:
            record = self.get(delivery_id)
            return record, self._attempts(delivery_id, record.seq)

    def attempts(self, delivery_id: str) -> list[AttemptRecord]:
        with self._lock:
            return self._attempts(delivery_id, self._seq(self._db, delivery_id))

    def _attempts(self, delivery_id: str, seq: int) -> list[AttemptRecord]:
        rows = self._db.execute(_SELECT_ATTEMPTS, (seq,)).fetchall()
        attempts = [AttemptRecord(r[0], r[1], r[2], r[3], r[4], bytes(r[5]), r[6], r[7]) for r in rows]
        flying = self._flying.get(delivery_id) if self._flying else None
        if flying is not None:
            attempts.append(flying[1])
        return attempts

    def unfinished(self, *, profile: str | None = None) -> list[DeliveryRecord]:
        """Pending deliveries, soonest due first."""
        sql = f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE status = 'pending'"
        args: list[Any] = []
        if profile is not None:
            sql += " AND profile = ?"
            args.append(profile)
        with self._lock:
            self._materialize()
            rows = self._db.execute(sql + " ORDER BY next_due_ns, seq", args).fetchall()
        return [_record(r) for r in rows]

    def last_seq(self) -> int:
        """The sequence number of the newest delivery (0 for an empty log): ``list(after_seq=)``
        with it shows only deliveries created afterwards."""
        with self._lock:
            return int(self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM deliveries").fetchone()[0])

    def count(self, *, status: str | None = None) -> int:
        with self._lock:
            if status is None:
                return int(self._db.execute("SELECT count(*) FROM deliveries").fetchone()[0])
            return int(
                self._db.execute("SELECT count(*) FROM deliveries WHERE status = ?", (status,)).fetchone()[0]
            )

    def in_flight_attempts(self) -> int:
        with self._lock:
            self._materialize()
            return int(
                self._db.execute("SELECT count(*) FROM attempts WHERE outcome = ?", (IN_FLIGHT,)).fetchone()[
                    0
                ]
            )

    def list(
        self,
        *,
        event_type: str | None = None,
        status: str | None = None,
        api_key_id: str | None = None,
        created_from: int | str | datetime | None = None,
        created_to: int | str | datetime | None = None,
        profile: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        after_seq: int | None = None,
    ) -> Page:
        """One page of deliveries, newest first; ``created_from``/``created_to`` are inclusive;
        ``after_seq`` keeps only deliveries created after the one with that :meth:`last_seq`."""
        if limit is None:
            limit = DEFAULT_LIMIT
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise UsageError(f"limit={limit!r} is out of range; give an integer from 1 to {MAX_LIMIT}")
        if status is not None and status not in STATUSES:
            raise UsageError(
                f"status={status!r} is not a delivery status; choose one of {', '.join(STATUSES)}"
            )
        lo = _time_arg(created_from, "from")
        hi = _time_arg(created_to, "to")
        filters: dict[str, Any] = {
            "event_type": event_type,
            "status": status,
            "api_key_id": api_key_id,
            "from": lo,
            "to": hi,
            "profile": profile,
        }
        if after_seq is not None and (isinstance(after_seq, bool) or not isinstance(after_seq, int)):
            raise UsageError(f"after_seq={after_seq!r} must be an integer from DeliveryLog.last_seq()")
        filters["after_seq"] = after_seq  # None is left out of the cursor's filter digest
        where: list[str] = []
        args: list[Any] = []
        for column, value in (
            ("event_type", event_type),
            ("status", status),
            ("api_key_id", api_key_id),
            ("profile", profile),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if lo is not None:
            where.append("created_ns >= ?")
            args.append(lo)
        if hi is not None:
            where.append("created_ns <= ?")
            args.append(hi)
        if after_seq is not None:
            where.append("seq > ?")
            args.append(after_seq)
        if cursor is not None:
            last_created, last_seq = decode_cursor(self._cursor_key, cursor, filters)
            where.append("(created_ns < ? OR (created_ns = ? AND seq < ?))")
            args.extend([last_created, last_created, last_seq])
        sql = f"SELECT {_DELIVERY_COLUMNS} FROM deliveries"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_ns DESC, seq DESC LIMIT ?"
        args.append(limit + 1)
        with self._lock:
            self._materialize()
            rows = self._db.execute(sql, args).fetchall()
        records = [_record(r) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = records[-1]
            next_cursor = encode_cursor(self._cursor_key, last.created_ns, last.seq, filters)
        return Page(records, next_cursor)


def _attempt_tail(a: AttemptRecord) -> tuple[Any, ...]:
    return (a.duration_ns, a.outcome, a.status, a.excerpt, a.detail, a.timestamp)


class _Job:
    __slots__ = ("done", "error", "fn", "result")

    def __init__(self, fn: Callable[[sqlite3.Connection], Any]) -> None:
        self.fn = fn
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None


def _split(script: str) -> list[str]:
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
