"""Assertions on what a sender did, judged only from a receiver's record.

They work against any sender (hookmock's own, or the one you are writing): give them the
:class:`~hookmock.receiver.FakeReceiver` (or its :class:`~hookmock.receiver.record.Record`) that the
sender delivered to.  Every request in the record counts as one attempt of one delivery unless
``event_id=`` picks one event.  A failure raises ``AssertionError`` whose message is the delivery
timeline (attempt, time, what was received, what was answered, the verdict), never a bare assert.

Spacing is measured from when the previous attempt *ended*: its arrival plus the time the answer
took, capped at the profile's deadline (the moment a correct sender gives up).  On a virtual
clock every comparison is exact; on a real one it is within ``tolerance`` seconds.
"""

from __future__ import annotations

import itertools
from typing import Any

from ..clock import SECOND
from .record import ReceivedRequest, Record

__all__ = [
    "assert_attempts",
    "assert_faithful_sender",
    "assert_fresh_signatures",
    "assert_gave_up_at_deadline",
    "assert_identical_bodies",
    "assert_same_event_id",
    "assert_schedule",
    "assert_valid_bodies",
    "expected_attempts",
]

#: Default tolerance on a real clock, in seconds.
REAL_TOLERANCE_S = 0.5


def _record(source: Any) -> Record:
    wait_idle = getattr(source, "wait_idle", None)
    if wait_idle is not None:  # let in-flight answers (a hang's last moments) settle
        wait_idle(timeout=5.0)
    record = getattr(source, "record", source)
    if not isinstance(record, Record):
        raise TypeError(f"give a FakeReceiver or its Record, not {type(source).__name__}")
    return record


def _fail(record: Record, message: str, event_id: str | None) -> AssertionError:
    return AssertionError(f"{message}\n\n{record.timeline(event_id)}")


def _tolerance_ns(record: Record, tolerance: float | None) -> int:
    if record.clock.is_virtual and tolerance is None:
        return 0
    return round((REAL_TOLERANCE_S if tolerance is None else tolerance) * SECOND)


def _attempts(record: Record, event_id: str | None) -> list[ReceivedRequest]:
    items = record.attempts(event_id)
    if not items:
        raise _fail(
            record, "the sender sent nothing" + (f" for event {event_id}" if event_id else ""), event_id
        )
    return items


def _succeeded(record: Record, item: ReceivedRequest) -> bool:
    return (
        item.status is not None
        and record.profile.is_success(item.status)
        and not item.held_past_deadline
        and item.answer.startswith("HTTP")
    )


def expected_attempts(source: Any, event_id: str | None = None) -> int:
    """How many attempts the profile calls for, given what the receiver answered."""
    record = _record(source)
    for n, item in enumerate(record.attempts(event_id), start=1):
        if _succeeded(record, item):
            return n
    return record.profile.max_attempts


def assert_attempts(source: Any, n: int | None = None, *, event_id: str | None = None) -> None:
    """Exactly ``n`` attempts (default: what the profile calls for given the answers)."""
    record = _record(source)
    got = len(record.attempts(event_id))
    want = expected_attempts(record, event_id) if n is None else n
    if got != want:
        why = (
            ""
            if n is not None
            else f" (the profile's rule: retry until a 2xx in time, at most {record.profile.max_attempts})"
        )
        raise _fail(record, f"expected exactly {want} attempt(s){why}, the sender made {got}", event_id)


def assert_schedule(source: Any, *, event_id: str | None = None, tolerance: float | None = None) -> None:
    """Each retry comes the profile's delay after the previous attempt ended; none after success."""
    record = _record(source)
    items = _attempts(record, event_id)
    profile = record.profile
    delays = profile.retry_delays_ns
    slack = _tolerance_ns(record, tolerance)
    for k in range(1, len(items)):
        prev, cur = items[k - 1], items[k]
        if _succeeded(record, prev):
            raise _fail(record, f"attempt {k + 1} was sent although attempt {k} succeeded", event_id)
        if k - 1 >= len(delays):
            raise _fail(
                record,
                f"attempt {k + 1} was sent but the profile allows {profile.max_attempts} attempt(s)",
                event_id,
            )
        if prev.ended_ns is None:
            raise _fail(record, f"attempt {k} never ended at the receiver", event_id)
        expected = prev.ended_ns + delays[k - 1]
        off = cur.arrival_ns - expected
        if abs(off) > slack:
            raise _fail(
                record,
                f"attempt {k + 1} arrived {off / SECOND:+.3f}s off schedule: expected "
                f"{delays[k - 1] / SECOND:g}s after attempt {k} ended, got "
                f"{(cur.arrival_ns - prev.ended_ns) / SECOND:.3f}s (tolerance {slack / SECOND:g}s)",
                event_id,
            )


def assert_same_event_id(source: Any, *, event_id: str | None = None) -> None:
    """Every attempt carries the same (non-empty) event id: the receiver's idempotency key."""
    record = _record(source)
    ids = [item.event_id for item in _attempts(record, event_id)]
    if None in ids:
        raise _fail(record, "an attempt carries no event id", event_id)
    if len(set(ids)) != 1:
        raise _fail(record, f"attempts carry {len(set(ids))} different event ids: {ids}", event_id)


