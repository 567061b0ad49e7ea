"""``hookmock audit`` against receivers running in separate processes, over real sockets."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hookmock.cli import main

TESTS = Path(__file__).resolve().parent


@contextmanager
def receiver_process(name: str, profile: str, secret: str) -> Iterator[str]:
    env = dict(os.environ, PYTHONPATH=str(TESTS) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-m", "receivers", name, profile, secret],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=TESTS,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cli_json_against_a_correct_flask_receiver(capsys: pytest.CaptureFixture[str]) -> None:
    with receiver_process("flask", "moda", "whsec_cli_good") as url:
        started = time.perf_counter()
        code = main(
            ["audit", url + "webhook", "--profile", "moda", "--secret", "whsec_cli_good",
             "--probe-url", url + "effects/{event_id}", "--json"]
        )  # fmt: skip
        elapsed = time.perf_counter() - started
    out = capsys.readouterr().out
    doc = json.loads(out)  # exactly one JSON document
    assert code == 0, out
    assert doc["summary"]["fail"] == 0
    assert doc["target"] == url + "webhook"
    assert {c["name"] for c in doc["checks"] if c["status"] == "pass"} >= {"idempotency", "signature"}
    assert elapsed < 10


def test_cli_against_a_broken_receiver_exits_1_with_text_and_junit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "audit.xml"
    with receiver_process("NoDedupeReceiver", "modio", "cli-token-value") as url:
        code = main(
            ["audit", url, "--profile", "modio", "--secret", "cli-token-value",
             "--probe-url", url + "effects/{event_id}", "--junit", str(junit), "--report-dir", str(tmp_path)]
        )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1
    assert "fail  #10 idempotency" in out
    assert "cli-token-value" not in out
    root = ET.parse(junit).getroot()
    failed = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
    assert "idempotency" in failed


def test_cli_unreachable_target_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    port = _free_port()
    code = main(["audit", f"http://127.0.0.1:{port}/", "--profile", "moda", "--secret", "whsec_x"])
    assert code == 2
    assert "cannot reach" in capsys.readouterr().err


def test_cli_unreachable_target_writes_a_junit_error_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """Exit 2 still leaves a JUnit file, so the CI report says why no check ran."""
    port = _free_port()
    junit = tmp_path / "audit.xml"
    url = f"http://127.0.0.1:{port}/"
    assert main(["audit", url, "--secret", "whsec_x", "--junit", str(junit)]) == 2
    err = capsys.readouterr().err
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1" and suite.get("tests") == "1"
    error = suite.find("testcase/error")
    assert error is not None and "cannot reach" in (error.get("message") or "")
    assert url in (error.text or "") and (error.get("message") or "") in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["audit", "http://192.0.2.1/", "--secret", "s"], "not a loopback address"),
        (["audit", "ftp://127.0.0.1/", "--secret", "s"], "http"),
        (["audit", "http://127.0.0.1:1/", "--profile", "nope", "--secret", "s"], "unknown profile"),
        (["audit", "http://127.0.0.1:1/", "--secret", "s", "--probe-url", "http://127.0.0.1/x"], "event_id"),
        (["audit", "http://127.0.0.1:1/", "--secret", "s", "--only", "bogus"], "unknown audit check"),
        (["audit", "http://127.0.0.1:1/", "--secret", "s", "--junit", "/nonexistent/dir/x.xml"], "--junit"),
    ],
)
def test_cli_usage_errors_exit_2_without_traceback(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOOKMOCK_SECRET", raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_cli_missing_secret_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOOKMOCK_SECRET", raising=False)
    assert main(["audit", "http://127.0.0.1:1/"]) == 2
    assert "--secret" in capsys.readouterr().err


def test_cli_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "http://127.0.0.1:1/", "--list"]) == 0
    out = capsys.readouterr().out
    assert "idempotency" in out and "#10" in out


def test_cli_as_a_subprocess_exit_codes() -> None:
    with receiver_process("werkzeug", "moda", "whsec_sub") as url:
        good = subprocess.run(
            [sys.executable, "-m", "hookmock", "audit", url, "--secret", "whsec_sub", "--json"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        bad = subprocess.run(
            [sys.executable, "-m", "hookmock", "audit", url, "--secret", "whsec_wrong", "--json"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert good.returncode == 0, good.stdout + good.stderr
    assert json.loads(good.stdout)["summary"]["ok"] is True
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["checks"][0]["status"] == "fail"
    assert "whsec_wrong" not in bad.stdout


def test_cli_seed_makes_the_events_reproducible_and_report_dir_holds_long_bodies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from receivers.hostile import ParseFirstCrashReceiver

    def ids(seed: str) -> list[str]:
        with receiver_process("flask", "moda", "whsec_cli_seed") as url:
            argv = ["audit", url, "--secret", "whsec_cli_seed", "--seed", seed, "--json"]
            code = main([*argv, "--only", "event-types"])
        assert code == 0
        doc = json.loads(capsys.readouterr().out)
        sent = [c["sent"] for check in doc["checks"] for c in check["cases"]]
        # the id's last 16 characters come from the seed (the first 10 are the time)
        return [s.split("evt_", 1)[1][10:26] for s in sent]

    first = ids("7")
    assert len(first) == 6 and first == ids("7") and first != ids("8")
    assert main(["audit", "http://127.0.0.1:1/", "--secret", "s", "--seed", "x"]) == 2
    assert "--seed 'x' is not an integer" in capsys.readouterr().err

    report_dir = tmp_path / "bodies"
    with receiver_process(ParseFirstCrashReceiver.__name__, "moda", "whsec_cli_dir") as url:
        code = main(["audit", url, "--secret", "whsec_cli_dir", "--report-dir", str(report_dir)])
    out = capsys.readouterr().out
    assert code == 1
    assert f"long bodies and headers are in {report_dir}" in out
    assert any(f"--data-binary @{p}" in out for p in report_dir.iterdir())
