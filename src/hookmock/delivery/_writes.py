"""The delivery log's write path: accept a delivery, record an attempt in flight, complete it.

Durability rule, kept by the drivers: an attempt row is inserted (``outcome = 'in_flight'``) and
committed *before* the request is sent, then completed exactly once.  An in-memory log holds a
new delivery, its attempt in flight and its completed attempts beside the database instead, and
writes them whole (up to ``HOLD_MAX`` deliveries in one transaction) once a reader other than
``get``/``snapshot``/``attempts`` needs the table, or a writer changes it.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from ..errors import UsageError
from ._base import Held, LogBase
from ._schema import (
    INSERT_ATTEMPT,
    RESPONSE_SET,
    SELECT_ATTEMPT,
    STATE_SET,
    attempt_args,
    seq_of,
    seq_phase_of,
    state_args,
    store_state,
)
from .machine import DeliveryCanceled, DeliveryState, Phase, new_delivery
from .records import IN_FLIGHT, AttemptRecord, DeliveryRecord, bound_headers, headers_to_json

if TYPE_CHECKING:  # pragma: no cover
    from ..transport import AttemptResult

__all__ = ["HOLD_MAX", "Writes"]

#: an in-memory log writes its held deliveries once this many are held (or a reader needs them)
HOLD_MAX = 256
#: the stored ``phase`` of a canceled delivery (read once: an enum's ``.value`` is a property)
_CANCELED = Phase.CANCELED.value


class Writes(LogBase):
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
        """Accept a delivery: committed before this returns; its first attempt is due at once.

        Inside :meth:`alongside` blocks of this thread, the caller's writes commit in the same
        transaction (the emulator's task state, a mod.io entry's game)."""
        state = new_delivery(created_ns)
        data = bytes(body)
        fields = (
            delivery_id,
            profile,
            event_id,
            event_type,
            target_url,
            state,
            created_ns,
            api_key_id,
            replayed_from_id,
            agent_job_id,
            data,
        )
        also = self._alongside_writes()
        if self.durable:

            def write(db: sqlite3.Connection) -> int:
                cur = db.execute(
                    "INSERT INTO deliveries (id, profile, event_id, event_type, target_url, status, "
                    "phase, attempts, failures, created_ns, next_due_ns, api_key_id, replayed_from_id, "
                    "agent_job_id, body) "
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
                for extra in also:  # the caller's rows: committed with the delivery or not at all
                    extra(db, delivery_id)
                return int(cur.lastrowid or 0)

            return _new_record(self._batched(write), *fields)
        with self._lock:  # held beside the database until a reader needs the table (see the module doc)
            if (
                delivery_id in self._held
                or self._db.execute("SELECT 1 FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
            ):
                raise sqlite3.IntegrityError("UNIQUE constraint failed: deliveries.id")
            if len(self._held) >= HOLD_MAX:
                self._write_held()
            record = _new_record(self._next_seq(), *fields)
            self._held[delivery_id] = Held(record)
            if also:  # nothing in memory survives a crash: a transaction of its own is enough
                with self._write() as db:
                    for extra in also:
                        extra(db, delivery_id)
        return record

    def start_attempt(
        self, delivery_id: str, state: DeliveryState, *, timestamp: int | None = None
    ) -> AttemptRecord:
        """Record attempt ``state.attempts`` in flight (``state`` is the machine's state after START)."""
        if state.phase is not Phase.IN_FLIGHT or state.started_ns is None:
            raise ValueError(f"start_attempt needs an in-flight state, got {state}")

        attempt = AttemptRecord(state.attempts, state.started_ns, None, IN_FLIGHT, None, b"", "", timestamp)
        if not self.durable:  # held beside the database until it completes (see the module's doc)
            with self._lock:
                held = self._held.get(delivery_id) if self._held else None
                if held is not None:
                    seq, phase = held.record.seq, held.record.state.phase._value_
                else:
                    seq, phase = seq_phase_of(self._db, delivery_id)
                if phase == _CANCELED:
                    raise DeliveryCanceled(f"delivery {delivery_id} was canceled; no attempt is started")
                if delivery_id in self._flying:
                    raise sqlite3.IntegrityError(f"delivery {delivery_id} already has an attempt in flight")
                self._flying[delivery_id] = (seq, attempt, state)
            return attempt

        if self._sendlock is not None:
            self._sendlock.share()  # this process sends from the file: recovery elsewhere waits for it

        def write(db: sqlite3.Connection) -> None:
            seq, phase = seq_phase_of(db, delivery_id)
            if phase == _CANCELED:  # canceled since the driver read it: send nothing
                raise DeliveryCanceled(f"delivery {delivery_id} was canceled; no attempt is started")
            db.execute(
                "INSERT INTO attempts (delivery_seq, number, started_ns, outcome, timestamp) "
                "VALUES (?, ?, ?, ?, ?)",
                (seq, state.attempts, state.started_ns, IN_FLIGHT, timestamp),
            )
            db.execute(
                f"UPDATE deliveries SET {STATE_SET}, last_attempted_ns = ? WHERE seq = ?",
                (*state_args(state), state.started_ns, seq),
            )

        self._batched(write)  # committed (group commit) before this returns
        return attempt

    def _finish_flying(
        self,
        delivery_id: str,
        number: int,
        result: AttemptResult,
        state: DeliveryState,
        excerpt: bytes,
        headers: tuple[tuple[str, str], ...],
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
                headers,
            )
            response = (result.status, excerpt if result.outcome == "response" else None, result.duration_ns)
            held = self._held.get(delivery_id) if self._held else None
            if held is not None:  # not written yet: it stays held, now with this attempt
                # a new record (the old one may have been handed out): what ``replaced`` makes
                record = object.__new__(DeliveryRecord)
                fields = record.__dict__
                fields.update(held.record.__dict__)
                fields["state"] = state
                fields["last_attempted_ns"] = done.started_ns
                fields["response_status_code"] = response[0]
                fields["response_body_excerpt"] = response[1]
                fields["last_duration_ns"] = response[2]
                held.record = record
                held.attempts.append(done)
                del self._flying[delivery_id]
                return done

            def write(db: sqlite3.Connection) -> None:
                db.execute(
                    INSERT_ATTEMPT,
                    (seq, *attempt_args(done)),
                )
                db.execute(
                    f"UPDATE deliveries SET {STATE_SET}, {RESPONSE_SET}, last_attempted_ns = ? WHERE seq = ?",
                    (*state_args(state), *response, done.started_ns, seq),
                )
                del self._flying[delivery_id]

            self._batched(write)
        return done

    def finish_attempt(
        self,
        delivery_id: str,
        number: int,
        result: AttemptResult,
        state: DeliveryState,
        *,
        headers_bounded: bool = False,
    ) -> AttemptRecord:
        """Complete attempt ``number`` with ``result`` and store the machine's next ``state``.
        ``headers_bounded``: ``result.headers`` are already as :func:`bound_headers` leaves them
        (the engine bounds and redacts them before anything is logged), so they are kept as they are."""
        return self._finish_attempt(delivery_id, number, result, state, headers_bounded=headers_bounded)[0]

    def _finish_attempt(
        self,
        delivery_id: str,
        number: int,
        result: AttemptResult,
        state: DeliveryState,
        *,
        headers_bounded: bool = False,
    ) -> tuple[AttemptRecord, bool]:
        """:meth:`finish_attempt`, and whether the log now holds ``state`` (False: the delivery was
        canceled while the attempt was in flight, and stays canceled).  A driver that goes on with
        the delivery needs no second read of the log when it is True."""
        excerpt = bytes(result.excerpt[:2048])
        headers = result.headers if headers_bounded else bound_headers(result.headers)
        if self._flying:
            done = self._finish_flying(delivery_id, number, result, state, excerpt, headers)
            if done is not None:  # still held in flight: nothing canceled it (a cancel writes it first)
                return done, True
        if self._held:
            self._write_held()  # an attempt not held in flight: checked against the database

        def write(db: sqlite3.Connection) -> tuple[int, int | None, bool]:
            row = db.execute(SELECT_ATTEMPT, (number, delivery_id)).fetchone()
            if row is None:
                raise UsageError(f"no delivery {delivery_id!r} in this delivery log")
            seq, phase, started_ns, timestamp = row
            cur = db.execute(
                "UPDATE attempts SET duration_ns = ?, outcome = ?, status = ?, excerpt = ?, detail = ?, "
                "headers = ? WHERE delivery_seq = ? AND number = ? AND outcome = ?",
                (
                    result.duration_ns,
                    result.outcome,
                    result.status,
                    excerpt,
                    result.detail,
                    headers_to_json(headers),
                    seq,
                    number,
                    IN_FLIGHT,
                ),
            )
            if cur.rowcount != 1:
                raise ValueError(f"attempt {number} of {delivery_id} is not in flight")
            response = (result.status, excerpt if result.outcome == "response" else None, result.duration_ns)
            if phase != _CANCELED:  # canceled while in flight: it stays canceled
                db.execute(
                    f"UPDATE deliveries SET {STATE_SET}, {RESPONSE_SET} WHERE seq = ?",
                    (*state_args(state), *response, seq),
                )
            else:
                db.execute(f"UPDATE deliveries SET {RESPONSE_SET} WHERE seq = ?", (*response, seq))
            return int(started_ns), timestamp, phase != _CANCELED

        row = self._batched(write)
        done = AttemptRecord(
            number,
            row[0],
            result.duration_ns,
            result.outcome,
            result.status,
            excerpt,
            result.detail,
            row[1],
            headers,
        )
        return done, row[2]

    def set_state(self, delivery_id: str, state: DeliveryState) -> None:
        """Store a state reached without an attempt (e.g. a manual retry re-opening the entry)."""

        self._write_held()

        def write(db: sqlite3.Connection) -> None:
            seq_of(db, delivery_id)
            store_state(db, delivery_id, state)

        self._batched(write)


def _new_record(
    seq: int,
    delivery_id: str,
    profile: str,
    event_id: str | None,
    event_type: str,
    target_url: str,
    state: DeliveryState,
    created_ns: int,
    api_key_id: str | None,
    replayed_from_id: str | None,
    agent_job_id: str | None,
    body: bytes,
) -> DeliveryRecord:
    return DeliveryRecord(
        seq,
        delivery_id,
        profile,
        event_id,
        event_type,
        target_url,
        state,
        created_ns,
        None,  # last_attempted_ns
        None,  # response_status_code
        None,  # response_body_excerpt
        None,  # last_duration_ns
        api_key_id,
        replayed_from_id,
        agent_job_id,
        body,
    )
