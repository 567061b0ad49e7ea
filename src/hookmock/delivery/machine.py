"""The delivery state machine: pure, table-driven, no I/O (the shape of h11's ``_state.py``).

A delivery is in one :class:`Phase`.  Drivers ask :func:`next_action` what to do at ``now``
(send attempt N, wait until T, wait for the attempt in flight, or nothing: done) and report what
happened with :func:`apply`, which returns the next :class:`DeliveryState`.  Every number comes
from :class:`Rules`, built from a profile; nothing here knows a provider.

Timing rule (both providers): a retry is due ``retry_delays_ns[k]`` after the failed attempt
*ends*; an attempt ends at ``started + duration`` (a timed-out attempt ends at
``started + deadline``).  After ``max_attempts`` failures the delivery is ``failed``.

An attempt cut short by a crash (``interrupted``) does not use up the budget: the delivery is
sent again at once on recovery (at-least-once, like the providers).  A manual retry (mod.io's
Retry button) re-opens a finished delivery for one more round of the schedule.  A cancel (the
emulator's reset) ends a pending delivery for good without an attempt: it is ``canceled``, shown to
providers' views as ``failed``, and an attempt that was in flight when it happened completes
without re-opening it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ..profiles import Profile
    from ..transport import AttemptResult

__all__ = [
    "TRANSITIONS",
    "Action",
    "DeliveryCanceled",
    "DeliveryState",
    "DeliveryStateError",
    "Done",
    "Event",
    "Phase",
    "Rules",
    "Send",
    "Wait",
    "WaitForResult",
    "apply",
    "attempt_failed",
    "attempt_started",
    "attempt_succeeded",
    "canceled",
    "classify",
    "complete",
    "interrupted",
    "manual_retry",
    "new_delivery",
    "next_action",
]


class Phase(str, enum.Enum):
    SCHEDULED = "scheduled"  # waiting for ``next_due_ns``
    IN_FLIGHT = "in_flight"  # an attempt was started and has not been reported yet
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"  # ended without being sent again (a reset); ``failed`` to providers

    @property
    def status(self) -> str:
        """The provider-facing status: ``pending``, ``succeeded`` or ``failed``."""
        return _PHASE_STATUS[self._value_]

    @property
    def finished(self) -> bool:
        return self in (Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELED)


#: Phase value -> provider-facing status (a dict: this is read on every attempt and every record)
_PHASE_STATUS = {
    "scheduled": "pending",
    "in_flight": "pending",
    "succeeded": "succeeded",
    "failed": "failed",
    "canceled": "failed",
}


class Event(str, enum.Enum):
    START = "start"  # an attempt begins (recorded before the request leaves)
    SUCCESS = "success"  # the attempt got a response the profile counts as success
    FAILURE = "failure"  # non-success status, timeout, refused, reset, TLS, malformed, error
    INTERRUPT = "interrupt"  # the process died while the attempt was in flight
    MANUAL_RETRY = "manual_retry"  # a user re-opened a finished delivery
    CANCEL = "cancel"  # a pending delivery is ended without further attempts


class DeliveryStateError(RuntimeError):
    """A driver reported an event the current phase does not allow (a driver bug)."""


class DeliveryCanceled(DeliveryStateError):
    """The delivery was canceled after a driver read it and before its attempt started."""


#: (phase, event) -> next phase.  A pair of phases means (retries left, budget used up).
TRANSITIONS: dict[tuple[Phase, Event], Phase | tuple[Phase, Phase]] = {
    (Phase.SCHEDULED, Event.START): Phase.IN_FLIGHT,
    (Phase.IN_FLIGHT, Event.SUCCESS): Phase.SUCCEEDED,
    (Phase.IN_FLIGHT, Event.FAILURE): (Phase.SCHEDULED, Phase.FAILED),
    (Phase.IN_FLIGHT, Event.INTERRUPT): Phase.SCHEDULED,
    (Phase.SUCCEEDED, Event.MANUAL_RETRY): Phase.SCHEDULED,
    (Phase.FAILED, Event.MANUAL_RETRY): Phase.SCHEDULED,
    (Phase.SCHEDULED, Event.CANCEL): Phase.CANCELED,
    (Phase.IN_FLIGHT, Event.CANCEL): Phase.CANCELED,
    (Phase.CANCELED, Event.MANUAL_RETRY): Phase.SCHEDULED,
}


@dataclass(frozen=True)
class Rules:
    """What the machine needs of a profile."""

    deadline_ns: int
    retry_delays_ns: tuple[int, ...]
    is_success: Callable[[int], bool]

    @property
    def max_attempts(self) -> int:
        return 1 + len(self.retry_delays_ns)

    @classmethod
    def from_profile(
        cls,
        profile: Profile,
        *,
        deadline_ns: int | None = None,
        retry_delays_ns: tuple[int, ...] | None = None,
    ) -> Rules:
        """The profile's rules; ``deadline_ns``/``retry_delays_ns`` override them (non-faithful)."""
        return cls(
            deadline_ns=profile.deadline_ns if deadline_ns is None else deadline_ns,
            retry_delays_ns=profile.retry_delays_ns if retry_delays_ns is None else tuple(retry_delays_ns),
            is_success=profile.is_success,
        )


