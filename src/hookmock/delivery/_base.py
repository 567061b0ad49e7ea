"""What every part of the delivery log shares: the connection, its lock, write transactions with
group commit, and an in-memory log's attempts held in flight beside the database.

:class:`LogBase` declares the state :class:`~hookmock.delivery.log.DeliveryLog` sets up; the
write path, the queries and recovery are mixins on top of it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from .._sqlite import immediate
from ._schema import STATE_SET, state_args
from .machine import DeliveryState
from .records import IN_FLIGHT, AttemptRecord

__all__ = ["LogBase"]

T = TypeVar("T")


class LogBase:
    path: str
    _db: sqlite3.Connection
    _lock: threading.RLock
    _queue_lock: threading.Lock
    _queue: list[_Job]
    #: an in-memory log's attempts in flight, not yet in the database: id -> (seq, attempt, state)
    _flying: dict[str, tuple[int, AttemptRecord, DeliveryState]]
    _cursor_key: bytes

    @property
    def durable(self) -> bool:
        """True for a file: what is committed survives a crash of the sending process."""
        return self.path != ":memory:"

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return immediate(self._db, self._lock)

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
                        f"UPDATE deliveries SET {STATE_SET}, last_attempted_ns = ? WHERE seq = ?",
                        (*state_args(state), attempt.started_ns, seq),
                    )
            self._flying.clear()


class _Job:
    __slots__ = ("done", "error", "fn", "result")

    def __init__(self, fn: Callable[[sqlite3.Connection], Any]) -> None:
        self.fn = fn
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None
