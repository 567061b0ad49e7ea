"""The CLI is consistent across commands (issue 16, item 12): positional targets, ``--secret``, help
on every option, defaults in ``serve --help``, full command names in errors, who gets blamed for an
unknown top-level option, and what ``serve`` says when it stops with a webhook in flight."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hookmock.cli import build_parser, main
from hookmock.receiver.server import FakeReceiver

SECRET = "whsec_" + "C" * 32


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                found += _parsers(child)
    return found


def test_every_option_and_argument_has_help() -> None:
    missing = [
        f"{p.prog} {a.option_strings or a.dest}"
        for p in _parsers(build_parser())
        for a in p._actions
        if not isinstance(a, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction))
        and not a.help
    ]
    assert missing == []


def test_scenario_run_takes_a_positional_target_and_keeps_target(capsys: pytest.CaptureFixture[str]) -> None:
    with FakeReceiver("moda", SECRET) as receiver:
        assert main(["scenario", "run", "moda-lost-ack", receiver.url, "--secret", SECRET, "--json"]) in (
            0,
            1,
        )
        assert '"steps"' in capsys.readouterr().out  # it ran against the positional URL
        code = main(
            ["scenario", "run", "moda-lost-ack", "--target", receiver.url, "--secret", SECRET, "--json"]
        )
        assert code in (0, 1) and '"steps"' in capsys.readouterr().out
    assert main(["scenario", "run", "moda-lost-ack", "--secret", SECRET]) == 2
    assert "hookmock scenario run: error: the receiver's URL is required" in capsys.readouterr().err
    argv = ["scenario", "run", "moda-lost-ack", "http://127.0.0.1:1/a", "--target", "http://127.0.0.1:1/b"]
    assert main([*argv, "--secret", SECRET]) == 2
    assert "two different targets" in capsys.readouterr().err


def test_errors_name_the_full_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "validate", "no-such-scenario"]) == 2
    assert capsys.readouterr().err.startswith("hookmock scenario validate: error: scenario file 'no-such")


def test_an_unknown_option_before_the_command_blames_hookmock_not_the_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--verbose", "demo"]) == 2
    err = capsys.readouterr().err
    assert "hookmock: error: unrecognized arguments: --verbose" in err and "hookmock demo" not in err
    assert main(["demo", "--verbose"]) == 2
    assert "hookmock demo: error: unrecognized arguments: --verbose" in capsys.readouterr().err


@pytest.mark.realtime
@pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals")
def test_serve_says_what_it_waits_for_when_stopped_with_a_webhook_in_flight(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKMOCK_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hookmock", "serve", "--port", "0", "--state-file", str(state),
         "--allow-http-callbacks", "--secret", SECRET],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    with FakeReceiver("moda", SECRET) as receiver:
        receiver.script("delay:1")  # holds the request a second, then answers
        try:
            assert main(["wait", str(state), "--timeout", "20"]) == 0
            import json

            from hookmock.emulator.client import EmulatorClient

            info = json.loads(state.read_text())
            api = EmulatorClient(info["base_url"], info["api_key"])
            fired = {"event_type": "task.succeeded", "callback_url": receiver.url}
            assert api.call("POST", "/_hookmock/moda/events", fired)[0] == 202
            deadline = time.monotonic() + 10
            while not receiver.requests and time.monotonic() < deadline:
                time.sleep(0.02)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate(timeout=10)
    assert proc.returncode == 130, err
    assert "stopping: waiting up to 5 s for 1 webhook attempt(s) in flight to finish" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["send", "{url}", "--secret", SECRET],
        ["scenario", "run", "moda-lost-ack", "{url}", "--secret", SECRET],
        ["audit", "{url}", "--secret", SECRET],
    ],
)
def test_an_unresolvable_host_is_a_usage_error_like_an_off_loopback_address(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No DNS query leaves the machine: the resolver is replaced by one that fails, as for a typo."""
    import socket

    def no_such_host(*_a: object, **_k: object) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)

    def run(url: str) -> tuple[int, str]:
        code = main([url if word == "{url}" else word for word in argv])
        return code, capsys.readouterr().err

    code, err = run("http://nosuch.example/hook")
    assert code == 2 and ": error: cannot resolve host 'nosuch.example'" in err and "Traceback" not in err
    code, err = run("http://192.0.2.1/hook")
    assert code == 2 and ": error: " in err and "not a loopback address" in err  # the same form
