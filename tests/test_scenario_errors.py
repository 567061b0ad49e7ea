"""What a user reads for a bad scenario file: the whole message, pinned.

Each problem names the file, the path in the file, the bad value and what to give instead; every
problem is reported at once, in file order, each once (a proxy action or an ``after`` hookmock
explains in its own words is not repeated in the schema's words)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hookmock.errors import UsageError
from hookmock.scenarios import ScenarioError, load_scenario, parse_scenario
from hookmock.scenarios.model import MOST_PROBLEMS

HEAD = '[scenario]\nname = "x"\n'
SEND = '[[steps]]\naction = "send"\n'
ACTIONS = (
    "pass, fail[:<status>], lost_ack[:<answer>], timeout_after_processing, "
    "duplicate[:<copies 1-99>], concurrent[:<copies 1-99>], tamper"
)
ANSWERS = "timeout, hang, reset, close, malformed, delay:<seconds>[:<status>], dribble[:<bytes per second>]"
MODA_EVENTS = "task.succeeded, task.failed, task.canceled, export.succeeded, export.failed"


def problems(text: str, **kw: str) -> list[str]:
    """The problems listed, after checking the message's head names the file and their count."""
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source="drill.toml", **kw)
    error = info.value
    assert error.source == "drill.toml"
    lines = str(error).splitlines()
    assert lines[0] == f"scenario drill.toml is not valid ({len(error.problems)} problem(s)):"
    assert lines[1:] == [f"  - {p}" for p in error.problems]
    return error.problems


FAIL = "fail takes an HTTP status 100-599 (fail:503), or nothing for 500"
NOT_ACTION = f"is not a proxy action; use one of {ACTIONS}"


def copies(head: str) -> str:
    return f"{head} takes a number of copies 1-99 ({head}:3), or nothing for 2"


def lost(arg: str) -> str:
    return (
        f"{arg!r} is not an answer for the lost acknowledgement; give a status (lost_ack:500) "
        f"or one of {ANSWERS}"
    )


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("fail:99", f"'fail:99': {FAIL}"),
        ("fail:600", f"'fail:600': {FAIL}"),
        ("fail:", f"'fail:': {FAIL}"),
        ("fail:5x0", f"'fail:5x0': {FAIL}"),
        ("fail:٥٠٣", f"'fail:٥٠٣': {FAIL}"),
        # a leading zero: said in hookmock's words, not as the schema's regular expression
        ("fail:0503", f"'fail:0503': {FAIL}"),
        ("duplicate:0", f"'duplicate:0': {copies('duplicate')}"),
        ("duplicate:05", f"'duplicate:05': {copies('duplicate')}"),
        ("duplicate:100", f"'duplicate:100': {copies('duplicate')}"),
        ("concurrent:x", f"'concurrent:x': {copies('concurrent')}"),
        ("concurrent:100", f"'concurrent:100': {copies('concurrent')}"),
        ("lost_ack:bogus", f"'lost_ack:bogus': {lost('bogus')}"),
        ("lost_ack:", f"'lost_ack:': {lost('')}"),
        ("lost_ack:DELAY:1", f"'lost_ack:DELAY:1': {lost('DELAY:1')}"),
        ("lost_ack:500:x", f"'lost_ack:500:x': {lost('500:x')}"),
        ("tamper:1", f"'tamper:1' {NOT_ACTION}"),
        ("pass:", f"'pass:' {NOT_ACTION}"),
        ("timeout_after_processing:1", f"'timeout_after_processing:1' {NOT_ACTION}"),
        ("explode", f"'explode' {NOT_ACTION}"),
        (3, f"3 {NOT_ACTION}"),
    ],
)
def test_a_bad_proxy_action_is_named_with_the_choices(action: object, message: str) -> None:
    shown = f'"{action}"' if isinstance(action, str) else str(action)
    assert problems(f"{HEAD}{SEND}proxy = [{shown}]\n") == [f"steps[0].proxy[0]: {message}"]


@pytest.mark.parametrize(
    "action",
    [
        "pass", "fail", "fail:100", "fail:599", "lost_ack", "lost_ack:500", "lost_ack:timeout",
        "lost_ack:delay:1.5:503", "timeout_after_processing", "duplicate", "duplicate:1",
        "duplicate:99", "concurrent", "concurrent:1", "concurrent:99", "tamper",
    ],
)  # fmt: skip
def test_every_documented_proxy_action_is_accepted(action: str) -> None:
    step = parse_scenario(f'{HEAD}{SEND}proxy = ["{action}"]\n').steps[0]
    assert step.proxy == (action,)


