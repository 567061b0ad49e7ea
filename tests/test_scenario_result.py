"""A scenario run's report, as a person, a CI job (JUnit XML) and a script (JSON) read it: pinned."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from hookmock.scenarios import ScenarioResult, StepResult


def _result() -> ScenarioResult:
    return ScenarioResult(
        "drill",
        "moda",
        "drill.toml",
        [
            StepResult(0, "send task.succeeded", "send", notes=["a note"]),
            StepResult(
                1,
                "duplicate first",
                "duplicate",
                failures=["event e1 applied 2 time(s), expected 1", "second"],
                notes=["n1", "n2"],
                timeline="line one\nline two",
            ),
            StepResult(2, "advance", "advance", timeline="shown only for a failed step"),
            StepResult(3, "replay", "replay_stale", failures=["replay answered 200, expected 4xx"]),
        ],
        duration_ns=1_234_567_890,
    )


TEXT = """\
scenario 'drill' (moda) from drill.toml
pass  step 1: send task.succeeded
        note: a note
fail  step 2: duplicate first
        - event e1 applied 2 time(s), expected 1
        - second
        note: n1
        note: n2
        | line one
        | line two
pass  step 3: advance
fail  step 4: replay
        - replay answered 200, expected 4xx
2 of 4 step(s) passed"""


def test_the_text_report_lists_each_step_its_failures_notes_and_timeline() -> None:
    result = _result()
    assert result.text() == TEXT
    assert str(result) == TEXT
    assert not result.ok
    assert [s.index for s in result.failed] == [1, 3]
    assert [s.status for s in result.steps] == ["pass", "fail", "pass", "fail"]
    assert [s.ok for s in result.steps] == [True, False, True, False]


def test_raise_for_failures_raises_the_report_only_when_a_step_failed() -> None:
    with pytest.raises(AssertionError) as info:
        _result().raise_for_failures()
    assert str(info.value) == TEXT
    passed = ScenarioResult("ok", "modio", "ok.toml", [StepResult(0, "send", "send")])
    assert passed.ok and passed.failed == []
    passed.raise_for_failures()
    assert passed.text().splitlines()[-1] == "1 of 1 step(s) passed"
    assert ScenarioResult("empty", "moda", "e.toml", []).ok


def test_the_json_report() -> None:
    assert _result().as_dict() == {
        "scenario": "drill",
        "profile": "moda",
        "source": "drill.toml",
        "ok": False,
        "steps": [
            {
                "name": "send task.succeeded",
                "action": "send",
                "status": "pass",
                "failures": [],
                "notes": ["a note"],
            },
            {
                "name": "duplicate first",
                "action": "duplicate",
                "status": "fail",
                "failures": ["event e1 applied 2 time(s), expected 1", "second"],
                "notes": ["n1", "n2"],
            },
            {"name": "advance", "action": "advance", "status": "pass", "failures": [], "notes": []},
            {
                "name": "replay",
                "action": "replay_stale",
                "status": "fail",
                "failures": ["replay answered 200, expected 4xx"],
                "notes": [],
            },
        ],
    }


def test_the_junit_report() -> None:
    xml = _result().junit_xml()
    assert xml.startswith("<?xml version='1.0' encoding='utf-8'?>\n<testsuites><testsuite ")
    root = ET.fromstring(xml)
    assert root.tag == "testsuites" and len(root) == 1
    suite = root[0]
    assert suite.tag == "testsuite"
    assert suite.attrib == {
        "name": "hookmock scenario drill",
        "tests": "4",
        "failures": "2",
        "errors": "0",
        "skipped": "0",
        "time": "1.235",
    }
    cases = list(suite)
    assert [c.tag for c in cases] == ["testcase"] * 4
    assert [c.attrib for c in cases] == [
        {"classname": "hookmock.scenario.moda", "name": "1: send task.succeeded"},
        {"classname": "hookmock.scenario.moda", "name": "2: duplicate first"},
        {"classname": "hookmock.scenario.moda", "name": "3: advance"},
        {"classname": "hookmock.scenario.moda", "name": "4: replay"},
    ]
    ok, failed, quiet, bare = cases
    assert [(e.tag, e.text) for e in ok] == [("system-out", "a note")]
    assert [e.tag for e in failed] == ["failure", "system-out"]
    assert failed[0].attrib == {"message": "event e1 applied 2 time(s), expected 1; second"}
    assert failed[0].text == "line one\nline two"
    assert failed[1].text == "n1\nn2"
    assert list(quiet) == []
    assert [e.tag for e in bare] == ["failure"] and not bare[0].text
    assert bare[0].attrib == {"message": "replay answered 200, expected 4xx"}


def test_the_junit_time_is_seconds_to_the_millisecond() -> None:
    for duration_ns, shown in [
        (1_000_500_001, "1.001"),
        (999_999, "0.001"),
        (0, "0.000"),
        (61_000_000_000, "61.000"),
    ]:
        result = ScenarioResult("t", "moda", "t.toml", [], duration_ns=duration_ns)
        assert ET.fromstring(result.junit_xml())[0].attrib["time"] == shown
