"""The pure delivery state machine: transitions as a table, timing rules, properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookmock.clock import SECOND
from hookmock.delivery import machine as m
from hookmock.delivery.machine import Done, Event, Phase, Rules, Send, Wait, WaitForResult
from hookmock.profiles import get_profile
from hookmock.transport import OUTCOMES, AttemptResult

MODA = Rules.from_profile(get_profile("moda"))
MODIO = Rules.from_profile(get_profile("modio"))
T0 = 1_777_593_600 * SECOND


def _run(rules: Rules, results: list[AttemptResult], t0: int = T0) -> tuple[m.DeliveryState, list[int]]:
    """Drive the machine through ``results`` with the clock jumping to each due time."""
    state = m.new_delivery(t0)
    now = t0
    starts: list[int] = []
    for result in results:
        action = m.next_action(state, now)
        if isinstance(action, Wait):
            now = action.until_ns
            action = m.next_action(state, now)
        if isinstance(action, Done):
            break
        assert isinstance(action, Send)
        starts.append(now)
        state = m.attempt_started(state, rules, now)
        state = m.complete(state, rules, result)
        assert state.phase is not Phase.IN_FLIGHT
        if state.phase is Phase.SCHEDULED:
            assert isinstance(m.next_action(state, state.next_due_ns or 0), Send)
        now = starts[-1] + (rules.deadline_ns if result.outcome == "timeout" else result.duration_ns)
    return state, [s - t0 for s in starts]


def ok(ms: int = 5) -> AttemptResult:
    return AttemptResult("response", ms * 1_000_000, status=200)


def status(code: int, ms: int = 5) -> AttemptResult:
    return AttemptResult("response", ms * 1_000_000, status=code)


def timeout(rules: Rules = MODA) -> AttemptResult:
    return AttemptResult("timeout", rules.deadline_ns)


def test_profile_rules_come_from_the_profiles():
    moda, modio = get_profile("moda"), get_profile("modio")
    assert MODA.deadline_ns == moda.deadline_ns and MODA.retry_delays_ns == moda.retry_delays_ns
    assert MODA.max_attempts == moda.max_attempts == 4
    assert MODIO.deadline_ns == modio.deadline_ns and MODIO.max_attempts == 1


# (phase, event) -> expected next phase, for every pair; None = refused.
TABLE = [
    (Phase.SCHEDULED, Event.START, Phase.IN_FLIGHT),
    (Phase.SCHEDULED, Event.SUCCESS, None),
    (Phase.SCHEDULED, Event.FAILURE, None),
    (Phase.SCHEDULED, Event.INTERRUPT, None),
    (Phase.SCHEDULED, Event.MANUAL_RETRY, None),
    (Phase.IN_FLIGHT, Event.START, None),
    (Phase.IN_FLIGHT, Event.SUCCESS, Phase.SUCCEEDED),
    (Phase.IN_FLIGHT, Event.FAILURE, Phase.SCHEDULED),
    (Phase.IN_FLIGHT, Event.INTERRUPT, Phase.SCHEDULED),
    (Phase.IN_FLIGHT, Event.MANUAL_RETRY, None),
    (Phase.SUCCEEDED, Event.START, None),
    (Phase.SUCCEEDED, Event.SUCCESS, None),
    (Phase.SUCCEEDED, Event.FAILURE, None),
    (Phase.SUCCEEDED, Event.INTERRUPT, None),
    (Phase.SUCCEEDED, Event.MANUAL_RETRY, Phase.SCHEDULED),
    (Phase.FAILED, Event.START, None),
    (Phase.FAILED, Event.SUCCESS, None),
    (Phase.FAILED, Event.FAILURE, None),
    (Phase.FAILED, Event.INTERRUPT, None),
    (Phase.FAILED, Event.MANUAL_RETRY, Phase.SCHEDULED),
    (Phase.SCHEDULED, Event.CANCEL, Phase.CANCELED),
    (Phase.IN_FLIGHT, Event.CANCEL, Phase.CANCELED),
    (Phase.SUCCEEDED, Event.CANCEL, None),
    (Phase.FAILED, Event.CANCEL, None),
    (Phase.CANCELED, Event.START, None),
    (Phase.CANCELED, Event.SUCCESS, None),
    (Phase.CANCELED, Event.FAILURE, None),
    (Phase.CANCELED, Event.INTERRUPT, None),
    (Phase.CANCELED, Event.CANCEL, None),
    (Phase.CANCELED, Event.MANUAL_RETRY, Phase.SCHEDULED),
]


def _state(phase: Phase) -> m.DeliveryState:
    if phase is Phase.IN_FLIGHT:
        return m.DeliveryState(phase, attempts=1, failures=0, next_due_ns=None, started_ns=T0)
    if phase is Phase.SCHEDULED:
        return m.DeliveryState(phase, attempts=0, failures=0, next_due_ns=T0)
    return m.DeliveryState(phase, attempts=4, failures=4, next_due_ns=None)


def test_table_covers_every_pair():
    assert {(p, e) for p, e, _ in TABLE} == {(p, e) for p in Phase for e in Event}


@pytest.mark.parametrize(("phase", "event", "expected"), TABLE)
def test_transition_table(phase: Phase, event: Event, expected: Phase | None):
    state = _state(phase)
    if expected is None:
        with pytest.raises(m.DeliveryStateError, match=event.value):
            m.apply(state, MODA, event, T0 + SECOND)
    else:
        assert m.apply(state, MODA, event, T0 + SECOND, ended_ns=T0 + SECOND).phase is expected


@pytest.mark.parametrize(
    ("results", "status", "starts_s"),
    [
        ([ok()], "succeeded", [0]),
        ([status(500), status(502), status(503), ok()], "succeeded", [0, 1.005, 6.01, 36.015]),
        ([timeout()] * 4, "failed", [0, 31, 66, 126]),
        ([status(301)] * 4, "failed", [0, 1.005, 6.01, 36.015]),
        ([status(404), ok()], "succeeded", [0, 1.005]),
        ([AttemptResult("refused", 1_000_000)] * 4, "failed", [0, 1.001, 6.002, 36.003]),
        ([status(200), ok()], "succeeded", [0]),
        ([status(299)], "succeeded", [0]),
        ([status(199)] * 4, "failed", [0, 1.005, 6.01, 36.015]),
    ],
    ids=["ok", "fail-fail-fail-ok", "all-timeout", "3xx", "404-then-ok", "refused", "200", "299", "1xx"],
)
def test_moda_schedule(results: list[AttemptResult], status: str, starts_s: list[float]):
    state, starts = _run(MODA, results)
    assert state.status == status
    assert starts == [round(s * SECOND) for s in starts_s]


def test_moda_worst_case_ends_156_s_after_the_first_attempt():
    state, starts = _run(MODA, [timeout()] * 4)
    assert state.phase is Phase.FAILED and state.attempts == 4
    assert starts[-1] + MODA.deadline_ns == 156 * SECOND


def test_a_timeout_ends_at_the_deadline_even_if_the_transport_reports_more():
    state = m.attempt_started(m.new_delivery(T0), MODA, T0)
    after = m.complete(state, MODA, AttemptResult("timeout", MODA.deadline_ns + 7 * SECOND))
    assert after.next_due_ns == T0 + MODA.deadline_ns + MODA.retry_delays_ns[0]


def test_modio_one_attempt_no_retry():
    state, starts = _run(MODIO, [status(500), ok()])
    assert state.phase is Phase.FAILED and starts == [0]


def test_manual_retry_gives_one_more_round_on_the_same_entry():
    state, _ = _run(MODIO, [status(500)])
    state = m.manual_retry(state, T0 + 60 * SECOND)
    assert m.next_action(state, T0 + 60 * SECOND) == Send(2)
    state = m.complete(m.attempt_started(state, MODIO, T0 + 60 * SECOND), MODIO, ok())
    assert state.phase is Phase.SUCCEEDED and state.attempts == 2


def test_interrupt_does_not_use_up_the_budget():
    state = m.new_delivery(T0)
    for _ in range(3):
        state = m.attempt_started(state, MODA, T0)
        state = m.interrupted(state, T0 + SECOND)
    assert state.phase is Phase.SCHEDULED and state.failures == 0 and state.attempts == 3
    assert m.next_action(state, T0 + SECOND) == Send(4)


def test_next_action_shapes():
    state = m.new_delivery(T0)
    assert m.next_action(state, T0) == Send(1)
    assert m.next_action(state, T0 - 1) == Wait(T0)
    flying = m.attempt_started(state, MODA, T0)
    assert m.next_action(flying, T0) == WaitForResult(1)
    with pytest.raises(m.DeliveryStateError):
        m.complete(state, MODA, ok())


@pytest.mark.parametrize("outcome", [o for o in OUTCOMES if o != "response"])
def test_every_non_response_outcome_is_a_failure(outcome: str):
    assert m.classify(AttemptResult(outcome, 1), MODA) is Event.FAILURE


results_st = st.one_of(
    st.builds(AttemptResult, st.just("response"), st.integers(0, 29 * SECOND), st.integers(100, 599)),
    st.builds(
        AttemptResult, st.sampled_from([o for o in OUTCOMES if o != "response"]), st.integers(0, 30 * SECOND)
    ),
)


@given(st.sampled_from([MODA, MODIO]), st.lists(results_st, min_size=1, max_size=8))
def test_properties_of_any_run(rules: Rules, results: list[AttemptResult]):
    state, starts = _run(rules, results)
    used = results[: len(starts)]
    successes = [m.classify(r, rules) is Event.SUCCESS for r in used]
    # never more attempts than the budget; stops at the first success
    assert len(starts) <= rules.max_attempts
    assert successes.count(True) <= 1 and (not any(successes) or successes[-1])
    if any(successes):
        assert state.phase is Phase.SUCCEEDED
    elif len(starts) == rules.max_attempts:
        assert state.phase is Phase.FAILED
    else:
        assert state.phase is Phase.SCHEDULED
    # each retry starts exactly delay[k] after the previous attempt ended
    for k in range(1, len(starts)):
        prev = used[k - 1]
        duration = rules.deadline_ns if prev.outcome == "timeout" else prev.duration_ns
        assert starts[k] == starts[k - 1] + duration + rules.retry_delays_ns[k - 1]


def test_the_failure_count_is_kept_exactly_through_success_give_up_and_manual_retry():
    """failures counts the failed attempts of the current round: kept on success and on giving up,
    reset to 0 by a manual retry (which also clears the start time)."""
    state, _ = _run(MODA, [status(500), status(503), ok()])
    assert (state.phase, state.attempts, state.failures) == (Phase.SUCCEEDED, 3, 2)
    failed, _ = _run(MODA, [status(500)] * 4)
    assert (failed.phase, failed.attempts, failed.failures) == (Phase.FAILED, 4, 4)
    again = m.manual_retry(failed, T0 + 600 * SECOND)
    assert (again.phase, again.attempts, again.failures) == (Phase.SCHEDULED, 4, 0)
    assert again.next_due_ns == T0 + 600 * SECOND


@pytest.mark.parametrize(
    ("results", "status"),
    [([ok()], "succeeded"), ([status(500)] * 4, "failed")],
)
def test_a_finished_delivery_is_done_with_its_status(results: list[AttemptResult], status: str):
    state, _ = _run(MODA, results)
    assert m.next_action(state, T0) == Done(status)
    # a canceled delivery is shown as failed (the providers have no "canceled")
    assert m.next_action(m.canceled(m.new_delivery(T0), T0), T0) == Done("failed")


def test_custom_deadline_and_retry_delays_override_the_profile():
    """The non-faithful overrides are used; a timed-out attempt ends at the custom deadline."""
    moda = get_profile("moda")
    rules = Rules.from_profile(moda, deadline_ns=2 * SECOND, retry_delays_ns=[7 * SECOND, 9 * SECOND])
    assert rules.deadline_ns == 2 * SECOND != moda.deadline_ns
    assert rules.retry_delays_ns == (7 * SECOND, 9 * SECOND) and rules.max_attempts == 3
    state, starts = _run(rules, [timeout(rules)] * 3)
    assert state.phase is Phase.FAILED
    assert starts == [0, 9 * SECOND, 20 * SECOND]
    # only one override given: the other comes from the profile
    assert Rules.from_profile(moda, deadline_ns=2 * SECOND).retry_delays_ns == moda.retry_delays_ns
    assert Rules.from_profile(moda, retry_delays_ns=()).deadline_ns == moda.deadline_ns
    assert Rules.from_profile(moda, retry_delays_ns=()).max_attempts == 1


def test_complete_needs_an_attempt_in_flight_with_a_start_time():
    """Either half of the guard alone refuses: not in flight, or in flight without a start time."""
    no_start = m.DeliveryState(Phase.IN_FLIGHT, attempts=1, failures=0, next_due_ns=None, started_ns=None)
    with pytest.raises(m.DeliveryStateError, match="no attempt is in flight"):
        m.complete(no_start, MODA, ok())
    stale_start = m.DeliveryState(Phase.SCHEDULED, attempts=1, failures=1, next_due_ns=T0, started_ns=T0)
    with pytest.raises(m.DeliveryStateError, match="no attempt is in flight"):
        m.complete(stale_start, MODA, ok())


def test_the_step_wrappers_and_apply_with_an_explicit_end_time():
    """A retry is due ``delay`` after the attempt *ended* (``ended_ns``), not after it was reported."""
    flying = m.attempt_started(m.new_delivery(T0), MODA, T0)
    assert (flying.phase, flying.attempts, flying.started_ns) == (Phase.IN_FLIGHT, 1, T0)
    failed = m.attempt_failed(flying, MODA, T0 + 3 * SECOND)
    assert (failed.phase, failed.failures) == (Phase.SCHEDULED, 1)
    assert failed.next_due_ns == T0 + 3 * SECOND + MODA.retry_delays_ns[0]
    done = m.attempt_succeeded(m.attempt_started(failed, MODA, T0 + 60 * SECOND), MODA, T0 + 61 * SECOND)
    assert (done.phase, done.attempts, done.failures) == (Phase.SUCCEEDED, 2, 1)
    reported_late = m.apply(flying, MODA, Event.FAILURE, T0 + 50 * SECOND, ended_ns=T0 + 2 * SECOND)
    assert reported_late.next_due_ns == T0 + 2 * SECOND + MODA.retry_delays_ns[0]
    no_end = m.apply(flying, MODA, Event.FAILURE, T0 + 50 * SECOND)
    assert no_end.next_due_ns == T0 + 50 * SECOND + MODA.retry_delays_ns[0]


def test_a_failure_without_rules_is_a_driver_error_naming_them():
    flying = m.attempt_started(m.new_delivery(T0), MODA, T0)
    with pytest.raises(
        m.DeliveryStateError, match=r"^a failed attempt needs the profile's rules to schedule the retry$"
    ):
        m.apply(flying, None, Event.FAILURE, T0)


def test_an_interrupted_attempt_forgets_its_start_time():
    flying = m.attempt_started(m.new_delivery(T0), MODA, T0)
    again = m.interrupted(flying, T0 + SECOND)
    assert again == m.DeliveryState(Phase.SCHEDULED, attempts=1, failures=0, next_due_ns=T0 + SECOND)
