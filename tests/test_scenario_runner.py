"""The scenario runner step by step: what each action sends, what it notes, and what it reports when
an expectation is not met (the exact words), on a virtual clock shared with an in-process receiver."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import pytest
from werkzeug import Request, Response

from hookmock.clock import SECOND, VirtualClock
from hookmock.errors import UsageError
from hookmock.scenarios import ScenarioResult, example_paths, parse_scenario, run_scenario
from hookmock.scenarios.runner import _schedule_times
from receivers import WerkzeugReceiver

SECRET = "whsec_runner"
START = 1_700_000_000


class Desk(WerkzeugReceiver):
    """Correct (verifies, dedupes); keeps every payload it applied or saw, and may take virtual time
    (``took``: seconds per request, in order) and answer a scripted status first (``answers``)."""

    def __init__(self, profile: str = "moda", secret: str = SECRET, clock: Any = None) -> None:
        super().__init__(profile, secret, clock)
        self.payloads: list[dict[str, Any]] = []
        self.took: list[float] = []
        self.answers: list[int] = []

    def process(self, request: Request, payload: dict[str, Any]) -> Response:
        self.payloads.append(payload)
        if self.took:
            self.clock.advance(self.took.pop(0))  # type: ignore[attr-defined]
        if self.answers:
            return Response("scripted", status=self.answers.pop(0))
        return super().process(request, payload)


def _run(
    body: str, *, profile: str = "moda", desk: Desk | None = None, **kw: Any
) -> tuple[ScenarioResult, Desk]:
    clock = VirtualClock(start=START)
    desk = desk or Desk(profile, SECRET, clock)
    desk.clock = clock
    scenario = parse_scenario(f'[scenario]\nname = "drill"\nprofile = "{profile}"\n{body}', source="d.toml")
    kw.setdefault("probe", desk.count)
    kw.setdefault("settle", 0)
    return run_scenario(scenario, desk, secret=SECRET, clock=clock, **kw), desk


def _real_time_aside(failure: str) -> str:
    """Without the real milliseconds an in-process handler took (they vary from run to run)."""
    return re.sub(r" \(not counting 0\.\d+ s the answers took\)", "", failure)


def _created(payload: dict[str, Any]) -> int:
    return int(datetime.fromisoformat(payload["created"]).timestamp())


def test_out_of_order_sends_newest_first_each_a_minute_older_with_the_step_data() -> None:
    result, desk = _run(
        '[[steps]]\naction = "out_of_order"\nevents = ["task.succeeded", "task.failed", "task.canceled"]\n'
        'data = { api_version = "test" }\n'
        'expect = { answers = ["2xx", 200, "2xx"], status = "succeeded", effect = 1 }\n'
    )
    assert result.ok, result.text()
    assert [p["type"] for p in desk.payloads] == ["task.succeeded", "task.failed", "task.canceled"]
    assert [_created(p) for p in desk.payloads] == [START, START - 60, START - 120]
    assert [p["api_version"] for p in desk.payloads] == ["test"] * 3
    step = result.steps[0]
    assert step.notes == [
        "sent newest first: task.succeeded, task.failed, task.canceled; answers ['200', '200', '200']"
    ]
    assert step.timeline.count("\ndelivery whd_") == 2 and step.timeline.startswith("delivery whd_")
    assert re.findall(r"^delivery whd_\w+ \(moda\) event evt_\w+ ([\w.]+) ->", step.timeline, re.M) == [
        "task.succeeded",
        "task.failed",
        "task.canceled",
    ]


def test_out_of_order_failures_name_what_came_and_what_was_expected() -> None:
    desk = Desk()
    desk.answers = [409]
    result, desk = _run(
        '[[steps]]\naction = "out_of_order"\nevents = ["task.succeeded", "task.failed"]\n'
        'expect = { answers = ["2xx", "4xx"], status = "failed", effect = 2 }\n',
        desk=desk,
    )
    first, second = (desk.profile.event_id(p) for p in desk.payloads[1:])
    failures = result.steps[0].failures
    assert failures == [
        "answers ['200', '200'], expected ['2xx', '4xx']",
        "delivery statuses ['succeeded', 'succeeded'], expected 'failed'",
        f"event {first} applied 1 time(s), expected 2",
        f"event {second} applied 1 time(s), expected 2",
    ]
    assert result.steps[0].notes == ["sent newest first: task.succeeded, task.failed; answers ['200', '200']"]
    # the first delivery's first attempt got 409, then it was retried: 3 payloads seen, 2 events
    assert len(desk.payloads) == 3
    fewer, _ = _run(
        '[[steps]]\naction = "out_of_order"\nevents = ["task.succeeded", "task.failed"]\n'
        'expect = { answers = ["2xx"] }\n'
    )
    assert fewer.steps[0].failures == ["answers ['200', '200'], expected ['2xx']"]
    some, _ = _run(
        '[[steps]]\naction = "out_of_order"\nevents = ["task.succeeded", "task.failed"]\n'
        'expect = { status = "failed" }\n',
        desk=_failing_desk(1),
    )
    assert some.steps[0].failures == ["delivery statuses ['succeeded'], expected 'failed'"]


def _failing_desk(ok_after: int) -> Desk:
    """Answers 500 to every request after the first ``ok_after`` (a delivery then fails)."""
    desk = Desk()
    desk.answers = [200] * ok_after + [500] * 20
    return desk


def test_advance_moves_the_shared_clock_by_exactly_the_seconds_given() -> None:
    clock = VirtualClock(start=START)
    desk = Desk("moda", SECRET, clock)
    scenario = parse_scenario(
        '[scenario]\nname = "wait"\n[[steps]]\naction = "advance"\nafter = 2.5\n'
        '[[steps]]\naction = "send"\nexpect = { effect = 1 }\n'
    )
    result = run_scenario(scenario, desk, secret=SECRET, clock=clock, probe=desk.count)
    assert result.ok, result.text()
    assert result.steps[0].notes == ["advanced the clock 2.5 s"]
    assert _created(desk.payloads[0]) == START + 2  # sent 2.5 s after the start
    assert clock.now_ns() >= START * SECOND + 2500 * 1_000_000


def test_every_delivery_expectation_says_what_came_and_what_was_expected() -> None:
    result, desk = _run(
        '[[steps]]\naction = "send"\nproxy = ["fail", "fail:503", "lost_ack:500"]\n'
        'expect = { status = "failed", attempts = 2, statuses = [500, "5xx", 200], '
        "attempt_times = [0, 2], answer = 404, effect = 3 }\n"
    )
    event_id = desk.profile.event_id(desk.payloads[0])
    assert [_real_time_aside(f) for f in result.steps[0].failures] == [
        "delivery status 'succeeded', expected 'failed'",
        "4 attempt(s), expected 2",
        "attempt answers ['500', '503', '500', '200'], expected [500, '5xx', 200]",
        "attempts started at [0.0, 1.0, 6.0, 36.0] s, expected [0.0, 2.0] s",
        "last answer 200, expected 404",
        f"event {event_id} applied 1 time(s), expected 3",
    ]
    assert "| delivery whd_" in result.text()  # a failed step shows its timeline


def test_met_delivery_expectations_pass_statuses_by_number_class_and_outcome() -> None:
    result, _ = _run(
        '[[steps]]\naction = "send"\nproxy = ["fail", "fail:503", "timeout_after_processing"]\n'
        'expect = { status = "succeeded", attempts = 4, statuses = [500, "5xx", "timeout", "2xx"], '
        "attempt_times = [0, 1, 6, 66], answer = 200, effect = 1 }\n"
    )
    assert result.ok, result.text()
    wrong, _ = _run(
        '[[steps]]\naction = "send"\nproxy = ["timeout_after_processing"]\n'
        'expect = { statuses = ["4xx", "timeout"], answer = "timeout" }\n'
    )
    assert wrong.steps[0].failures == [
        "attempt answers ['timeout', '200'], expected ['4xx', 'timeout']",
        "last answer 200, expected timeout",
    ]
    other, _ = _run('[[steps]]\naction = "send"\nexpect = { statuses = ["2xx", 200] }\n')
    assert other.steps[0].failures == ["attempt answers ['200'], expected ['2xx', 200]"]
    classed, _ = _run(
        '[[steps]]\naction = "send"\nproxy = ["fail:404"]\nexpect = { statuses = ["5xx", "2xx"] }\n'
    )
    assert classed.steps[0].failures == ["attempt answers ['404', '200'], expected ['5xx', '2xx']"]


def test_attempt_times_leave_out_the_time_answers_took_but_count_a_timeout_in_full() -> None:
    desk = Desk()
    desk.took, desk.answers = [2.5, 1.25], [500, 500]
    result, _ = _run('[[steps]]\naction = "send"\nexpect = { attempt_times = [0, 1, 6.5] }\n', desk=desk)
    assert result.steps[0].failures == [
        "attempts started at [0.0, 1.0, 6.0] s (not counting 3.75 s the answers took), "
        "expected [0.0, 1.0, 6.5] s"
    ]
    slow = Desk()
    slow.took = [31.0]  # past Moda's 30 s deadline: the sender waited it all
    result, _ = _run(
        '[[steps]]\naction = "send"\nexpect = { attempt_times = [0, 31], statuses = ["timeout", 200] }\n',
        desk=slow,
    )
    assert result.ok, result.text()
    result, _ = _run('[[steps]]\naction = "send"\nexpect = { attempt_times = [0, 0.002] }\n')
    assert result.steps[0].failures == ["attempts started at [0.0] s, expected [0.0, 0.002] s"]


def test_schedule_times_within_a_millisecond_pass() -> None:
    near, _ = _run(
        '[[steps]]\naction = "send"\nproxy = ["fail"]\nexpect = { attempt_times = [0.0005, 0.9995] }\n'
    )
    assert near.ok, near.text()
    off, _ = _run('[[steps]]\naction = "send"\nproxy = ["fail"]\nexpect = { attempt_times = [0, 1.0015] }\n')
    assert [_real_time_aside(f) for f in off.steps[0].failures] == [
        "attempts started at [0.0, 1.0] s, expected [0.0, 1.0015] s"
    ]


class _Attempt:
    def __init__(self, started_s: float, duration_s: float, outcome: str = "response") -> None:
        self.started_ns = int(started_s * SECOND)
        self.duration_ns = int(duration_s * SECOND)
        self.outcome = outcome


def test_schedule_times_from_attempts() -> None:
    attempts = [_Attempt(10, 0.5), _Attempt(11.5, 30, "timeout"), _Attempt(46.5, 0), _Attempt(50, 2)]
    assert _schedule_times(attempts) == ([0.0, 1.0, 36.0, 39.5], 0.5)  # the last answer is not counted
    assert _schedule_times([_Attempt(3, 1.23456)]) == ([0.0], 0.0)
    assert _schedule_times([_Attempt(0, 0.0004), _Attempt(1.0004, 0)]) == ([0.0, 1.0], 0.0)
    assert _schedule_times([_Attempt(0, 0), _Attempt(1.00049, 0)]) == ([0.0, 1.0], 0.0)  # to the ms


def test_a_redelivery_on_mod_io_is_judged_on_its_own_attempts() -> None:
    result, desk = _run(
        '[[steps]]\naction = "send"\nid = "a"\nevent = "ADD_MOD"\nproxy = ["lost_ack"]\n'
        'expect = { status = "failed", attempts = 1, statuses = [503], effect = 1 }\n'
        '[[steps]]\naction = "duplicate"\nof = "a"\nid = "again"\n'
        'expect = { status = "succeeded", attempts = 1, statuses = [200], effect = 1 }\n'
        '[[steps]]\naction = "duplicate"\nof = "again"\nproxy = ["fail:502"]\n'
        "expect = { attempts = 1, statuses = [502], effect = 1 }\n",
        profile="modio",
    )
    assert result.ok, result.text()
    assert len({desk.profile.event_id(p) for p in desk.payloads}) == 1 and len(desk.payloads) == 2
    assert [s.name for s in result.steps] == ["send ADD_MOD", "duplicate a", "duplicate again"]


def test_a_moda_redelivery_is_a_new_delivery_whose_proxy_actions_apply() -> None:
    result, desk = _run(
        '[[steps]]\naction = "send"\nid = "a"\nexpect = { effect = 1 }\n'
        '[[steps]]\naction = "duplicate"\nof = "a"\nproxy = ["duplicate:3"]\n'
        'expect = { status = "succeeded", attempts = 1, statuses = [200], effect = 1 }\n'
    )
    assert result.ok, result.text()
    assert len(desk.payloads) == 4  # the original, then the redelivery forwarded three times
    assert len({desk.profile.event_id(p) for p in desk.payloads}) == 1


@pytest.mark.parametrize(
    ("action", "copies"), [("duplicate", 2), ("duplicate:4", 4), ("concurrent", 2), ("concurrent:3", 3)]
)
def test_duplicate_and_concurrent_proxy_actions_forward_the_copies_asked(action: str, copies: int) -> None:
    result, desk = _run(f'[[steps]]\naction = "send"\nproxy = ["{action}"]\nexpect = {{ effect = 1 }}\n')
    assert result.ok, result.text()
    assert len(desk.payloads) == copies


def test_a_concurrent_step_sends_its_copies_and_then_the_rest_of_the_proxy_actions() -> None:
    result, desk = _run(
        '[[steps]]\naction = "concurrent"\ncopies = 3\n'
        'expect = { status = "succeeded", attempts = 1, effect = 1 }\n'
        '[[steps]]\naction = "concurrent"\ncopies = 2\nproxy = ["pass", "fail:503"]\n'
        "expect = { attempts = 1, effect = 1 }\n"
        '[[steps]]\naction = "concurrent"\nproxy = ["fail", "fail:503"]\n'
        "expect = { attempts = 1, statuses = [200] }\n"
    )
    assert result.ok, result.text()
    # the copies take the place of the proxy list's first action
    assert len(desk.payloads) == 3 + 2 + 5
    desk = Desk()
    desk.answers = [500, 500, 500]  # every copy of the first attempt fails: the rest of the list goes on
    result, desk = _run(
        '[[steps]]\naction = "concurrent"\ncopies = 3\nproxy = ["pass", "fail:503"]\n'
        "expect = { attempts = 3, statuses = [500, 503, 200], effect = 1 }\n",
        desk=desk,
    )
    assert result.ok, result.text()
    assert len(desk.payloads) == 3 + 1


def test_the_other_proxy_actions_on_each_attempt() -> None:
    result, _ = _run(
        '[[steps]]\naction = "send"\nproxy = ["tamper", "pass", "lost_ack:timeout"]\n'
        'expect = { statuses = ["4xx", 200], effect = 1 }\n'
        '[[steps]]\naction = "send"\nproxy = ["pass", "lost_ack"]\nexpect = { statuses = [200] }\n'
        '[[steps]]\naction = "send"\nfail_times = 2\nproxy = ["lost_ack:502"]\n'
        "expect = { statuses = [500, 500, 502, 200], effect = 1 }\n"
    )
    assert result.ok, result.text()
    lost, _ = _run(
        '[[steps]]\naction = "send"\nproxy = ["lost_ack"]\nexpect = { statuses = [503, 200], effect = 1 }\n'
    )
    assert lost.ok, lost.text()


def test_replay_on_a_shared_clock_replays_the_bytes_later() -> None:
    result, _ = _run(
        '[[steps]]\naction = "send"\nid = "a"\n'
        '[[steps]]\naction = "replay_stale"\nof = "a"\nafter = 10\nexpect = { answer = 401 }\n'
        '[[steps]]\naction = "replay_stale"\nof = "a"\nexpect = { answer = "4xx", effect = 1 }\n'
    )
    assert [s.notes for s in result.steps[1:]] == [
        ["replayed the captured request byte for byte 10 s later: the handler answered 200"],
        ["replayed the captured request byte for byte 3600 s later: the handler answered 401"],
    ]
    assert [s.failures for s in result.steps] == [[], ["replay answered 200, expected 401"], []]


def test_replay_without_a_shared_clock_re_signs_in_the_past() -> None:
    recorded: list[int] = []

    class Stamps(WerkzeugReceiver):  # on the real clock: the run's clock starts at the real time
        def authenticate(self, request: Request, body: bytes) -> Response | None:
            recorded.append(int(request.headers["X-Webhook-Timestamp"]))
            return super().authenticate(request, body)

    receiver = Stamps("moda", SECRET)
    scenario = parse_scenario(
        '[scenario]\nname = "r"\n[[steps]]\naction = "send"\nid = "a"\n'
        '[[steps]]\naction = "replay_stale"\nof = "a"\nafter = 10\nexpect = { answer = 200 }\n'
        '[[steps]]\naction = "replay_stale"\nof = "a"\nexpect = { answer = "4xx" }\n'
    )
    result = run_scenario(scenario, receiver, secret=SECRET, probe=receiver.count)
    assert result.ok, result.text()
    assert [recorded[1] - recorded[0], recorded[2] - recorded[0]] == [-10, -3600]
    assert [s.notes for s in result.steps[1:]] == [
        [
            "re-sent the captured body signed 10 s in the past (a replay that much later): "
            "the handler answered 200"
        ],
        [
            "re-sent the captured body signed 3600 s in the past (a replay that much later): "
            "the handler answered 401"
        ],
    ]


def test_replay_on_mod_io_says_its_token_carries_no_time() -> None:
    receiver = WerkzeugReceiver("modio", SECRET)
    scenario = parse_scenario(
        '[scenario]\nname = "r"\nprofile = "modio"\n[[steps]]\naction = "send"\nid = "a"\n'
        '[[steps]]\naction = "replay_stale"\nof = "a"\nafter = 30\nexpect = { answer = "4xx", effect = 1 }\n'
    )
    result = run_scenario(scenario, receiver, secret=SECRET, probe=receiver.count)
    assert result.steps[1].notes == [
        "re-sent the captured body as a replay 30 s later (mod.io's token carries no time, so a late "
        "replay looks like the original): the handler answered 200"
    ]
    assert result.steps[1].failures == ["replay answered 200, expected 4xx"]


def test_an_effect_expectation_without_a_probe_is_noted_once_per_step() -> None:
    result, _ = _run(
        '[[steps]]\naction = "send"\nexpect = { effect = 1 }\n[[steps]]\naction = "send"\n', probe=None
    )
    assert result.ok
    assert [s.notes for s in result.steps] == [
        ["effect not checked: no effect probe (probe= / --probe-url)"],
        [],
    ]


def test_an_effect_of_zero_is_checked_too() -> None:
    result, desk = _run(
        '[[steps]]\naction = "send"\nevent = "ADD_MOD"\nproxy = ["tamper"]\nexpect = { effect = 0 }\n',
        profile="modio",
    )
    assert result.ok, result.text()
    wrong, desk = _run('[[steps]]\naction = "send"\nexpect = { effect = 0 }\n')
    event_id = desk.profile.event_id(desk.payloads[0])
    assert wrong.steps[0].failures == [f"event {event_id} applied 1 time(s), expected 0"]


def test_the_default_event_is_the_profile_s_first() -> None:
    result, desk = _run('[[steps]]\naction = "send"\n[[steps]]\naction = "concurrent"\ncopies = 2\n')
    assert [p["type"] for p in desk.payloads] == ["task.succeeded"] * 3
    assert [s.name for s in result.steps] == ["send", "concurrent"]


def test_the_secret_must_be_given() -> None:
    for secret in ("", None, 5):
        with pytest.raises(UsageError) as info:
            run_scenario(example_paths()[0], Desk(), secret=secret)  # type: ignore[arg-type]
        assert str(info.value) == (
            "secret= must be the signing secret or webhook token the receiver is configured with"
        )


def test_a_file_path_with_a_profile_override_and_the_wall_clock_by_default(tmp_path: Any) -> None:
    path = tmp_path / "d.toml"
    path.write_text('[scenario]\nname = "on the wall clock"\n[[steps]]\naction = "send"\nevent = "ADD_MOD"\n'
                    'expect = { status = "succeeded", statuses = [200], effect = 1 }\n')  # fmt: skip
    receiver = WerkzeugReceiver("modio", SECRET)  # the real clock
    result = run_scenario(path, receiver, secret=SECRET, profile="modio", probe=receiver.count)
    assert result.ok, result.text()
    assert (result.name, result.profile, result.source) == ("on the wall clock", "modio", str(path))
    assert 0 < result.duration_ns < 60 * SECOND
    moda = WerkzeugReceiver("moda", SECRET)  # Moda checks the timestamp against the real clock
    timed = parse_scenario(
        '[scenario]\nname = "t"\n[[steps]]\naction = "send"\nexpect = { statuses = [200] }\n'
    )
    assert run_scenario(timed, moda, secret=SECRET).ok


def test_a_probe_url_template_is_read_over_http() -> None:
    from hookmock.receiver.server import FakeReceiver

    desk = WerkzeugReceiver("moda", SECRET)
    with FakeReceiver("moda", SECRET, handler=desk) as server:
        scenario = parse_scenario(
            '[scenario]\nname = "u"\n[[steps]]\naction = "send"\nexpect = { effect = 2 }\n'
        )
        result = run_scenario(
            scenario,
            server.url,
            secret=SECRET,
            probe=server.url.replace("/webhook", "/effects/{event_id}"),
            settle=0,
        )
    assert len(result.steps[0].failures) == 1
    assert re.fullmatch(r"event evt_\w+ applied 1 time\(s\), expected 2.*", result.steps[0].failures[0])


def test_the_json_report_of_a_run() -> None:
    result, _ = _run('[[steps]]\naction = "advance"\nafter = 1\nname = "a second"\n')
    assert json.loads(json.dumps(result.as_dict()))["steps"] == [
        {
            "name": "a second",
            "action": "advance",
            "status": "pass",
            "failures": [],
            "notes": ["advanced the clock 1 s"],
        }
    ]


def test_a_message_id_profile_keys_proxy_actions_and_effects_by_the_message_id() -> None:
    """Standard Webhooks: the id is the ``webhook-id`` header, not in the payload; the runner sends
    with that id, so the proxy's per-event action and the effect probe find the delivery."""
    result, desk = _run(
        '[[steps]]\naction = "send"\nevent = "invoice.paid"\nproxy = ["lost_ack:500"]\n'
        'expect = { status = "succeeded", statuses = [500, 200], effect = 1 }\n',
        profile="standard-webhooks",
    )
    assert result.ok, result.text()
    assert len(desk.payloads) == 2 and desk.profile.event_id(desk.payloads[0]) is None


