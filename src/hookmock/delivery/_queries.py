"""The delivery log's queries: one delivery and its attempts, pending deliveries, counts, and pages
of deliveries with filters and cursor pagination (newest first)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..clock import to_ns
from ..errors import UsageError
from ._base import LogBase
from ._schema import DELIVERY_COLUMNS, SELECT_ATTEMPTS, SELECT_BY_ID, seq_of, to_record
from .cursor import decode_cursor, encode_cursor
from .records import IN_FLIGHT, AttemptRecord, DeliveryRecord, Page, headers_from_json

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "STATUSES", "Queries"]

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
STATUSES = ("pending", "succeeded", "failed")


#: The times a delivery log can hold: nanoseconds in SQLite's signed 64-bit INTEGER
#: (1677-09-21T00:12:44Z to 2262-04-11T23:47:16Z).
_MIN_NS, _MAX_NS = -(2**63), 2**63 - 1


def _time_arg(value: int | str | datetime | None, name: str) -> int | None:
    """ns since the epoch from ns (int), an aware datetime or an ISO 8601 string; the one parser
    of ``from``/``to`` for the Python API, the CLI and the emulator."""
    if value is None:
        return None
    ns: int | None = None
    if isinstance(value, datetime):
        ns = _aware_ns(value, name, value)
    elif isinstance(value, int) and not isinstance(value, bool):
        ns = value
    elif isinstance(value, str):
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            ns = _aware_ns(parsed, name, value)
    if ns is None:
        raise UsageError(
            f"{name}={value!r} is not a date-time; give ISO 8601 with an offset, "
            "e.g. 2026-05-01T00:00:00+00:00"
        )
    if not _MIN_NS <= ns <= _MAX_NS:
        raise _out_of_range(name, value)
    return ns


def _aware_ns(parsed: datetime, name: str, given: object) -> int:
    try:
        return to_ns(parsed)
    except OverflowError:  # an offset that moves the time past year 1 or 9999
        raise _out_of_range(name, given) from None
    except ValueError as exc:  # a naive datetime
        raise UsageError(f"{name}={given!r}: {exc}") from None


def _out_of_range(name: str, value: object) -> UsageError:
    return UsageError(
        f"{name}={value!r} is outside the times a delivery log can hold "
        "(1677-09-21T00:12:44Z to 2262-04-11T23:47:16Z); give a date-time in that range"
    )


class Queries(LogBase):
    def get(self, delivery_id: str) -> DeliveryRecord:
        with self._lock:
            held = self._held.get(delivery_id) if self._held else None
            row = None if held is not None else self._db.execute(SELECT_BY_ID, (delivery_id,)).fetchone()
            flying = self._flying.get(delivery_id) if self._flying else None
        if held is not None:  # an in-memory log's delivery not written yet
            record = held.record
        elif row is None:
            raise UsageError(
                f"no delivery {delivery_id!r} in the delivery log {self.path!r}; list them with "
                "'hookmock deliveries --db PATH'"
            )
        else:
            record = to_record(row)
        if flying is not None:  # an in-memory log's attempt in flight
            record = record.changed(state=flying[2], last_attempted_ns=flying[1].started_ns)
        return record

    def snapshot(self, delivery_id: str) -> tuple[DeliveryRecord, list[AttemptRecord]]:
        """A delivery and its attempts, read together."""
        with self._lock:
            record = self.get(delivery_id)
            return record, self._attempts(delivery_id, record.seq)

    def attempts(self, delivery_id: str) -> list[AttemptRecord]:
        with self._lock:
            held = self._held.get(delivery_id) if self._held else None
            return self._attempts(delivery_id, held.record.seq if held else seq_of(self._db, delivery_id))

    def _attempts(self, delivery_id: str, seq: int) -> list[AttemptRecord]:
        held = self._held.get(delivery_id) if self._held else None
        if held is not None:
            attempts = list(held.attempts)
        else:
            rows = self._db.execute(SELECT_ATTEMPTS, (seq,)).fetchall()
            attempts = [
                AttemptRecord(r[0], r[1], r[2], r[3], r[4], bytes(r[5]), r[6], r[7], headers_from_json(r[8]))
                for r in rows
            ]
        flying = self._flying.get(delivery_id) if self._flying else None
        if flying is not None:
            attempts.append(flying[1])
        return attempts

    def find(self, text: str, *, limit: int = 50) -> list[DeliveryRecord]:
        """Deliveries whose id or event id is ``text`` (both indexed), newest first."""
        sql = (
            f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ? OR event_id = ? "
            "ORDER BY created_ns DESC, seq DESC LIMIT ?"
        )
        with self._lock:
            self._materialize(("deliveries_by_event_id",))
            rows = self._db.execute(sql, (text, text, limit)).fetchall()
        return [to_record(r) for r in rows]

    def unfinished(self, *, profile: str | None = None) -> list[DeliveryRecord]:
        """Pending deliveries, soonest due first."""
        sql = f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE status = 'pending'"
        args: list[Any] = []
        if profile is not None:
            sql += " AND profile = ?"
            args.append(profile)
        with self._lock:
            self._materialize(("deliveries_unfinished",))
            rows = self._db.execute(sql + " ORDER BY next_due_ns, seq", args).fetchall()
        return [to_record(r) for r in rows]

    def last_seq(self) -> int:
        """The sequence number of the newest delivery (0 for an empty log): ``list(after_seq=)``
        with it shows only deliveries created afterwards."""
        with self._lock:
            self._materialize(())  # the primary key answers it
            return int(self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM deliveries").fetchone()[0])

    def count(self, *, status: str | None = None) -> int:
        with self._lock:
            self._materialize(("deliveries_by_status",))  # (the narrowest to count all with, too)
            if status is None:
                return int(self._db.execute("SELECT count(*) FROM deliveries").fetchone()[0])
            return int(
                self._db.execute("SELECT count(*) FROM deliveries WHERE status = ?", (status,)).fetchone()[0]
            )

    def in_flight_attempts(self) -> int:
        with self._lock:
            self._materialize(("attempts_in_flight",))
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
        sql = f"SELECT {DELIVERY_COLUMNS} FROM deliveries"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_ns DESC, seq DESC LIMIT ?"
        args.append(limit + 1)
        with self._lock:
            self._materialize()
            rows = self._db.execute(sql, args).fetchall()
        records = [to_record(r) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = records[-1]
            next_cursor = encode_cursor(self._cursor_key, last.created_ns, last.seq, filters)
        return Page(records, next_cursor)
