"""Scenario files: validation with error paths, the shipped examples against the receivers corpus,
and ``hookmock scenario`` against a receiver in a separate process."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import hookmock
from hookmock.cli import main
from hookmock.clock import VirtualClock
from hookmock.profiles import get_profile
from hookmock.scenarios import (
    ScenarioError,
    example_paths,
    load_scenario,
    parse_scenario,
    run_scenario,
)
from hookmock.validation import validate
from receivers import CORRECT, build
from receivers.broken import NoDedupeReceiver, RacyDedupeReceiver
from test_audit_cli import receiver_process

EXAMPLES = example_paths()


def _run(path: Path, factory, *, with_probe: bool = True):
    scenario = load_scenario(path)
    clock = VirtualClock()
    secret = get_profile(scenario.profile).generate_secret()
    app = build(factory, scenario.profile, secret, clock)
    probe = app.count if with_probe else None
    return run_scenario(scenario, app, secret=secret, probe=probe, clock=clock)


def test_examples_ship_and_cover_both_profiles() -> None:
    assert len(EXAMPLES) >= 5
    assert {load_scenario(p).profile for p in EXAMPLES} == {"moda", "modio"}
    actions = {s.action for p in EXAMPLES for s in load_scenario(p).steps}
    assert actions >= {"send", "duplicate", "replay_stale", "out_of_order", "concurrent"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("style", sorted(CORRECT))
def test_examples_pass_against_correct_receivers(path: Path, style: str) -> None:
    result = _run(path, CORRECT[style])
    assert result.ok, result.text()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_catch_a_receiver_without_deduplication(path: Path) -> None:
    result = _run(path, NoDedupeReceiver)
    assert not result.ok
    assert any("applied" in f for s in result.failed for f in s.failures), result.text()


@pytest.mark.realtime  # a real race: copies in threads at once, the receiver's 10 ms between check and insert
def test_concurrent_step_catches_the_check_then_insert_race() -> None:
    path = next(p for p in EXAMPLES if p.stem == "moda-replays-and-races")
    result = _run(path, RacyDedupeReceiver)
    assert [s.index for s in result.failed] == [2], result.text()


def test_attempt_times_are_exact_on_the_virtual_clock() -> None:
    path = next(p for p in EXAMPLES if p.stem == "moda-outage-and-redelivery")
    scenario = load_scenario(path)
    assert scenario.steps[0].expect["attempt_times"] == [0, 1, 6, 36]
    assert _run(path, CORRECT["werkzeug"]).ok
    wrong = parse_scenario(path.read_text().replace("[0, 1, 6, 36]", "[0, 1, 6, 35]"))
    clock = VirtualClock()
    app = build(CORRECT["werkzeug"], "moda", "whsec_t", clock)
    result = run_scenario(wrong, app, secret="whsec_t", probe=app.count, clock=clock)
    assert "attempts started at [0.0, 1.0, 6.0, 36.0] s" in result.failed[0].failures[0]


def test_effect_expectations_without_a_probe_are_noted_not_silently_passed() -> None:
    result = _run(EXAMPLES[0], CORRECT["flask"], with_probe=False)
    assert result.ok
    assert any("no effect probe" in n for s in result.steps for n in s.notes)


def test_the_schema_is_draft_2020_12_and_examples_validate() -> None:
    schema = hookmock.load_schema("scenario")
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["$id"].endswith("scenario.schema.json")
    import tomllib

    for path in EXAMPLES:
        validate(tomllib.loads(path.read_text()), "scenario")


@pytest.mark.parametrize(
    "text, where",
    [
        ('[scenario]\nname = "x"\n[[steps]]\naction = "explode"\n', "steps[0].action"),
        ('[scenario]\nname = "x"\n[[steps]]\naction = "send"\nevent = "task.nope"\n', "steps[0].event"),
        ('[scenario]\nname = "x"\n[[steps]]\naction = "duplicate"\nof = "ghost"\n', "steps[0].of"),
        ('[scenario]\nname = "x"\n[[steps]]\naction = "duplicate"\n', "steps[0]"),
        (
            '[scenario]\nname = "x"\n[[steps]]\naction = "send"\nproxy = ["lost_ack:bogus"]\n',
            "steps[0].proxy[0]",
        ),
        ('[scenario]\nname = "x"\n[[steps]]\naction = "send"\nproxy = ["explode"]\n', "steps[0].proxy[0]"),
        ('[scenario]\nname = "x"\nprofile = "nope"\n[[steps]]\naction = "send"\n', "scenario.profile"),
        ('[scenario]\nname = "x"\n[[steps]]\naction = "send"\nexpect = { effects = 1 }\n', "steps[0].expect"),
        ('[scenario]\nname = "x"\nsteps = 3 =\n', "not valid TOML"),
    ],
)
def test_errors_are_reported_with_their_path(text: str, where: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source="drill.toml")
    assert where in str(info.value)
    assert "drill.toml" in str(info.value)


def test_cli_validate_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "list"]) == 0
    assert "moda-lost-ack" in capsys.readouterr().out
    assert main(["scenario", "validate", str(EXAMPLES[0])]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\nname = "x"\n[[steps]]\naction = "send"\nevent = "NOPE"\n')
    assert main(["scenario", "validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "steps[0].event" in err and "Traceback" not in err


def test_cli_run_against_a_receiver_in_another_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "scenario.xml"
    with receiver_process("flask", "moda", "whsec_scn") as url:
        code = main(
            ["scenario", "run", "moda-replays-and-races", "--target", url + "webhook",
             "--secret", "whsec_scn", "--probe-url", url + "effects/{event_id}", "--json"]
        )  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert code == 0, doc
    assert doc["ok"] is True and len(doc["steps"]) == 4
    with receiver_process("NoDedupeReceiver", "modio", "tok_scn") as url:
        code = main(
            ["scenario", "run", "modio-retry-and-duplicates", "--target", url,
             "--secret", "tok_scn", "--probe-url", url + "effects/{event_id}", "--junit", str(junit)]
        )  # fmt: skip
    assert code == 1
    assert "applied 2 time(s)" in capsys.readouterr().out
    root = ET.parse(junit).getroot()
    assert root.find("testsuite") is not None
    assert any(c.find("failure") is not None for c in root.iter("testcase"))


def test_cli_run_usage_errors(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOOKMOCK_SECRET", raising=False)
    assert main(["scenario", "run", "no-such-drill", "--target", "http://127.0.0.1:1/", "--secret", "s"]) == 2
    assert main(["scenario", "run", "moda-lost-ack", "--target", "http://192.0.2.1/", "--secret", "s"]) == 2
    err = capsys.readouterr().err
    assert "not a shipped example" in err and "loopback" in err


def test_duplicate_proxy_action_forwards_two_copies_by_default_and_the_count_given() -> None:
    path = next(p for p in EXAMPLES if p.stem == "moda-duplicate-forwarding")
    assert _run(path, CORRECT["werkzeug"]).ok
    result = _run(path, NoDedupeReceiver)
    failures = {s.index: s.failures for s in result.failed}
    assert sorted(failures) == [0, 1, 2], result.text()
    assert any("applied 2 time(s), expected 1" in f for f in failures[0]), failures[0]
    assert any("applied 3 time(s), expected 1" in f for f in failures[1]), failures[1]
    assert any("applied 3 time(s), expected 1" in f for f in failures[2]), failures[2]