def test_upstream_failures_are_noted_once_for_the_attempts_of_their_own_step() -> None:
    from hookmock.receiver.server import FakeReceiver

    scenario = parse_scenario(
        '[scenario]\nname = "resets"\n'
        '[[steps]]\naction = "send"\nid = "a"\nexpect = { attempts = 4 }\n'
        '[[steps]]\naction = "duplicate"\nof = "a"\nproxy = ["pass", "pass"]\n'
        "expect = { attempts = 4 }\n"
        '[[steps]]\naction = "send"\nevent = "task.failed"\nfail_times = 3\nexpect = { attempts = 4 }\n'
    )
    with FakeReceiver("moda", SECRET) as target:
        target.script("reset")
        result = run_scenario(scenario, target.url, secret=SECRET)
    assert result.ok, result.text()
    first, again, failed = (s.notes for s in result.steps)
    assert len(first) == 4 and len(again) == 4, result.text()
    assert first[0].startswith("the target could not answer an attempt (reset")
    assert first[0].endswith("); the fault proxy answered the sender 502")
    assert len(failed) == 1  # the three attempts the proxy failed itself never reached the target


def test_an_effect_is_read_once_with_settle_0_and_waited_for_otherwise() -> None:
    calls: list[str] = []

    def late(event_id: str) -> int:  # the effect shows from the second read on (an async receiver)
        calls.append(event_id)
        return 0 if len(calls) == 1 else 1

    body = '[[steps]]\naction = "send"\nexpect = { effect = 1 }\n'
    result, desk = _run(body, probe=late)  # settle=0: read at once
    assert len(calls) == 1
    assert result.steps[0].failures == [
        f"event {desk.profile.event_id(desk.payloads[0])} applied 0 time(s), expected 1"
    ]
    calls.clear()
    clock = VirtualClock(start=START)
    receiver = Desk("moda", SECRET, clock)
    scenario = parse_scenario(f'[scenario]\nname = "late"\n{body}')
    waited = run_scenario(scenario, receiver, secret=SECRET, clock=clock, probe=late)  # settle learned
    assert waited.ok, waited.text()
    assert len(calls) >= 2