@dataclass(frozen=True)
class DeliveryState:
    """Everything the machine needs to know about one delivery."""

    phase: Phase
    #: attempts started so far (what the providers show as ``attempts``; interrupted ones count)
    attempts: int
    #: failed attempts in the current round (what uses up the retry budget)
    failures: int
    #: when the next attempt is due (``SCHEDULED`` only)
    next_due_ns: int | None
    #: when the attempt in flight started (``IN_FLIGHT`` only)
    started_ns: int | None = None

    def __init__(
        self,
        phase: Phase,
        attempts: int,
        failures: int,
        next_due_ns: int | None,
        started_ns: int | None = None,
    ) -> None:
        # the generated frozen __init__'s work at half its cost: a few states are made per attempt
        # (tests/test_perf_inproc.py keeps the two in step)
        fields = self.__dict__
        fields["phase"] = phase
        fields["attempts"] = attempts
        fields["failures"] = failures
        fields["next_due_ns"] = next_due_ns
        fields["started_ns"] = started_ns

    @property
    def status(self) -> str:
        return self.phase.status


def new_delivery(now_ns: int) -> DeliveryState:
    """A delivery accepted at ``now_ns``: its first attempt is due at once."""
    return DeliveryState(Phase.SCHEDULED, attempts=0, failures=0, next_due_ns=now_ns)


# -- what to do next ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Send:
    """Start attempt ``number`` now."""

    number: int

    def __init__(self, number: int) -> None:  # see DeliveryState.__init__ (tests/test_perf_inproc.py)
        self.__dict__["number"] = number


@dataclass(frozen=True)
class Wait:
    """Nothing to do before ``until_ns``."""

    until_ns: int

    def __init__(self, until_ns: int) -> None:  # see DeliveryState.__init__ (tests/test_perf_inproc.py)
        self.__dict__["until_ns"] = until_ns


@dataclass(frozen=True)
class WaitForResult:
    """An attempt is in flight; report its outcome with :func:`apply`."""

    number: int

    def __init__(self, number: int) -> None:  # see DeliveryState.__init__ (tests/test_perf_inproc.py)
        self.__dict__["number"] = number


@dataclass(frozen=True)
class Done:
    status: str

    def __init__(self, status: str) -> None:  # see DeliveryState.__init__ (tests/test_perf_inproc.py)
        self.__dict__["status"] = status


Action = Send | Wait | WaitForResult | Done


def next_action(state: DeliveryState, now_ns: int) -> Action:
    phase = state.phase
    if phase is Phase.SCHEDULED:
        due = state.next_due_ns
        assert due is not None
        return Send(state.attempts + 1) if now_ns >= due else Wait(due)
    if phase is Phase.IN_FLIGHT:
        return WaitForResult(state.attempts)
    return Done(_PHASE_STATUS[phase._value_])  # finished (SUCCEEDED, FAILED, CANCELED)


# -- transitions ----------------------------------------------------------------------------------


