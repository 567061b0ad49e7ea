"""Recovery and cancellation in the delivery log: attempts left in flight by a dead process, and
pending deliveries ended for good.

:meth:`Recovery.recover` marks attempts left in flight ``interrupted`` and makes their deliveries
due again.  :meth:`Recovery.cancel_pending` ends pending deliveries (``canceled``) without deleting
anything: drivers re-read the log before each attempt, and an attempt in flight at that moment
completes without re-opening its delivery.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import UsageError
from ._base import LogBase
from ._schema import DELIVERY_COLUMNS, store_state, to_record
from .machine import Phase, canceled, interrupted
from .records import IN_FLIGHT, INTERRUPTED

__all__ = ["Recovery", "canceled_in_flight"]

# `# pragma: no mutate` on SQL text: a mutation run's only string mutations there are upper/lower
# case (SQL keywords and names ignore case: no change) and "XX" wrapping (a syntax error).

_INTERRUPTED_DETAIL = "the sending process stopped before the attempt completed"


def canceled_in_flight(now_ns: int, profile: str | None) -> tuple[str, list[Any]]:
    """The statement (and its arguments) that ends the attempts left in flight for deliveries
    canceled meanwhile.

    Driven from the attempts in flight (the partial index ``attempts_in_flight``: the outcome is a
    literal so that SQLite may use it), each delivery looked up by its key: start-up reads a handful
    of rows, not every delivery of the log.
    """
    sql = (
        "UPDATE attempts SET outcome = ?, duration_ns = MAX(0, ? - started_ns), "  # pragma: no mutate
        "detail = ? "  # pragma: no mutate
        f"WHERE outcome = '{IN_FLIGHT}' AND EXISTS (SELECT 1 FROM deliveries d "  # pragma: no mutate
        "WHERE d.seq = attempts.delivery_seq AND d.phase = ?"  # pragma: no mutate
    )
    args: list[Any] = [INTERRUPTED, now_ns, _INTERRUPTED_DETAIL, Phase.CANCELED.value]
    if profile is not None:
        sql += " AND d.profile = ?"  # pragma: no mutate
        args.append(profile)
    return sql + ")", args


class Recovery(LogBase):
    def recover(self, now_ns: int, *, profile: str | None = None, alone: bool = False) -> list[str]:
        """Mark attempts left in flight ``interrupted``; their deliveries become due at ``now_ns``.

        Call once when a sender starts on a log file another process may have left behind.  While
        another live process sends from the same file its attempts are not dead: nothing is
        touched (``[]``), or with ``alone=True`` a :class:`UsageError` says the file is in use.
        Returns the deliveries touched.
        """
        if self._sendlock is not None and not self._sendlock.claim():
            if alone:
                raise UsageError(
                    f"delivery log {self.path!r} is in use by another running hookmock process "
                    "(sending from it); stop that process or give another --db"
                )
            return []
        try:  # held exclusively meanwhile: no other process starts an attempt during recovery
            return self._recover(now_ns, profile)
        finally:
            if self._sendlock is not None:
                self._sendlock.share()

    def _recover(self, now_ns: int, profile: str | None) -> list[str]:
        touched: list[str] = []
        self._materialize()
        with self._write() as db:
            sql = f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE status = 'pending' AND phase = ?"
            args: list[Any] = [Phase.IN_FLIGHT.value]
            if profile is not None:
                sql += " AND profile = ?"  # pragma: no mutate
                args.append(profile)
            for row in db.execute(sql, args).fetchall():
                record = to_record(row)
                started = record.state.started_ns or now_ns
                db.execute(
                    "UPDATE attempts SET outcome = ?, duration_ns = ?, detail = ? "  # pragma: no mutate
                    "WHERE delivery_seq = ? AND outcome = ?",  # pragma: no mutate
                    (
                        INTERRUPTED,
                        max(0, now_ns - started),
                        _INTERRUPTED_DETAIL,
                        record.seq,
                        IN_FLIGHT,
                    ),
                )
                store_state(db, record.id, interrupted(record.state, now_ns))
                touched.append(record.id)
            # deliveries canceled while an attempt was in flight stay canceled; the attempt ends
            db.execute(*canceled_in_flight(now_ns, profile))
        return touched

    def cancel_pending(
        self,
        now_ns: int,
        *,
        profile: str | None = None,
        delivery_ids: Sequence[str] | None = None,
        alongside: Callable[[sqlite3.Connection], object] | None = None,
    ) -> list[str]:
        """End every pending delivery (of ``profile``, or only ``delivery_ids``) for good.

        Each becomes ``canceled`` (``failed`` in the providers' views): no driver sends it again,
        since drivers re-read the log before every attempt.  Nothing is deleted; an attempt in
        flight completes normally without re-opening its delivery.  Returns the ids canceled.
        ``alongside(db)``: the caller's own writes (same file), committed in the same transaction.
        """
        touched: list[str] = []
        self._materialize()
        with self._write() as db:
            sql = f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE status = 'pending'"
            args: list[Any] = []
            if profile is not None:
                sql += " AND profile = ?"  # pragma: no mutate
                args.append(profile)
            wanted = None if delivery_ids is None else set(delivery_ids)
            in_order = " ORDER BY seq"  # pragma: no mutate
            for row in db.execute(sql + in_order, args).fetchall():
                record = to_record(row)
                if wanted is not None and record.id not in wanted:
                    continue
                store_state(db, record.id, canceled(record.state, now_ns))
                touched.append(record.id)
            if alongside is not None:
                alongside(db)
        return touched