@pytest.mark.realtime  # the effect watcher reads a changing count over real milliseconds
def test_an_effect_that_keeps_changing_is_reported_with_its_progression() -> None:
    counts = iter([1, 2, 3])

    def growing(event_id: str) -> int:
        return next(counts, 3)

    result, desk = _run('[[steps]]\naction = "send"\nexpect = { effect = 1 }\n', probe=growing, settle=0.03)
    event_id = desk.profile.event_id(desk.payloads[0])
    (failure,) = result.steps[0].failures
    assert re.fullmatch(
        rf"event {event_id} applied 3 time\(s\), expected 1 \(the count went 1 → 2 → 3 within \d+ ms\)",
        failure,
    ), failure


@pytest.mark.realtime  # how long effects are read for an HTTP target is real time
def test_effects_of_a_url_target_settle_for_20_ms_and_of_an_app_not_at_all() -> None:
    from hookmock.receiver.server import FakeReceiver

    calls: list[str] = []
    receiver = WerkzeugReceiver("moda", SECRET)

    def probe(event_id: str) -> int:
        calls.append(event_id)
        return receiver.count(event_id)

    scenario = parse_scenario('[scenario]\nname = "s"\n[[steps]]\naction = "send"\nexpect = { effect = 1 }\n')
    with FakeReceiver("moda", SECRET, handler=receiver) as server:
        assert run_scenario(scenario, server.url, secret=SECRET, probe=probe).ok
    assert 2 <= len(calls) <= 10, len(calls)  # 20 ms of reads 5 ms apart, not a second's worth
    calls.clear()
    assert run_scenario(scenario, receiver, secret=SECRET, probe=probe).ok
    assert len(calls) == 1  # in-process and synchronous: read once