def test_several_problems_are_listed_at_once_in_file_order_each_once() -> None:
    text = (
        f'{HEAD}profile = "nope"\n'
        '[[steps]]\naction = "send"\nproxy = ["fail:99", "pass", "explode"]\nafter = -1\n'
        '[[steps]]\naction = "explode"\n'
        '[[steps]]\naction = "send"\nid = "a"\n'
        '[[steps]]\naction = "send"\nid = "a"\n'
        '[[steps]]\naction = "duplicate"\nof = "ghost"\n'
        "extra = 1\n"
    )
    assert problems(text) == [
        "scenario.profile: unknown profile 'nope'; choose one of: github, moda, modio, standard-webhooks",
        "steps[0].after: -1 is not a number of seconds from 0 to 2592000 (30 days)",
        "steps[0].proxy[0]: 'fail:99': fail takes an HTTP status 100-599 (fail:503), or nothing for 500",
        f"steps[0].proxy[2]: 'explode' is not a proxy action; use one of {ACTIONS}",
        "steps[1].action: 'explode' is not one of "
        "['send', 'duplicate', 'replay_stale', 'out_of_order', 'concurrent', 'advance']",
        "steps[3].id: id 'a' is used twice; give each step its own id",
        "steps[4].of: no earlier step has id 'ghost' (ids so far: a)",
        "steps[4]: Additional properties are not allowed ('extra' was unexpected)",
    ]


def test_event_types_are_checked_against_the_profile_the_run_uses() -> None:
    bad = f'{HEAD}[[steps]]\naction = "out_of_order"\nevents = ["task.failed", "bad.one"]\nevent = "nope"\n'
    assert problems(bad) == [
        f"steps[0].event: 'nope' is not a Moda event; choose one of {MODA_EVENTS}",
        f"steps[0].events[1]: 'bad.one' is not a Moda event; choose one of {MODA_EVENTS}",
    ]
    moda = f'{HEAD}{SEND}event = "task.succeeded"\n'
    found = problems(moda, profile="modio")  # the override wins over the file's (default) profile
    assert found == [
        "steps[0].event: 'task.succeeded' is not a mod.io event; choose one of ADD_MOD_COMMENT, "
        "EDIT_MOD_COMMENT, ADD_MOD, EDIT_MOD, ADD_MOD_MEDIA, ADD_MOD_TAGS, ADD_MOD_KVP_METADATA, "
        "ADD_MOD_DEPENDENCIES, ADD_MODFILE, ADD_GUIDE, EDIT_GUIDE, ADD_GUIDE_COMMENT, "
        "EDIT_GUIDE_COMMENT, PING"
    ]
    assert parse_scenario(f'{HEAD}profile = "modio"\n{SEND}event = "ADD_MOD"\n').profile == "modio"
    assert parse_scenario(moda).profile == "moda"  # no profile given: Moda


def test_ids_so_far_are_listed_sorted_and_an_unknown_of_says_none_yet() -> None:
    ids = "".join(f'[[steps]]\naction = "send"\nid = "{n}"\n' for n in ("b", "c", "a"))
    assert problems(f'{HEAD}[[steps]]\naction = "replay_stale"\nof = "a"\n{ids}') == [
        "steps[0].of: no earlier step has id 'a' (ids so far: none yet)"
    ]
    assert problems(f'{HEAD}{ids}[[steps]]\naction = "duplicate"\nof = "z"\n') == [
        "steps[3].of: no earlier step has id 'z' (ids so far: a, b, c)"
    ]


@pytest.mark.parametrize(
    ("after", "shown"),
    [("inf", "inf"), ("nan", "nan"), ("-0.5", "-0.5"), ("2592000.5", "2592000.5")],
)
def test_after_must_be_a_number_of_seconds_up_to_30_days(after: str, shown: str) -> None:
    found = problems(f'{HEAD}[[steps]]\naction = "advance"\nafter = {after}\n')
    assert found[0] == f"steps[0].after: {shown} is not a number of seconds from 0 to 2592000 (30 days)"


def test_after_that_is_not_a_number_is_the_schema_s_type_error() -> None:
    found = problems(f'{HEAD}[[steps]]\naction = "advance"\nafter = true\n')
    assert found == ["steps[0].after: True is not of type 'number'"]


@pytest.mark.parametrize("after", ["0", "0.001", "2592000", "2592000.0"])
def test_after_within_bounds_is_kept_as_seconds(after: str) -> None:
    step = parse_scenario(f'{HEAD}[[steps]]\naction = "advance"\nafter = {after}\n').steps[0]
    assert step.after == float(after) and isinstance(step.after, float)


def test_non_json_numbers_in_data_are_named_by_their_path_in_file_order() -> None:
    text = f"{HEAD}{SEND}data = {{ a = [1, {{ b = nan }}, -inf], c = inf, d = {{ e = 1.5 }} }}\n"
    assert problems(text) == [
        "steps[0].data.a[1].b: nan is not a JSON number; give a finite number",
        "steps[0].data.a[2]: -inf is not a JSON number; give a finite number",
        "steps[0].data.c: inf is not a JSON number; give a finite number",
    ]


