"""Infinite and NaN numbers in a scenario: refused when the file is read, naming the path and the value.

TOML has ``inf``, ``-inf`` and ``nan`` literals (and ``1e400`` reads as ``inf``).  A NaN in an
expectation compares false with everything, so ``attempt_times = [nan]`` used to hold whatever the
attempts did; an ``inf`` passed the schema and failed only at run time."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import hookmock
from hookmock.cli import main
from hookmock.clock import VirtualClock
from hookmock.scenarios import ScenarioError, Step, parse_scenario
from hookmock.scenarios.model import Scenario
from hookmock.scenarios.runner import times_match

HEAD = '[scenario]\nname = "x"\nprofile = "moda"\n'

#: Every place a number can stand in a step, as TOML (``{v}`` is the number) and its path.
NUMERIC_FIELDS = [
    ("copies = {v}", "steps[0].copies"),
    ("fail_times = {v}", "steps[0].fail_times"),
    ("data = {{ progress = {{ percent = {v} }} }}", "steps[0].data.progress.percent"),
    ("expect = {{ attempts = {v} }}", "steps[0].expect.attempts"),
    ("expect = {{ attempt_times = [0, {v}] }}", "steps[0].expect.attempt_times[1]"),
    ("expect = {{ statuses = [200, {v}] }}", "steps[0].expect.statuses[1]"),
    ("expect = {{ answer = {v} }}", "steps[0].expect.answer"),
    ("expect = {{ answers = [{v}] }}", "steps[0].expect.answers[0]"),
    ("expect = {{ effect = {v} }}", "steps[0].expect.effect"),
    # fields that take no number: still named as an infinite or NaN number, not only as a type
    ("name = {v}", "steps[0].name"),
    ("proxy = [{v}]", "steps[0].proxy[0]"),
]
VALUES = [("nan", "nan"), ("inf", "inf"), ("-inf", "-inf"), ("+inf", "inf"), ("1e400", "inf")]


def _problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source="drill.toml")
    return info.value.problems


@pytest.mark.parametrize(("literal", "shown"), VALUES)
@pytest.mark.parametrize(("line", "path"), NUMERIC_FIELDS)
def test_every_numeric_field_refuses_nan_and_infinities_naming_path_and_value(
    line: str, path: str, literal: str, shown: str
) -> None:
    text = f'{HEAD}[[steps]]\naction = "send"\nevent = "task.succeeded"\n{line.format(v=literal)}\n'
    why = "a JSON number" if ".data." in path else "a finite number"
    assert f"{path}: {shown} is not {why}; give a finite number" in _problems(text)


@pytest.mark.parametrize(("literal", "shown"), VALUES)
def test_after_refuses_nan_and_infinities(literal: str, shown: str) -> None:
    found = _problems(f'{HEAD}[[steps]]\naction = "advance"\nafter = {literal}\n')
    assert found == [f"steps[0].after: {shown} is not a number of seconds from 0 to 2592000 (30 days)"]


@pytest.mark.parametrize(("literal", "shown"), VALUES)
@pytest.mark.parametrize("field", ["name", "description", "profile"])
def test_the_scenario_table_refuses_nan_and_infinities(field: str, literal: str, shown: str) -> None:
    fields = {"name": '"x"', field: literal}
    text = "[scenario]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items())
    text += '[[steps]]\naction = "send"\n'
    found = _problems(text)
    if field == "profile":  # hookmock's own words for a profile, naming the value, once
        assert found[0].startswith(f"scenario.profile: {shown} is not a profile name; choose one of")
        assert not any(p.startswith("scenario.profile") for p in found[1:])
    else:
        assert found[0] == f"scenario.{field}: {shown} is not a finite number; give a finite number"


def test_a_step_or_top_level_value_that_is_nan_is_named() -> None:
    assert _problems(f"steps = [nan]\n{HEAD}") == [
        "steps[0]: nan is not a finite number; give a finite number"
    ]
    assert _problems(f'x = inf\n{HEAD}[[steps]]\naction = "send"\n') == [
        "x: inf is not a finite number; give a finite number",
        "(top level): Additional properties are not allowed ('x' was unexpected)",
    ]


def test_each_bad_number_is_reported_once_not_also_in_the_schema_s_words() -> None:
    text = (
        f'{HEAD}[[steps]]\naction = "send"\ncopies = inf\nexpect = {{ attempts = nan, statuses = [inf] }}\n'
    )
    assert _problems(text) == [
        "steps[0].copies: inf is not a finite number; give a finite number",
        "steps[0].expect.attempts: nan is not a finite number; give a finite number",
        "steps[0].expect.statuses[0]: inf is not a finite number; give a finite number",
    ]


def test_finite_numbers_are_still_accepted() -> None:
    text = f'{HEAD}[[steps]]\naction = "send"\nexpect = {{ attempt_times = [0, 1.5, 1e300], effect = 0 }}\n'
    assert parse_scenario(text).steps[0].expect["attempt_times"] == [0, 1.5, 1e300]


@pytest.mark.parametrize("verb", ["validate", "run"])
def test_cli_refuses_the_file_with_exit_2_naming_the_value(
    tmp_path: Path, verb: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s4b.toml"
    path.write_text(
        f'{HEAD}[[steps]]\naction = "send"\nevent = "task.succeeded"\nexpect = {{ attempt_times = [nan] }}\n'
    )
    with hookmock.FakeReceiver("moda", "whsec_" + "A" * 32) as receiver:
        extra = [receiver.url, "--secret", "whsec_" + "A" * 32] if verb == "run" else []
        assert main(["scenario", verb, str(path), *extra]) == 2
        assert receiver.requests == []  # refused before anything was sent
    err = capsys.readouterr().err
    assert "steps[0].expect.attempt_times[0]: nan is not a finite number; give a finite number" in err
    assert "Traceback" not in err


def test_attempt_time_comparisons_cannot_hold_vacuously() -> None:
    assert times_match([0.0, 1.0], [0.0, 1.0005])
    assert not times_match([0.0, 1.0], [0.0, math.nan])
    assert not times_match([0.0], [math.nan])
    assert not times_match([0.0, 1.0], [0.0, math.inf])
    assert not times_match([0.0], [0.0, 1.0])


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_scenario_built_in_python_is_refused_before_running(bad: float) -> None:
    """The pytest fixture and ``run_scenario`` also take a :class:`Scenario` object, never read
    from a file: its numbers are checked too, before any step runs."""
    seen: list[bytes] = []

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        seen.append(environ["wsgi.input"].read())
        start_response("200 OK", [])
        return [b"ok"]

    step = Step(0, "send", "send", event="task.succeeded", expect={"attempt_times": [bad]})
    scenario = Scenario("x", "moda", (step,), source="built")
    with pytest.raises(ScenarioError) as info:
        hookmock.run_scenario(scenario, app, secret="whsec_" + "A" * 32, clock=VirtualClock())
    assert info.value.problems == [
        f"steps[0].expect.attempt_times[0]: {bad!r} is not a finite number; give a finite number"
    ]
    assert seen == []


def test_a_finite_attempt_times_expectation_still_fails_when_wrong() -> None:
    """The run-level check: the step's attempt starts at 0, so expecting 5 fails (and 0 passes)."""

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        start_response("200 OK", [])
        return [b"ok"]

    for wanted, ok in ((5, False), (0, True)):
        step = Step(0, "send", "send", event="task.succeeded", expect={"attempt_times": [wanted]})
        scenario = Scenario("x", "moda", (step,), source="built")
        result = hookmock.run_scenario(scenario, app, secret="whsec_" + "A" * 32, clock=VirtualClock())
        assert result.ok is ok, result.text()
