"""Run a scenario: hookmock's Sender -> the fault proxy -> the receiver under test.

The sender delivers in-process to a :class:`~hookmock.receiver.proxy.FaultProxy` whose upstream
is the target (an app, ``(app, "/path")``, or a URL reached over real HTTP).  Before each attempt the step's
proxy action for that attempt is armed (``lost_ack``, ``duplicate``, ``tamper`` …); ``fail``
(:meth:`FaultProxy.fail`) answers the sender without the handler seeing the attempt.  Time is a
virtual clock (started at the real time, so a real receiver accepts the timestamps): Moda's retry
schedule runs instantly.

``replay_stale`` with a clock shared with the receiver (``clock=`` given) advances it and replays
the captured request byte for byte; otherwise the captured body is re-sent signed ``after``
seconds in the past, which is what the receiver would see from a replay that much later.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..clock import SECOND, Clock, RealClock, VirtualClock, unix_s
from ..delivery.engine import AttemptEvent
from ..delivery.result import Delivery
from ..errors import UsageError
from ..factories import EventFactory
from ..profiles import get_profile
from .model import Scenario, ScenarioError, Step, load_scenario, scenario_number_problems
from .result import ScenarioResult, StepResult

__all__ = ["run_scenario"]

EffectProbe = Callable[[str], int]
DEFAULT_STALE_S = 3600
#: How far ``attempt_times`` may be off, in seconds.
ATTEMPT_TIME_SLACK_S = 0.001
_WALL = RealClock()


def _matches(expected: Any, status: int | None, outcome: str) -> bool:
    if isinstance(expected, int):
        return status == expected
    if isinstance(expected, str) and expected.endswith("xx") and status is not None:
        return str(status)[0] == expected[0]
    return outcome == expected


def times_match(got: list[float], wanted: list[float]) -> bool:
    """Each attempt started within :data:`ATTEMPT_TIME_SLACK_S` of the time expected.  Written so
    that a NaN expected (a comparison that is always false) fails rather than passes."""
    return len(got) == len(wanted) and all(abs(g - w) <= ATTEMPT_TIME_SLACK_S for g, w in zip(got, wanted))


def _shown(status: int | None, outcome: str) -> str:
    return str(status) if outcome == "response" else outcome


class _Run:
    def __init__(
        self,
        scenario: Scenario,
        target: Any,
        *,
        secret: str,
        probe: EffectProbe | None,
        clock: Clock,
        shared_clock: bool,
        allow_targets: tuple[str, ...],
        ca_file: str | None,
        settle: float | None = None,
    ) -> None:
        from ..auditing.settle import EffectWatcher
        from ..receiver.proxy import FaultProxy
        from ..sender import Sender

        self.scenario = scenario
        self.profile = get_profile(scenario.profile)
        self.secret = secret
        self.probe = probe
        # settled reads: an asynchronous receiver applies an event after it answered
        floor = 0.02 if isinstance(target, str) else 0.0
        self.watcher = None if probe is None else EffectWatcher(probe, settle=settle, floor_s=floor)
        self.clock = clock
        self.shared_clock = shared_clock
        self.proxy = FaultProxy(
            target, self.profile, clock=clock, allow_targets=allow_targets, ca_file=ca_file
        )
        self.sender = Sender(self.profile, secret, clock=clock)
        self.sender.add_listener(self._on_attempt)
        self.factory = EventFactory(self.profile, clock=clock)
        self.deliveries: dict[str, Delivery] = {}
        self._actions: tuple[str, ...] = ()
        self._event_id: str | None = None
        self._count = 0
        #: Notes on the delivery just made, added to its step's result.
        self._notes: list[str] = []

    # -- per-attempt proxy actions -----------------------------------------------------------
    def _arm(self, attempt: int) -> None:
        event_id = self._event_id
        action = self._actions[attempt - 1] if attempt <= len(self._actions) else "pass"
        if event_id is None or action == "pass":
            return
        head, _, arg = action.partition(":")
        if head == "fail":
            self.proxy.fail(int(arg or 500), event_id=event_id, times=1)
        elif head == "lost_ack":
            self.proxy.lose_ack(arg or 503, event_id=event_id, times=1)
        elif head == "timeout_after_processing":
            self.proxy.lose_ack("timeout", event_id=event_id, times=1)
        elif head in ("duplicate", "concurrent"):
            self.proxy.duplicate(int(arg or 2), concurrent=head == "concurrent", event_id=event_id, times=1)
        elif head == "tamper":
            self.proxy.tamper(signature=True, event_id=event_id, times=1)

    def _on_attempt(self, event: AttemptEvent) -> None:
        self._count += 1
        if event.state.status == "pending":
            self._arm(self._count + 1)

    def _deliver(
        self, event_id: str | None, actions: tuple[str, ...], send: Callable[[], Delivery]
    ) -> Delivery:
        self._actions, self._event_id, self._count = actions, event_id, 0
        since = len(self.proxy.captured)
        self._arm(1)
        try:
            return send()
        finally:
            self._actions, self._event_id = (), None
            self._upstream_failures(event_id, since)

    def _send_payload(self, payload: dict[str, Any], actions: tuple[str, ...]) -> Delivery:
        event_id = self.profile.message_id_for(payload)
        own = self.profile.event_id(payload) is not None or event_id is None
        message_id = None if own else event_id
        return self._deliver(
            event_id, actions, lambda: self.sender.send(self.proxy, payload=payload, message_id=message_id)
        )

    # -- steps ------------------------------------------------------------------------------
    def run_step(self, step: Step) -> StepResult:
        result = StepResult(step.index, step.name, step.action)
        handler = getattr(self, f"_step_{step.action}")
        try:
            handler(step, result)
        finally:
            result.notes.extend(self._notes)
            self._notes.clear()
        return result

    def _upstream_failures(self, event_id: str | None, since: int) -> None:
        """Notes for the attempts whose forwarding failed: the proxy answered 502 because the
        target could not answer (refused, timeout, tls_error…), not because the target said 502."""
        for item in self.proxy.captured[since:]:
            if item.event_id != event_id:
                continue
            for answer in item.upstream:
                if answer.status is None:
                    self._notes.append(
                        f"the target could not answer an attempt ({answer.describe()}); "
                        "the fault proxy answered the sender 502"
                    )

    def _check_delivery(self, step: Step, delivery: Delivery, result: StepResult) -> None:
        expect = step.expect
        result.timeline = delivery.timeline()
        attempts = delivery.attempts
        if "status" in expect and delivery.status != expect["status"]:
            result.failures.append(f"delivery status {delivery.status!r}, expected {expect['status']!r}")
        if "attempts" in expect and len(attempts) != expect["attempts"]:
            result.failures.append(f"{len(attempts)} attempt(s), expected {expect['attempts']}")
        if "statuses" in expect:
            got = [_shown(a.status, a.outcome) for a in attempts]
            wanted = expect["statuses"]
            if len(got) != len(wanted) or not all(
                _matches(w, a.status, a.outcome) for w, a in zip(wanted, attempts)
            ):
                result.failures.append(f"attempt answers {got}, expected {wanted}")
        if "attempt_times" in expect and attempts:
            got_t, answering = _schedule_times(attempts)
            wanted_t = [float(t) for t in expect["attempt_times"]]
            if not times_match(got_t, wanted_t):
                took = f" (not counting {answering:g} s the answers took)" if answering else ""
                result.failures.append(f"attempts started at {got_t} s{took}, expected {wanted_t} s")
        if expect.get("answer") is not None and attempts:
            last = attempts[-1]
            if not _matches(expect["answer"], last.status, last.outcome):
                shown = _shown(last.status, last.outcome)
                result.failures.append(f"last answer {shown}, expected {expect['answer']}")
        self._check_effect(step, [delivery.event_id], result)

    def _check_effect(self, step: Step, event_ids: list[str | None], result: StepResult) -> None:
        if "effect" not in step.expect:
            return
        if self.watcher is None:
            result.notes.append("effect not checked: no effect probe (probe= / --probe-url)")
            return
        expected = step.expect["effect"]
        for event_id in event_ids:
            if event_id is None:
                continue
            reading = self.watcher.read(event_id, at_least=min(expected, 1))
            if reading.count != expected:
                progression = reading.progression()
                result.failures.append(
                    f"event {event_id} applied {reading.count} time(s), expected {expected}"
                    + (f" ({progression})" if progression else "")
                )

    def _payload(self, step: Step, event_type: str | None = None) -> dict[str, Any]:
        return self.factory.event(event_type or step.event or self.profile.event_types[0], **step.data)

    def _remember(self, step: Step, delivery: Delivery) -> None:
        if step.id is not None:
            self.deliveries[step.id] = delivery

    def _step_send(self, step: Step, result: StepResult) -> None:
        delivery = self._send_payload(self._payload(step), step.proxy)
        self._remember(step, delivery)
        self._check_delivery(step, delivery, result)

    def _step_concurrent(self, step: Step, result: StepResult) -> None:
        actions = (
            (f"concurrent:{step.copies}", *step.proxy[1:]) if step.proxy else (f"concurrent:{step.copies}",)
        )
        delivery = self._send_payload(self._payload(step), actions)
        self._remember(step, delivery)
        self._check_delivery(step, delivery, result)

    def _step_duplicate(self, step: Step, result: StepResult) -> None:
        original = self.deliveries[str(step.of)]
        before = len(self.sender.get(original.id).attempts)
        delivery = self._deliver(original.event_id, step.proxy, lambda: self.sender.redeliver(original.id))
        if delivery.id == original.id:  # the same entry retried (mod.io): judge this step's attempts only
            delivery = _only_new_attempts(delivery, before)
        self._remember(step, delivery)
        self._check_delivery(step, delivery, result)

    def _step_replay_stale(self, step: Step, result: StepResult) -> None:
        original = self.deliveries[str(step.of)]
        captured = [c for c in self.proxy.captured if c.event_id == original.event_id]
        if not captured:
            result.failures.append(f"nothing captured for event {original.event_id} to replay")
            return
        item = captured[-1]
        after = step.after if step.after is not None else DEFAULT_STALE_S
        if self.shared_clock:
            self.clock.sleep_ns(int(after * SECOND))
            answer = self.proxy.replay(item)
            how = f"replayed the captured request byte for byte {after:g} s later"
        else:
            headers = dict(item.headers)
            auth = {n.lower() for n in self.profile.auth_header_names()}
            headers = {k: v for k, v in headers.items() if k.lower() not in auth}
            stamp = unix_s(self.clock) - int(after)
            headers.update(self.profile.sign(item.body, self.secret, stamp, message_id=item.event_id))
            answer = self.proxy.forward(item.method, item.path, headers.items(), item.body)
            if self.profile.has_timestamp:
                how = f"re-sent the captured body signed {after:g} s in the past (a replay that much later)"
            else:
                how = (
                    f"re-sent the captured body as a replay {after:g} s later ({self.profile.title}'s "
                    "token carries no time, so a late replay looks like the original)"
                )
        result.notes.append(f"{how}: the handler answered {_shown(answer.status, answer.outcome)}")
        expected = step.expect.get("answer")
        if expected is not None and not _matches(expected, answer.status, answer.outcome):
            result.failures.append(
                f"replay answered {_shown(answer.status, answer.outcome)}, expected {expected}"
            )
        self._check_effect(step, [original.event_id], result)

    def _step_out_of_order(self, step: Step, result: StepResult) -> None:
        now = self.clock.now_ns()
        deliveries = []
        for i, event_type in enumerate(step.events):
            older = EventFactory(self.profile, clock=VirtualClock(start=now // SECOND - i * 60))
            payload = older.event(event_type, **step.data)
            deliveries.append(self._send_payload(payload, step.proxy))
        answers = [
            _shown(d.attempts[-1].status, d.attempts[-1].outcome) if d.attempts else "none"
            for d in deliveries
        ]
        result.notes.append(f"sent newest first: {', '.join(step.events)}; answers {answers}")
        result.timeline = "\n".join(d.timeline() for d in deliveries)
        wanted = step.expect.get("answers")
        if wanted is not None:
            ok = len(wanted) == len(deliveries) and all(
                d.attempts and _matches(w, d.attempts[-1].status, d.attempts[-1].outcome)
                for w, d in zip(wanted, deliveries)
            )
            if not ok:
                result.failures.append(f"answers {answers}, expected {wanted}")
        if "status" in step.expect:
            bad = [d.status for d in deliveries if d.status != step.expect["status"]]
            if bad:
                result.failures.append(f"delivery statuses {bad}, expected {step.expect['status']!r}")
        self._check_effect(step, [d.event_id for d in deliveries], result)

    def _step_advance(self, step: Step, result: StepResult) -> None:
        self.clock.sleep_ns(int((step.after or 0) * SECOND))
        result.notes.append(f"advanced the clock {step.after:g} s")


def _schedule_times(attempts: Any) -> tuple[list[float], float]:
    """Each attempt's start, in seconds from the first, *not counting the time answers took*: a retry
    is due a delay after the previous attempt ended, and the handler's real time (which moves the
    virtual clock) is the receiver's, not the schedule's.  A timeout counts in full (the sender
    waited the whole deadline): ``[0, 31]`` for a timeout then a retry 1 s later."""
    first = attempts[0].started_ns
    answering = 0
    times = []
    for n, attempt in enumerate(attempts):
        times.append(round((attempt.started_ns - first - answering) / SECOND, 3))
        if n < len(attempts) - 1 and attempt.outcome != "timeout" and attempt.duration_ns:
            answering += attempt.duration_ns
    return times, round(answering / SECOND, 3)


def _only_new_attempts(delivery: Delivery, before: int) -> Delivery:
    from dataclasses import replace

    return replace(delivery, attempts=delivery.attempts[before:])


def run_scenario(
    scenario: Scenario | str | Path,
    target: Any,
    *,
    secret: str,
    probe: EffectProbe | str | None = None,
    clock: Clock | None = None,
    profile: str | None = None,
    allow_targets: tuple[str, ...] = (),
    ca_file: str | None = None,
    settle: float | None = None,
) -> ScenarioResult:
    """Run a scenario (a :class:`Scenario` or a file path) against ``target`` (a URL, a WSGI or
    ASGI app, or ``(app, "/path")``).

    ``secret``: the signing secret / webhook token the receiver is configured with.  ``probe``:
    effect probe (callable or URL template with ``{event_id}``); ``settle``: seconds an effect count
    must stay unchanged before it is checked (``None``: learned from the first effect checked,
    ``0``: read at once).  ``clock``: share the receiver's
    virtual clock (tests); by default a virtual clock starting at the real time.  Raises
    :class:`~hookmock.auditing.TargetUnreachable` before any step when nothing accepts
    connections at a URL ``target``.
    """
    from ..auditing.effect import effect_probe
    from ..auditing.settle import check_settle

    if not isinstance(secret, str) or not secret:
        raise UsageError(
            "secret= must be the signing secret or webhook token the receiver is configured with"
        )
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, profile=profile)
    problems = scenario_number_problems(loaded)  # a file's were refused when it was read
    if problems:
        raise ScenarioError(loaded.source, problems)
    shared = clock is not None
    clk: Clock = clock if clock is not None else VirtualClock(start=unix_s(_WALL))
    run = _Run(
        loaded,
        target,
        secret=secret,
        probe=effect_probe(probe, allow_targets=tuple(allow_targets), ca_file=ca_file),
        clock=clk,
        shared_clock=shared,
        allow_targets=tuple(allow_targets),
        ca_file=ca_file,
        settle=check_settle(settle),
    )
    unreachable = run.proxy.check_upstream()
    if unreachable is not None:
        from ..auditing.runner import TargetUnreachable
        from ..transport.apps import describe_target

        raise TargetUnreachable(f"cannot reach {describe_target(target)}: {unreachable}")
    started = _WALL.monotonic_ns()
    steps = [run.run_step(step) for step in loaded.steps]
    return ScenarioResult(
        loaded.name, loaded.profile, loaded.source, steps, duration_ns=_WALL.monotonic_ns() - started
    )