def test_deep_data_is_walked_without_recursion() -> None:
    deep = "{ a = " * 200 + "inf" + " }" * 200
    found = problems(f"{HEAD}{SEND}data = {deep}\n")
    assert found == ["steps[0].data" + ".a" * 200 + ": inf is not a JSON number; give a finite number"]


def test_top_level_problems_say_top_level() -> None:
    assert problems("x = 1\n") == [
        "(top level): 'scenario' is a required property",
        "(top level): 'steps' is a required property",
        "(top level): Additional properties are not allowed ('x' was unexpected)",
    ]
    assert problems(f"steps = []\n{HEAD}") == ["steps: [] should be non-empty"]
    assert problems('[scenario]\nname = ""\n' + SEND) == ["scenario.name: '' should be non-empty"]


def test_unreadable_toml_says_what_to_do() -> None:
    assert problems("steps = 3 =\n") == [
        "not valid TOML: Expected newline or end of document after a statement (at line 1, column 11)"
    ]
    huge = f"{HEAD}{SEND}copies = {'9' * 5000}\n"
    assert problems(huge) == [
        "not readable TOML: an integer with more than 4300 digits; write it as a string"
    ]
    nested = f"{HEAD}{SEND}data = {{ a = {'[' * 3000}{']' * 3000} }}\n"
    assert problems(nested) == ["not readable TOML: arrays or inline tables nested too deeply; flatten them"]


def test_many_problems_are_cut_at_the_most_shown_and_say_how_many_more() -> None:
    text = HEAD + "".join(f'[[steps]]\naction = "send"\nevent = "bad{i}"\n' for i in range(MOST_PROBLEMS + 5))
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source="big.toml")
    lines = str(info.value).splitlines()
    assert lines[0] == f"scenario big.toml is not valid ({MOST_PROBLEMS + 5} problem(s)):"
    assert len(info.value.problems) == MOST_PROBLEMS + 5
    assert lines[1] == f"  - steps[0].event: 'bad0' is not a Moda event; choose one of {MODA_EVENTS}"
    assert lines[MOST_PROBLEMS].startswith(f"  - steps[{MOST_PROBLEMS - 1}].event: 'bad{MOST_PROBLEMS - 1}'")
    assert lines[MOST_PROBLEMS + 1 :] == ["  ... (5 more not shown)"]


def test_exactly_the_most_shown_needs_no_more_line() -> None:
    text = HEAD + "".join(f'[[steps]]\naction = "send"\nevent = "bad{i}"\n' for i in range(MOST_PROBLEMS))
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source="big.toml")
    lines = str(info.value).splitlines()
    assert lines[0] == f"scenario big.toml is not valid ({MOST_PROBLEMS} problem(s)):"
    assert len(lines) == MOST_PROBLEMS + 1 and "more not shown" not in lines[-1]


def test_a_schema_check_stopped_at_the_most_says_there_may_be_more() -> None:
    steps = "".join('[[steps]]\naction = "send"\nbad = 1\n' for _ in range(MOST_PROBLEMS + 20))
    with pytest.raises(ScenarioError) as info:
        parse_scenario(HEAD + steps, source="big.toml")
    first = str(info.value).splitlines()[0]
    assert first == (
        f"scenario big.toml is not valid ({MOST_PROBLEMS} problem(s); the schema check stopped "
        f"after {MOST_PROBLEMS}, there may be more):"
    )
    fewer = "".join('[[steps]]\naction = "send"\nbad = 1\n' for _ in range(MOST_PROBLEMS - 1))
    with pytest.raises(ScenarioError) as info:
        parse_scenario(HEAD + fewer, source="big.toml")
    first = str(info.value).splitlines()[0]
    assert first == f"scenario big.toml is not valid ({MOST_PROBLEMS - 1} problem(s)):"


