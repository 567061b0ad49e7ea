"""One delivery attempt, done right, and the inline driver that repeats it until done.

:class:`Engine` joins the pure machine, the log, a transport and the profile's signing: an
attempt takes a fresh timestamp from the clock, signs the *stored* body bytes, is recorded in
flight (committed) before the request leaves, and is completed with what came back.

:func:`run_inline` drives deliveries to completion in the calling thread, always doing the
soonest due attempt next.  On a :class:`~hookmock.clock.VirtualClock` it jumps the clock to each
due time, so Moda's worst case (four timeouts plus three waits) costs milliseconds; on the real
clock it really waits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ..clock import Clock, unix_s
from ..profiles import Profile
from ..transport import AttemptResult, Transport
from . import crashpoint, machine
from .log import DeliveryLog
from .machine import DeliveryState, Done, Rules, Send, Wait, WaitForResult
from .records import AttemptRecord, DeliveryRecord

__all__ = ["AttemptEvent", "Engine", "run_inline"]


@dataclass(frozen=True)
class AttemptEvent:
    """Reported to listeners after each attempt completes."""

    delivery_id: str
    attempt: AttemptRecord
    state: DeliveryState

    @property
    def next_due_ns(self) -> int | None:
        return self.state.next_due_ns if self.state.status == "pending" else None


#: Finds the transport and the target object (URL string or in-process app) for a stored target URL.
Resolver = Callable[[str], tuple[Transport, object]]


class Engine:
    """Does attempts for one profile and secret; shared by every driver."""

    def __init__(
        self,
        *,
        profile: Profile,
        rules: Rules,
        secret: str,
        clock: Clock,
        log: DeliveryLog,
        resolve: Resolver,
        listeners: Iterable[Callable[[AttemptEvent], object]] = (),
    ) -> None:
        self.profile = profile
        self.rules = rules
        self._secret = secret
        self.clock = clock
        self.log = log
        self.resolve = resolve
        self.listeners = list(listeners)

    def __repr__(self) -> str:  # never shows the secret
        return f"<Engine {self.profile.name} log={self.log.path!r}>"

    def attempt(self, record: DeliveryRecord) -> AttemptEvent | None:
        """Send the next attempt of ``record`` now and record it (in flight first, then done).

        None if the delivery was canceled in the log meanwhile (nothing is sent)."""
        now = self.clock.now_ns()
        state = machine.attempt_started(record.state, self.rules, now)
        timestamp = unix_s(self.clock)  # whole seconds, as the header carries them
        headers = self.profile.delivery_headers(record.body, self._secret, timestamp)
        try:
            self.log.start_attempt(
                record.id, state, timestamp=timestamp if self.profile.has_timestamp else None
            )  # committed before a byte is sent
        except machine.DeliveryCanceled:
            return None
        crashpoint.reached("after_attempt_recorded")
        try:
            transport, target = self.resolve(record.target_url)
            result = transport.send(
                target, headers, record.body, deadline_ns=self.rules.deadline_ns, clock=self.clock
            )
        except Exception as exc:  # a transport bug or an unresolvable target: a failed attempt
            detail = self.profile.redact(f"{type(exc).__name__}: {exc}", self._secret)
            result = AttemptResult("error", max(0, self.clock.now_ns() - now), detail=detail)
        crashpoint.reached("after_response_received")
        if result.detail:
            result = _with_detail(result, self.profile.redact(result.detail, self._secret))
        if self._secret.encode() in result.excerpt:  # a receiver echoed the token back: never log it
            result = dataclasses.replace(result, excerpt=self._redact_bytes(result.excerpt))
        after = machine.complete(state, self.rules, result)
        attempt = self.log.finish_attempt(record.id, state.attempts, result, after)
        if after.status == "pending":  # canceled while in flight: the log kept it finished
            after = self.log.get(record.id).state
        event = AttemptEvent(record.id, attempt, after)
        for listener in self.listeners:
            listener(event)
        return event

    def _redact_bytes(self, data: bytes) -> bytes:
        marker = self.profile.redact(self._secret, self._secret).encode()
        return data.replace(self._secret.encode(), marker)

    def step(self, delivery_id: str) -> machine.Action:
        """Do the next attempt if one is due now; return what remains to do."""
        record = self.log.get(delivery_id)
        action = machine.next_action(record.state, self.clock.now_ns())
        if isinstance(action, Send):
            self.attempt(record)
            return machine.next_action(self.log.get(delivery_id).state, self.clock.now_ns())
        return action


def _with_detail(result: AttemptResult, detail: str) -> AttemptResult:
    if detail == result.detail:
        return result
    return AttemptResult(
        result.outcome,
        result.duration_ns,
        result.status,
        result.headers,
        result.excerpt,
        detail,
        result.peer,
        result.extra,
    )


def run_inline(
    engine: Engine,
    delivery_ids: Iterable[str],
    *,
    on_wait: Callable[[str, int], object] | None = None,
    known: Mapping[str, DeliveryRecord] | None = None,
) -> None:
    """Run ``delivery_ids`` to completion in this thread, soonest due attempt first.

    ``on_wait(delivery_id, until_ns)`` is called before each wait (the CLI shows a countdown).
    ``known``: records the caller has just written or read (used once instead of reading them).
    """
    pending = list(dict.fromkeys(delivery_ids))
    fresh = dict(known or {})
    clock = engine.clock
    while pending:
        soonest: tuple[int, int, str] | None = None
        records: dict[str, DeliveryRecord] = {}
        for delivery_id in list(pending):
            record = fresh.pop(delivery_id, None) or engine.log.get(delivery_id)
            action = machine.next_action(record.state, clock.now_ns())
            if isinstance(action, Done):
                pending.remove(delivery_id)
                continue
            if isinstance(action, WaitForResult):
                raise machine.DeliveryStateError(
                    f"delivery {delivery_id} has an attempt in flight in another driver; "
                    "do not run one delivery from two drivers"
                )
            due = action.until_ns if isinstance(action, Wait) else clock.now_ns()
            records[delivery_id] = record
            key = (due, record.seq, delivery_id)
            if soonest is None or key < soonest:
                soonest = key
        if soonest is None:
            return
        due, _, delivery_id = soonest
        now = clock.now_ns()
        if due > now:
            if on_wait is not None:
                on_wait(delivery_id, due)
            _wait_until(clock, due)
            continue
        event = engine.attempt(records[delivery_id])  # just read; start_attempt re-checks the log
        if event is not None and event.state.status != "pending":
            pending.remove(delivery_id)  # this attempt finished it (a cancel meanwhile finishes it too)


def _wait_until(clock: Clock, until_ns: int) -> None:
    advance_to = getattr(clock, "advance_to", None)
    if clock.is_virtual and advance_to is not None:
        advance_to(until_ns)
        return
    while True:
        remaining = until_ns - clock.now_ns()
        if remaining <= 0:
            return
        clock.sleep_ns(remaining)
