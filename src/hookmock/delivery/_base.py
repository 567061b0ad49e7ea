"""What every part of the delivery log shares: the connection, its lock, write transactions with
group commit, and an in-memory log's new deliveries and attempts in flight held beside the database.

:class:`LogBase` declares the state :class:`~hookmock.delivery.log.DeliveryLog` sets up; the
write path, the queries and recovery are mixins on top of it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

from .._util.sqlite import begin_immediate, immediate
from ._schema import INSERT_ATTEMPT, INSERT_DELIVERY, STATE_SET, attempt_args, delivery_args, state_args
from ._sendlock import SendLock
from .machine import DeliveryState
from .records import IN_FLIGHT, AttemptRecord, DeliveryRecord

__all__ = ["AlongsideWrite", "Held", "LogBase"]

T = TypeVar("T")
#: ``write(db, delivery_id)``: the caller's own rows, committed with a new delivery (``alongside``)
AlongsideWrite = Callable[[sqlite3.Connection, str], object]


class LogBase:
    path: str
    _db: sqlite3.Connection
    _lock: threading.RLock
    _queue_lock: threading.Lock
    _queue: list[_Job]
    #: an in-memory log's attempts in flight, not yet in the database: id -> (seq, attempt, state)
    _flying: dict[str, tuple[int, AttemptRecord, DeliveryState]]
    #: an in-memory log's deliveries not yet in the database (in creation order), with their
    #: completed attempts; their attempt in flight, if any, is in ``_flying``
    _held: dict[str, Held]
    #: the ``seq`` of an in-memory log's newest delivery (None until read from the table)
    _last_seq: int | None
    _cursor_key: bytes
    #: per thread: writes committed with every delivery that thread creates (see ``alongside``)
    _alongside: threading.local
    #: a file log's "who is sending from this file" lock (None in memory; see ``_sendlock``)
    _sendlock: SendLock | None
    #: an in-memory log's secondary indexes not made yet, by name (see :meth:`_materialize`)
    _deferred_indexes: dict[str, str]

    @property
    def durable(self) -> bool:
        """True for a file: what is committed survives a crash of the sending process."""
        return self.path != ":memory:"

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return immediate(self._db, self._lock, self.path)

    @contextmanager
    def alongside(self, write: AlongsideWrite) -> Iterator[None]:
        """Commit ``write(db, delivery_id)`` in the same transaction as every delivery this thread
        creates inside the block: the new row and the caller's own rows (tables it keeps in the
        same SQLite file) become one atomic step, so a crash leaves both or neither.

        ``write`` runs on the log's connection, inside the delivery's transaction; if it raises,
        the delivery is not created either.  An in-memory log survives no crash, so there it runs
        in a transaction of its own right after the delivery is held.
        """
        stack: list[AlongsideWrite] = self._alongside.__dict__.setdefault("writes", [])
        stack.append(write)
        try:
            yield
        finally:
            stack.pop()

    def _alongside_writes(self) -> tuple[AlongsideWrite, ...]:
        return tuple(self._alongside.__dict__.get("writes", ()))

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
            begin_immediate(db, self.path)
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

    def _next_seq(self) -> int:
        """The ``seq`` of an in-memory log's next delivery (AUTOINCREMENT's, kept here); under the lock."""
        if self._last_seq is None:
            self._last_seq = int(
                self._db.execute(
                    "SELECT MAX(COALESCE((SELECT MAX(seq) FROM deliveries), 0), "
                    "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'deliveries'), 0))"
                ).fetchone()[0]
            )
        self._last_seq += 1
        return self._last_seq

    def _materialize(self, indexes: Iterable[str] | None = None) -> None:
        """Make the database answer a query as a file log's does: write an in-memory log's held
        deliveries and attempts in flight to it (in one transaction), and make the secondary
        ``indexes`` the query may use (None: every one) if they are not made yet.

        Every reader of the table other than by id or ``seq`` calls this first.  An in-memory log
        is made without its seven secondary indexes on ``deliveries`` (and the partial one on
        ``attempts``): while nothing queries it, keeping them up to date was most of the cost of
        writing each row, and a day of traffic replayed on the virtual clock may never query
        it.  Each is made, in one pass over the table, before the first query that may use it,
        and kept up to date from then on; until then only lookups by key (the primary keys and
        the ``UNIQUE`` id, made with the tables) run.  An index changes how fast a query answers,
        never what it answers."""
        with self._lock:
            self._write_held()
            deferred = self._deferred_indexes
            if deferred:
                wanted = list(deferred) if indexes is None else [n for n in indexes if n in deferred]
                if wanted:
                    with self._write() as db:
                        for name in wanted:
                            db.execute(deferred[name])
                    for name in wanted:
                        del deferred[name]

    def _write_held(self) -> None:
        """Write an in-memory log's held deliveries and attempts in flight to the database (as a
        file log has them), in one transaction (writers call this: they look rows up by key)."""
        with self._lock:
            if not self._flying and not self._held:
                return
            with self._write() as db:
                if self._held:
                    held = list(self._held.values())
                    _insert_rows(db, INSERT_DELIVERY, [delivery_args(h.record) for h in held])
                    attempts = [attempt_args(a, h.record.seq) for h in held for a in h.attempts]
                    _insert_rows(db, INSERT_ATTEMPT, attempts)
                    self._held.clear()
                for seq, attempt, state in self._flying.values():
                    db.execute(
                        "INSERT INTO attempts (delivery_seq, number, started_ns, outcome, timestamp) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (seq, attempt.number, attempt.started_ns, IN_FLIGHT, attempt.timestamp),
                    )
                    db.execute(
                        f"UPDATE deliveries SET {STATE_SET}, last_attempted_ns = ? WHERE seq = ?",
                        (*state_args(state), attempt.started_ns, seq),
                    )
            self._flying.clear()


#: parameters in one statement: SQLite before 3.32 allows at most 999
_MAX_PARAMETERS = 999
#: rows per multi-row INSERT: SQLite inserts 40 rows given in one statement in about 80 % of the
#: time it takes for them one statement each (``executemany``)
_ROWS_PER_STATEMENT = 40


def _insert_rows(db: sqlite3.Connection, insert: str, rows: list[tuple[Any, ...]]) -> None:
    """Run ``insert`` (``INSERT ... VALUES (?, ...)``) for every row of ``rows``: whole chunks of
    rows as one multi-row statement, the rest one by one (so only one multi-row text is prepared
    and cached per table)."""
    if not rows:
        return
    head, _, values = insert.partition(" VALUES ")
    per = min(_ROWS_PER_STATEMENT, _MAX_PARAMETERS // len(rows[0]))
    whole = len(rows) - len(rows) % per
    if whole:
        many = f"{head} VALUES {', '.join([values] * per)}"
        for start in range(0, whole, per):
            db.execute(many, [value for row in rows[start : start + per] for value in row])
    if whole < len(rows):
        db.executemany(insert, rows[whole:])


class Held:
    """An in-memory log's delivery not yet written: its current row and its completed attempts."""

    __slots__ = ("attempts", "record")

    def __init__(self, record: DeliveryRecord) -> None:
        self.record = record
        self.attempts: list[AttemptRecord] = []


class _Job:
    __slots__ = ("done", "error", "fn", "result")

    def __init__(self, fn: Callable[[sqlite3.Connection], Any]) -> None:
        self.fn = fn
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None
