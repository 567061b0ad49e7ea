"""Smaller CLI messages a new user met: unknown filters rejected, JSON rows naming their profile, the
event catalogue, hints that name the option to add, a note that fits mod.io, Ctrl-C on ``send``,
and the emulator's ``doc_url``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hookmock.cli import main
from hookmock.delivery.log import DeliveryLog
from hookmock.profiles import get_profile
from hookmock.receiver.server import FakeReceiver
from hookmock.sender import Sender

SECRET = "whsec_" + "M" * 32


@pytest.fixture
def log_with_one(tmp_path: Path) -> str:
    db = str(tmp_path / "log.db")
    with FakeReceiver("moda", SECRET) as receiver, Sender("moda", SECRET, log=db) as sender:
        sender.send(receiver.url, "task.succeeded")
    return db


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--profile", "stripe"], "stripe"),
        (["--event-type", "task.exploded"], "--event-type 'task.exploded' is not an event type"),
        (["--profile", "modio", "--event-type", "task.succeeded"], "mod.io: ADD_MOD_COMMENT"),
    ],
)
def test_deliveries_rejects_unknown_filters(
    argv: list[str], message: str, log_with_one: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deliveries", "--db", log_with_one, *argv]) == 2
    assert message in capsys.readouterr().err


def test_deliveries_known_filters_and_json_rows_name_their_profile(
    log_with_one: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deliveries", "--db", log_with_one, "--event-type", "export.failed"]) == 0
    assert "no deliveries match" in capsys.readouterr().out
    assert main(["deliveries", "--db", log_with_one, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["data"]
    assert [r["profile"] for r in rows] == ["moda"]


def test_events_catalogue_says_inferred_once_and_has_a_description(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["events", "--profile", "modio"]) == 0
    out = capsys.readouterr().out
    assert "(inferred)" not in out and "inferred from the Rules Engine actions" in out
    assert main(["events", "--help"]) == 0
    assert "realistic payload" in capsys.readouterr().out
    from hookmock.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert sub.choices["events"].description  # type: ignore[attr-defined]


def test_events_example_of_another_profile_names_the_profile_to_add(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["events", "--example", "ADD_MOD"]) == 2
    assert "add --profile modio" in capsys.readouterr().err


def test_emulator_errors_point_at_the_readme_section() -> None:
    from hookmock.emulator.errors import ApiError, error_body

    body = error_body(ApiError("not_found", "task_not_found", "no task"), "req_1")
    assert body["error"]["doc_url"].endswith("#emulator-errors")


def test_modio_replay_note_does_not_speak_of_a_signature() -> None:
    from hookmock.scenarios import parse_scenario, run_scenario

    token = get_profile("modio").generate_secret()
    scenario = parse_scenario(
        '[scenario]\nname = "replay"\nprofile = "modio"\n'
        '[[steps]]\naction = "send"\nid = "a"\nevent = "ADD_MOD"\n'
        '[[steps]]\naction = "replay_stale"\nof = "a"\n'
    )
    with FakeReceiver("modio", token) as receiver:
        result = run_scenario(scenario, receiver.url, secret=token)
    note = result.steps[1].notes[0]
    assert "signed" not in note and "token" in note, note


def test_ctrl_c_on_send_says_how_to_deliver_again(tmp_path: Path) -> None:
    db = str(tmp_path / "log.db")
    with FakeReceiver("moda", SECRET) as receiver:
        receiver.script("500")
        proc = subprocess.Popen(
            [sys.executable, "-m", "hookmock", "send", receiver.url, "--secret", SECRET, "--db", db],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert proc.stdout is not None
        first = threading.Event()
        lines: list[str] = []

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                if line.startswith("attempt 1"):
                    first.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert first.wait(20), lines
        proc.send_signal(signal.SIGINT)  # during the wait before attempt 2
        _, err = proc.communicate(timeout=20)
        reader.join(5)
    assert proc.returncode == 130, err
    with DeliveryLog(db, create=False) as log:
        delivery_id = log.list().records[0].id
    assert f"hookmock send --resume {delivery_id} --db {db} --secret S" in err and "Traceback" not in err


def test_ctrl_c_while_the_command_is_still_loading_is_a_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A SIGINT in the first fraction of a second used to land in the imports of the command's
    modules (before the command's own handler) and print a KeyboardInterrupt traceback."""
    import hookmock.cli as cli

    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    monkeypatch.setattr(sys, "argv", ["hookmock", "send", "http://127.0.0.1:9/x"])
    with pytest.raises(SystemExit) as exit_:
        cli.run()
    assert exit_.value.code == 130
    assert capsys.readouterr().err == "interrupted\n"