def test_a_valid_file_becomes_steps_with_their_defaults(tmp_path: Path) -> None:
    path = tmp_path / "drill.toml"
    path.write_text(
        '[scenario]\nname = "drill"\ndescription = "what it drills"\n'
        '[[steps]]\naction = "send"\nid = "first"\nevent = "task.failed"\nfail_times = 2\n'
        'proxy = ["lost_ack:500"]\ndata = { progress = 3 }\nexpect = { status = "succeeded", effect = 1 }\n'
        '[[steps]]\naction = "duplicate"\nof = "first"\n'
        '[[steps]]\naction = "concurrent"\ncopies = 3\nname = "three at once"\n'
        '[[steps]]\naction = "advance"\nafter = 2\n',
        encoding="utf-8",
    )
    scenario = load_scenario(path)
    assert (scenario.name, scenario.profile, scenario.description, scenario.source) == (
        "drill", "moda", "what it drills", str(path),
    )  # fmt: skip
    first, dup, together, advance = scenario.steps
    assert (first.index, first.name, first.id, first.event) == (0, "send task.failed", "first", "task.failed")
    assert first.proxy == ("fail", "fail", "lost_ack:500")  # fail_times come first
    assert first.data == {"progress": 3} and first.expect == {"status": "succeeded", "effect": 1}
    assert (first.copies, first.after, first.of, first.events) == (5, None, None, ())
    assert (dup.name, dup.of, dup.proxy, dup.expect, dup.data) == ("duplicate first", "first", (), {}, {})
    assert (together.name, together.copies, together.path) == ("three at once", 3, "steps[2]")
    assert (advance.name, advance.after, advance.index) == ("advance", 2.0, 3)
    assert parse_scenario(f"{HEAD}{SEND}").source == "<string>"
    assert parse_scenario(f"{HEAD}{SEND}").description == ""


def test_an_unreadable_file_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(UsageError) as info:
        load_scenario(missing)
    assert str(info.value) == f"scenario file {str(missing)!r} does not exist"
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe[scenario]")
    with pytest.raises(UsageError) as info:
        load_scenario(binary)
    assert str(info.value).startswith(f"cannot read scenario file {str(binary)!r}: 'utf-8' codec")
    with pytest.raises(UsageError) as info:
        load_scenario(tmp_path)
    assert str(info.value).startswith(f"cannot read scenario file {str(tmp_path)!r}: [Errno 21]")


def test_with_an_unknown_profile_only_the_profile_is_reported_not_every_event() -> None:
    events = '[[steps]]\naction = "out_of_order"\nevents = ["a", "b"]\n'
    text = f'{HEAD}profile = "mod-io"\n{SEND}event = "ADD_MOD"\n{events}'
    assert problems(text) == [
        "scenario.profile: unknown profile 'mod-io'; choose one of: github, moda, modio, standard-webhooks"
    ]


PROFILES = "github, moda, modio, standard-webhooks"


@pytest.mark.parametrize(("value", "shown"), [('["moda"]', "['moda']"), ("{a = 1}", "{'a': 1}")])
def test_a_profile_that_is_a_list_or_a_table_is_named_with_the_choices(value: str, shown: str) -> None:
    assert problems(f"{HEAD}profile = {value}\n{SEND}") == [
        f"scenario.profile: {shown} is not a profile name; choose one of: {PROFILES}"
    ]


def test_get_profile_refuses_a_value_that_is_not_a_name() -> None:
    from hookmock.profiles import get_profile

    with pytest.raises(UsageError, match=r"\['moda'\] is not a profile name; choose one of"):
        get_profile(["moda"])  # type: ignore[arg-type]


TOP_FIELDS = ("name", "profile", "description")
STEP_FIELDS = ("action", "name", "id", "of", "event", "events", "data", "proxy", "fail_times", "copies")
STEP_FIELDS += ("after", "expect")


@pytest.mark.parametrize("value", ['["x"]', "{a = 1}", '[["x"]]', "[{a = 1}]"])
@pytest.mark.parametrize(
    "field", [f"scenario.{f}" for f in TOP_FIELDS] + [f"steps[0].{f}" for f in STEP_FIELDS]
)
def test_every_field_given_a_list_or_a_table_is_a_problem_at_its_path(field: str, value: str) -> None:
    """No field's value is looked up (in a dict or a set) before its type is checked: a wrong
    type is a problem at its path, never a ``TypeError``."""
    table, key = field.split(".")
    fields = {"scenario": {"name": '"x"', "profile": '"moda"'}, "steps[0]": {"action": '"send"'}}
    fields[table][key] = value
    text = "[scenario]\n" + "".join(f"{k} = {v}\n" for k, v in fields["scenario"].items())
    text += "[[steps]]\n" + "".join(f"{k} = {v}\n" for k, v in fields["steps[0]"].items())
    if key == "data" and value == "{a = 1}":  # a table is what data takes
        parse_scenario(text)
        return
    found = problems(text)
    assert any(p.startswith(field) for p in found), found


@pytest.mark.parametrize("verb", ["validate", "run"])
@pytest.mark.parametrize("value", ['["moda"]', "{a = 1}"])
def test_cli_says_which_profile_value_is_wrong_exit_2(tmp_path: Path, verb: str, value: str) -> None:
    import subprocess
    import sys

    path = tmp_path / "w.toml"
    path.write_text(f"{HEAD}profile = {value}\n{SEND}", encoding="utf-8")
    args = [sys.executable, "-m", "hookmock", "scenario", verb, str(path)]
    if verb == "run":
        args.append("http://127.0.0.1:9/hook")  # never reached: the file is refused first
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "scenario.profile:" in result.stderr and "is not a profile name; choose one of" in result.stderr
