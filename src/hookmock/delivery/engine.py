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

from .._util.redact import Redactor
from ..clock import SECOND, Clock
from ..profiles import Profile
from ..transport import EXCERPT_BYTES, AttemptResult, Transport
from . import crashpoint, machine
from .log import DeliveryLog
from .machine import DeliveryState, Done, Rules, Send, Wait, WaitForResult
from .records import AttemptRecord, DeliveryRecord, bound_headers

__all__ = ["AttemptEvent", "Engine", "run_inline"]


@dataclass(frozen=True)
class AttemptEvent:
    """Reported to listeners after each attempt completes."""

    delivery_id: str
    attempt: AttemptRecord
    state: DeliveryState

    def __init__(self, delivery_id: str, attempt: AttemptRecord, state: DeliveryState) -> None:
        # the generated frozen __init__'s work without object.__setattr__ per field (one event
        # per attempt; tests/test_perf_inproc.py keeps the two in step)
        fields = self.__dict__
        fields["delivery_id"] = delivery_id
        fields["attempt"] = attempt
        fields["state"] = state

    @property
    def next_due_ns(self) -> int | None:
        return self.state.next_due_ns if self.state.status == "pending" else None


#: how many short results :meth:`Engine.redacted` remembers as clean, and how long they may be
#: (the excerpt, the detail and every header name and value together)
_CLEAN_MAX = 256
_CLEAN_TEXT_MAX = 1024

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
        extra_secrets: Iterable[str] = (),
    ) -> None:
        self.profile = profile
        self.rules = rules
        self._secret = secret
        #: More secrets every attempt is signed with too (key rotation; the profile says how).
        self._extra_secrets = tuple(extra_secrets)
        self.clock = clock
        self.log = log
        self.resolve = resolve
        self.listeners = list(listeners)
        #: What is removed from every result before it is logged or reported (this engine's
        #: secret; an owner of more secrets, like the emulator, adds them or shares its own).
        self.redactor = Redactor([(s, profile.secret_prefix_of(s)) for s in (secret, *self._extra_secrets)])
        #: results :meth:`redacted` found with nothing to remove, for the redactor and generation
        #: they were checked with (see :meth:`redacted`)
        self._clean: tuple[Redactor, int, dict[object, bool]] = (self.redactor, -1, {})

    def __repr__(self) -> str:  # never shows the secret
        return f"<Engine {self.profile.name} log={self.log.path!r}>"

    def attempt(self, record: DeliveryRecord) -> AttemptEvent | None:
        """Send the next attempt of ``record`` now and record it (in flight first, then done).

        None if the delivery was canceled in the log meanwhile (nothing is sent)."""
        return self._attempt(record)[0]

    def _attempt(self, record: DeliveryRecord) -> tuple[AttemptEvent | None, DeliveryState | None]:
        """:meth:`attempt`, and the delivery's state in the log afterwards (None: not known here,
        after a cancel: read the log)."""
        now = self.clock.now_ns()
        state = machine.attempt_started(record.state, self.rules, now)
        timestamp = now // SECOND  # whole seconds, as the header carries them
        profile = self.profile
        headers = profile.delivery_headers(
            record.body,
            self._secret,
            timestamp,
            message_id=record.event_id,  # the same on every attempt of this message
            extra_secrets=self._extra_secrets,
        )
        if record.event_type:
            headers.update(profile.event_headers(record.event_type))
        try:
            self.log.start_attempt(
                record.id, state, timestamp=timestamp if profile.has_timestamp else None
            )  # committed before a byte is sent
        except machine.DeliveryCanceled:
            return None, None
        crashpoint.reached("after_attempt_recorded")
        try:
            transport, target = self.resolve(record.target_url)
            result = transport.send(
                target, headers, record.body, deadline_ns=self.rules.deadline_ns, clock=self.clock
            )
        except Exception as exc:  # a transport bug or an unresolvable target: a failed attempt
            detail = f"{type(exc).__name__}: {exc}"
            result = AttemptResult("error", max(0, self.clock.now_ns() - now), detail=detail)
        crashpoint.reached("after_response_received")
        result = self.redacted(result)  # before the log keeps (and cuts) anything
        after = machine.complete(state, self.rules, result)
        attempt, kept = self.log._finish_attempt(
            record.id, state.attempts, result, after, headers_bounded=True
        )
        in_log: DeliveryState | None = after if kept else None
        if not kept and after.status == "pending":  # canceled while in flight: the log kept it finished
            after = in_log = self.log.get(record.id).state
        event = AttemptEvent(record.id, attempt, after)
        for listener in self.listeners:
            listener(event)
        return event, in_log

    def redacted(self, result: AttemptResult) -> AttemptResult:
        """``result`` with every secret of :attr:`redactor` removed from what the receiver
        controls and the log keeps: the body excerpt (read past the 2 KB kept, redacted whole,
        then cut to what the log keeps, then its end redacted as a cut) and the detail.  A
        receiver that echoes the token back, in any encoding and however the excerpt cuts it,
        leaves no piece of it.  The response headers are bounded as the log keeps them and each
        name and value redacted the same way (a receiver may echo a secret in a header)."""
        redactor = self.redactor
        body_bytes = result.extra.get("body_bytes") if result.extra else None
        # its end is a cut when the transport read past what it kept; one of 2 KB or more is
        # treated as cut too (a transport that reports no body size, or a body cut upstream)
        was_cut = len(result.excerpt) >= EXCERPT_BYTES or (
            isinstance(body_bytes, int) and body_bytes > len(result.excerpt)
        )
        # A receiver answers attempt after attempt with the same short response: one found clean
        # is remembered, for this redactor as it stood then (a secret added since, or another
        # redactor, starts afresh; a result checked meanwhile is kept in the memo it began with,
        # never in the new one).  The check is a pure function of these four and the secrets.
        clean_redactor, generation, clean = memo = self._clean
        if clean_redactor is not redactor or generation != redactor.generation:
            memo = self._clean = (redactor, redactor.generation, {})
            clean = memo[2]
        key: object = (result.excerpt, was_cut, result.detail, result.headers)
        try:
            if key in clean:
                return result
        except TypeError:  # headers not hashable (lists): checked each time
            key = None
        excerpt = redactor.excerpt(result.excerpt, EXCERPT_BYTES, was_cut=was_cut)
        detail = redactor.text(result.detail, cut=True)
        headers = bound_headers(result.headers, lambda text, cut: redactor.text(text, cut=cut))
        if excerpt == result.excerpt and detail == result.detail and headers == result.headers:
            if (
                key is not None
                and len(excerpt) + len(detail) + sum(len(n) + len(v) for n, v in headers) <= _CLEAN_TEXT_MAX
            ):
                if len(clean) >= _CLEAN_MAX:
                    clean.clear()
                clean[key] = True
            return result
        return dataclasses.replace(result, excerpt=excerpt, detail=detail, headers=headers)

    def step(self, delivery_id: str) -> machine.Action:
        """Do the next attempt if one is due now; return what remains to do."""
        record = self.log.get(delivery_id)
        action = machine.next_action(record.state, self.clock.now_ns())
        if isinstance(action, Send):
            _, state = self._attempt(record)
            if state is None:  # canceled meanwhile: what the log holds now
                state = self.log.get(delivery_id).state
            return machine.next_action(state, self.clock.now_ns())
        return action


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