def test_a_proxy_action_is_for_one_attempt_only_even_when_the_event_comes_again() -> None:
    result, desk = _run(
        '[[steps]]\naction = "send"\nid = "a"\nproxy = ["duplicate:3"]\nexpect = { attempts = 1 }\n'
        '[[steps]]\naction = "duplicate"\nof = "a"\nexpect = { attempts = 1, effect = 1 }\n'
        '[[steps]]\naction = "concurrent"\nid = "c"\ncopies = 2\nexpect = { attempts = 1 }\n'
        '[[steps]]\naction = "duplicate"\nof = "c"\nexpect = { attempts = 1, statuses = [200], effect = 1 }\n'
    )
    assert result.ok, result.text()
    events = [desk.profile.event_id(p) for p in desk.payloads]
    assert len(events) == 3 + 1 + 2 + 1
    assert len(set(events[:4])) == 1 and len(set(events[4:])) == 1 and events[0] != events[4]


def test_a_replay_without_a_shared_clock_keeps_every_header_but_the_signature() -> None:
    seen: list[dict[str, str]] = []

    class Headers(WerkzeugReceiver):
        def authenticate(self, request: Request, body: bytes) -> Response | None:
            seen.append(dict(request.headers))
            return super().authenticate(request, body)

    receiver = Headers("standard-webhooks", SECRET)
    scenario = parse_scenario(
        '[scenario]\nname = "r"\nprofile = "standard-webhooks"\n[[steps]]\naction = "send"\nid = "a"\n'
        '[[steps]]\naction = "replay_stale"\nof = "a"\nafter = 10\nexpect = { answer = "2xx", effect = 1 }\n'
    )
    result = run_scenario(scenario, receiver, secret=SECRET, probe=receiver.count)
    assert result.ok, result.text()
    original, replay = seen
    assert replay["Webhook-Id"] == original["Webhook-Id"]  # the same message: deduplicated
    assert int(replay["Webhook-Timestamp"]) == int(original["Webhook-Timestamp"]) - 10
    assert replay["Webhook-Signature"] != original["Webhook-Signature"]
    same = {k: v for k, v in original.items() if not k.startswith("Webhook-")}
    assert {k: v for k, v in replay.items() if not k.startswith("Webhook-")} == same
    assert same["Content-Type"].startswith("application/json")