def assert_identical_bodies(source: Any, *, event_id: str | None = None) -> None:
    """Every attempt sends the same body bytes (never re-serialized between attempts)."""
    record = _record(source)
    items = _attempts(record, event_id)
    first = items[0].body
    for item in items[1:]:
        if item.body != first:
            raise _fail(
                record,
                f"attempt {item.attempt} (request #{item.index}) sent different body bytes than the first "
                f"({len(item.body)} B sha256 {item.body_sha256[:12]} vs {len(first)} B "
                f"sha256 {items[0].body_sha256[:12]}): serialize once, store, and re-send the same bytes",
                event_id,
            )


def assert_fresh_signatures(
    source: Any, *, event_id: str | None = None, tolerance: float | None = None
) -> None:
    """Each attempt verifies at its own arrival; with timestamps, each is stamped when it was sent.

    On a virtual clock the timestamp must equal the arrival second exactly (and so differ
    between attempts whenever time moved); on a real clock it must be within ``tolerance``."""
    record = _record(source)
    if record.secret is None:
        raise _fail(record, "cannot judge signatures: give the FakeReceiver the secret", event_id)
    items = _attempts(record, event_id)
    # Whole seconds: a real sender may stamp in the second before the one it arrives in.
    allowed = (
        0.0
        if record.clock.is_virtual and tolerance is None
        else max(1.0, _tolerance_ns(record, tolerance) / SECOND)
    )
    for item in items:
        verdict = item.verdict
        assert verdict is not None
        label = f"attempt {item.attempt} (request #{item.index})"
        if not verdict.ok:
            raise _fail(record, f"{label} does not verify at its arrival: {verdict.describe()}", event_id)
        if not record.profile.has_timestamp:
            continue
        arrival_s = item.arrival_ns // SECOND
        if verdict.timestamp is None or abs(verdict.timestamp - arrival_s) > allowed:
            raise _fail(
                record,
                f"{label} is stamped {verdict.timestamp}, but arrived at {arrival_s}: sign every attempt "
                "afresh with the time it is sent",
                event_id,
            )
    if record.profile.has_timestamp:
        for prev, cur in itertools.pairwise(items):
            assert prev.verdict is not None and cur.verdict is not None
            moved = (cur.arrival_ns - prev.arrival_ns) / SECOND > allowed
            if moved and prev.verdict.timestamp == cur.verdict.timestamp:
                raise _fail(
                    record,
                    f"attempts {prev.attempt} and {cur.attempt} reuse timestamp {cur.verdict.timestamp} "
                    "although time moved: sign every attempt afresh",
                    event_id,
                )


def assert_valid_bodies(source: Any, *, event_id: str | None = None) -> None:
    """Every body is schema-valid and names an event type from the profile's closed set."""
    record = _record(source)
    allowed = set(record.profile.event_types)
    for item in _attempts(record, event_id):
        label = f"attempt {item.attempt} (request #{item.index})"
        if not item.schema_valid:
            problems = [*item.violations, *([item.json_error] if item.json_error else [])]
            raise _fail(record, f"{label} body is not schema-valid: " + "; ".join(problems), event_id)
        if item.event_type not in allowed:
            raise _fail(
                record,
                f"{label} has event type {item.event_type!r}, not one of the {record.profile.name} "
                f"event types ({', '.join(sorted(allowed))})",
                event_id,
            )


def assert_gave_up_at_deadline(
    source: Any, *, event_id: str | None = None, tolerance: float | None = None
) -> None:
    """Every attempt the receiver held back was abandoned by the sender at its deadline.

    Needs at least one attempt answered with ``Hang()`` (or a delay/dribble past the deadline)."""
    record = _record(source)
    items = _attempts(record, event_id)
    held = [item for item in items if item.held_past_deadline]
    if not held:
        raise _fail(record, "no attempt was held past the deadline: plan a Hang() to judge this", event_id)
    deadline = record.profile.deadline_ns
    slack = _tolerance_ns(record, tolerance)
    for item in held:
        label = f"attempt {item.attempt} (request #{item.index})"
        if item.gave_up_ns is None:
            raise _fail(
                record,
                f"{label}: the sender was still waiting after the {deadline / SECOND:g}s deadline "
                "(it must give up on the whole response by then)",
                event_id,
            )
        waited = item.gave_up_ns - item.arrival_ns
        if abs(waited - deadline) > slack:
            raise _fail(
                record,
                f"{label}: the sender gave up after {waited / SECOND:.3f}s, not at the "
                f"{deadline / SECOND:g}s deadline (tolerance {slack / SECOND:g}s)",
                event_id,
            )


def assert_faithful_sender(
    source: Any, *, attempts: int | None = None, event_id: str | None = None, tolerance: float | None = None
) -> None:
    """Every check above that applies: attempts, schedule, ids, bodies, signatures, deadline."""
    record = _record(source)
    assert_attempts(record, attempts, event_id=event_id)
    assert_schedule(record, event_id=event_id, tolerance=tolerance)
    assert_same_event_id(record, event_id=event_id)
    assert_identical_bodies(record, event_id=event_id)
    assert_valid_bodies(record, event_id=event_id)
    if record.secret is not None:
        assert_fresh_signatures(record, event_id=event_id, tolerance=tolerance)
    if any(item.held_past_deadline for item in record.attempts(event_id)):
        assert_gave_up_at_deadline(record, event_id=event_id, tolerance=tolerance)