#: :data:`TRANSITIONS` keyed by the values (an enum member's hash is computed in Python; a str's is
#: cached): read on every transition
_BY_VALUE = {(phase.value, event.value): target for (phase, event), target in TRANSITIONS.items()}


def _target(state: DeliveryState, event: Event) -> Phase | tuple[Phase, Phase]:
    try:
        return _BY_VALUE[(state.phase._value_, event._value_)]
    except KeyError:
        raise DeliveryStateError(
            f"event {event.value!r} is not allowed in phase {state.phase.value!r}"
        ) from None


def apply(
    state: DeliveryState, rules: Rules | None, event: Event, now_ns: int, *, ended_ns: int | None = None
) -> DeliveryState:
    """The state after ``event`` at ``now_ns``.  ``ended_ns`` is when a finished attempt ended."""
    target = _target(state, event)
    if event is Event.START:
        return DeliveryState(Phase.IN_FLIGHT, state.attempts + 1, state.failures, None, started_ns=now_ns)
    if event is Event.SUCCESS:
        assert isinstance(target, Phase)
        return DeliveryState(target, state.attempts, state.failures, None)
    if event is Event.FAILURE:
        assert isinstance(target, tuple)
        retry_phase, give_up_phase = target
        if rules is None:
            raise DeliveryStateError("a failed attempt needs the profile's rules to schedule the retry")
        failures = state.failures + 1
        if failures >= rules.max_attempts:
            return DeliveryState(give_up_phase, state.attempts, failures, None)
        end = now_ns if ended_ns is None else ended_ns
        return DeliveryState(retry_phase, state.attempts, failures, end + rules.retry_delays_ns[failures - 1])
    if event is Event.INTERRUPT:
        return replace(state, phase=Phase.SCHEDULED, next_due_ns=now_ns, started_ns=None)
    if event is Event.CANCEL:
        return DeliveryState(Phase.CANCELED, state.attempts, state.failures, None)
    # MANUAL_RETRY: a new round of the schedule on the same entry
    return DeliveryState(Phase.SCHEDULED, state.attempts, 0, now_ns)


def attempt_started(state: DeliveryState, rules: Rules, now_ns: int) -> DeliveryState:
    return apply(state, rules, Event.START, now_ns)


def attempt_succeeded(state: DeliveryState, rules: Rules, now_ns: int) -> DeliveryState:
    return apply(state, rules, Event.SUCCESS, now_ns)


def attempt_failed(state: DeliveryState, rules: Rules, ended_ns: int) -> DeliveryState:
    return apply(state, rules, Event.FAILURE, ended_ns, ended_ns=ended_ns)


def interrupted(state: DeliveryState, now_ns: int) -> DeliveryState:
    """The attempt in flight was cut short by a crash: send again at ``now_ns``."""
    return apply(state, None, Event.INTERRUPT, now_ns)


def canceled(state: DeliveryState, now_ns: int) -> DeliveryState:
    """End a pending delivery: no attempt is made any more (one in flight completes, ignored)."""
    return apply(state, None, Event.CANCEL, now_ns)


def manual_retry(state: DeliveryState, now_ns: int) -> DeliveryState:
    """Re-open a finished delivery for a new round of the schedule, due at ``now_ns``."""
    return apply(state, None, Event.MANUAL_RETRY, now_ns)


def classify(result: AttemptResult, rules: Rules) -> Event:
    """SUCCESS for a complete response with a success status, else FAILURE."""
    if result.outcome == "response" and result.status is not None and rules.is_success(result.status):
        return Event.SUCCESS
    return Event.FAILURE


def complete(state: DeliveryState, rules: Rules, result: AttemptResult) -> DeliveryState:
    """The state after the attempt in flight came to ``result`` (it ends at start + duration)."""
    if state.phase is not Phase.IN_FLIGHT or state.started_ns is None:
        raise DeliveryStateError(f"no attempt is in flight (phase {state.phase.value!r})")
    duration = rules.deadline_ns if result.outcome == "timeout" else max(0, result.duration_ns)
    ended = state.started_ns + duration
    event = classify(result, rules)
    return apply(state, rules, event, ended, ended_ns=ended)