def test_out_of_order_on_mod_io_with_answers_that_are_not_responses() -> None:
    result, desk = _run(
        '[[steps]]\naction = "out_of_order"\nevents = ["EDIT_MOD", "ADD_MOD"]\n'
        'proxy = ["timeout_after_processing"]\n'
        'expect = { answers = ["timeout", "timeout"], status = "failed" }\n',
        profile="modio",
    )
    assert result.ok, result.text()
    assert [(p["event_name"], p["event_timestamp"]) for p in desk.payloads] == [
        ("EDIT_MOD", START),
        ("ADD_MOD", START - 60),
    ]
    assert result.steps[0].notes == ["sent newest first: EDIT_MOD, ADD_MOD; answers ['timeout', 'timeout']"]


def test_advance_by_0_leaves_the_clock_where_it_is() -> None:
    clock = VirtualClock(start=START)
    scenario = parse_scenario('[scenario]\nname = "z"\n[[steps]]\naction = "advance"\nafter = 0\n')
    result = run_scenario(scenario, Desk("moda", SECRET, clock), secret=SECRET, clock=clock)
    assert result.steps[0].notes == ["advanced the clock 0 s"]
    assert clock.now_ns() == START * SECOND


def test_a_send_step_sends_its_event_with_its_data() -> None:
    result, desk = _run(
        '[[steps]]\naction = "send"\nevent = "export.failed"\ndata = { api_version = "test" }\n'
        '[[steps]]\naction = "concurrent"\nevent = "task.canceled"\ncopies = 2\n'
        'data = { api_version = "x" }\n'
    )
    assert result.ok, result.text()
    assert [(p["type"], p["api_version"]) for p in desk.payloads] == [
        ("export.failed", "test"),
        ("task.canceled", "x"),
        ("task.canceled", "x"),
    ]


