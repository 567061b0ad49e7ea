"""Ctrl-C on ``hookmock send`` and ``hookmock send --resume``: the hint is a command that works as
printed, and the original row ends in a final state (real process, real signal, real receiver)."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hookmock.cli import main
from hookmock.delivery.log import DeliveryLog
from hookmock.receiver.server import FakeReceiver

pytestmark = [
    pytest.mark.realtime,
    pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals"),
]

SECRET = "whsec_" + "R" * 32


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKMOCK_")}
    return {**env, "PYTHONUNBUFFERED": "1", "HOOKMOCK_SECRET": SECRET}


def _interrupt_send(url: str, db: str, receiver: FakeReceiver, *extra: str) -> str:
    """Start ``hookmock send``, SIGINT it while its first attempt is in flight; its stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "hookmock", "send", url, "--db", db, "--event", "task.succeeded", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    deadline = time.monotonic() + 20
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.02)
    assert receiver.requests, "the first attempt never arrived"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    return err


def test_interrupted_send_resumes_on_the_same_row_with_the_printed_command(tmp_path: Path) -> None:
    db = str(tmp_path / "send log.db")  # a space: the hint quotes it
    with FakeReceiver("moda", SECRET) as receiver:
        receiver.script("hang,ok")  # attempt 1 hangs until the sender goes away
        err = _interrupt_send(receiver.url, db, receiver)
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("interrupted: ") and "Traceback" not in err, err
        with DeliveryLog(db, create=False) as log:
            (row,) = log.list().records
            assert row.status == "pending"
            assert [a.outcome for a in log.attempts(row.id)] == ["interrupted"]  # not left in flight
        command = err.split("finish it with: ", 1)[1].strip()
        assert command == f"hookmock send --resume {row.id} --db {shlex.quote(db)}"
        argv = shlex.split(command)
        done = subprocess.run(
            [sys.executable, "-m", *argv], capture_output=True, text=True, env=_env(), timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert "resuming task.succeeded" in done.stdout and "succeeded" in done.stdout
    with DeliveryLog(db, create=False) as log:
        (final,) = log.list().records  # the same row, no new delivery
        assert final.id == row.id and final.status == "succeeded"
        assert [a.outcome for a in log.attempts(row.id)] == ["interrupted", "response"]


def test_hint_repeats_not_faithful_overrides_and_never_prints_the_secret(tmp_path: Path) -> None:
    db = str(tmp_path / "log.db")
    with FakeReceiver("moda", SECRET) as receiver:
        receiver.script("hang")
        err = _interrupt_send(receiver.url, db, receiver, "--secret", SECRET, "--retry-delays", "0.1")
    assert SECRET not in err and SECRET[6:] not in err
    assert "--retry-delays 0.1" in err and "--secret S (S: the signing secret you gave" in err


def test_resume_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "log.db")
    with FakeReceiver("moda", SECRET) as receiver:
        assert main(["send", receiver.url, "--db", db, "--secret", SECRET, "--event", "task.succeeded"]) == 0
    with DeliveryLog(db, create=False) as log:
        (row,) = log.list().records
    capsys.readouterr()
    assert main(["send", "--resume", row.id, "--secret", SECRET]) == 2
    assert "--resume needs --db PATH" in capsys.readouterr().err
    assert main(["send", "--resume", row.id, "--db", db, "--secret", SECRET]) == 2
    err = capsys.readouterr().err
    assert "already succeeded; nothing to resume" in err and f"hookmock redeliver {row.id}" in err
    assert main(["send", "http://127.0.0.1:9/x", "--resume", row.id, "--db", db, "--secret", SECRET]) == 2
    assert "drop URL" in capsys.readouterr().err
    assert main(["send", "--secret", SECRET]) == 2
    assert "the receiver's URL is required" in capsys.readouterr().err