def test_answers_that_are_outcomes_match_the_outcome() -> None:
    result, _ = _run(
        '[[steps]]\naction = "send"\nevent = "ADD_MOD"\nproxy = ["timeout_after_processing"]\n'
        'expect = { answer = "timeout", statuses = ["timeout"], attempt_times = [0.001] }\n',
        profile="modio",
    )
    assert result.ok, result.text()
    desk = Desk()
    desk.took = [0.0, 40.0]  # the replay takes past Moda's 30 s deadline
    replayed, _ = _run(
        '[[steps]]\naction = "send"\nid = "a"\n'
        '[[steps]]\naction = "replay_stale"\nof = "a"\nafter = 1\nexpect = { answer = "timeout" }\n',
        desk=desk,
    )
    assert replayed.ok, replayed.text()
    assert replayed.steps[1].notes == [
        "replayed the captured request byte for byte 1 s later: the handler answered timeout"
    ]


def test_a_learned_settle_waits_for_the_first_application_only() -> None:
    """With the settle period learned (settle=None), a read waits for the first application; a count
    already there at the first read is taken as synchronous: read once, not waited on."""
    reads: list[int] = []

    def second_copy_later(event_id: str) -> int:
        reads.append(1)
        return 1 if len(reads) == 1 else 2

    clock = VirtualClock(start=START)
    desk = Desk("moda", SECRET, clock)
    scenario = parse_scenario('[scenario]\nname = "l"\n[[steps]]\naction = "send"\nexpect = { effect = 2 }\n')
    result = run_scenario(scenario, desk, secret=SECRET, clock=clock, probe=second_copy_later)
    assert len(reads) == 1
    assert result.steps[0].failures == [
        f"event {desk.profile.event_id(desk.payloads[0])} applied 1 time(s), expected 2"
    ]


@pytest.mark.parametrize("target_is_url", [True, False])
def test_the_outbound_options_reach_the_target_and_the_probe(target_is_url: bool) -> None:
    """``allow_targets`` and ``ca_file`` are checked by whichever of the two speaks HTTP: the fault
    proxy's upstream (a URL target) or the effect probe (a URL template)."""
    scenario = parse_scenario('[scenario]\nname = "o"\n[[steps]]\naction = "send"\n')
    url = "http://127.0.0.1:9/hooks"
    target: Any = url if target_is_url else Desk()
    probe: Any = Desk().count if target_is_url else "http://127.0.0.1:9/effects/{event_id}"
    with pytest.raises(UsageError, match=r"^allow-target entry 'not a host!' is neither a host name"):
        run_scenario(scenario, target, secret=SECRET, probe=probe, allow_targets=("not a host!",))
    with pytest.raises(UsageError, match=r"^CA file '/nonexistent/ca\.pem' does not exist"):
        run_scenario(scenario, target, secret=SECRET, probe=probe, ca_file="/nonexistent/ca.pem")
