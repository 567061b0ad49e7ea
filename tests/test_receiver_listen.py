"""`hookmock listen` run as a real subprocess on a free port, sent to by hookmock's Sender."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import IO

import pytest
from werkzeug import Request, Response
from werkzeug.serving import make_server

from hookmock.cli import main
from hookmock.sender import Sender

SECRET = "whsec_" + "L" * 32


class Listen:
    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hookmock", "listen", "--port", "0", "--secret", SECRET, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.proc.stdout is not None
        self.stdout: IO[str] = self.proc.stdout
        self.lines: list[str] = []

    def readline(self, timeout: float = 10.0) -> str:
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(self.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not box:
            self.stop()
            raise AssertionError(f"no output from hookmock listen within {timeout}s; got {self.lines}")
        self.lines.append(box[0])
        return box[0]

    def stop(self) -> tuple[str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=10)
        return out, err


@pytest.fixture
def sender() -> Iterator[Sender]:
    # Real clock, short waits between retries so the run takes well under a second.
    with Sender("moda", SECRET, retry_delays_s=[0.05, 0.05, 0.05]) as s:
        yield s


def test_listen_json_prints_one_object_per_request(sender: Sender) -> None:
    listen = Listen("--profile", "moda", "--script", "503,ok", "--json")
    ready = json.loads(listen.readline())
    assert ready["type"] == "ready" and ready["url"].startswith("http://127.0.0.1:")
    delivery = sender.send(ready["url"].replace("/webhook", "/any/path"), "task.succeeded")
    rows = [json.loads(listen.readline()) for _ in range(2)]
    out, err = listen.stop()
    assert listen.proc.returncode == 130, err  # SIGINT: 130, as every command
    assert [a.status for a in delivery.attempts] == [503, 200]
    assert [r["status"] for r in rows] == [503, 200]
    assert all(r["path"] == "/any/path" and r["event_id"] == delivery.event_id for r in rows)
    assert all(
        r["verified"] is True and r["fresh"] is True and r["event_type"] == "task.succeeded" for r in rows
    )
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary == {
        "type": "summary",
        "requests": 2,
        "verified": 2,
        "answers": {"HTTP 503": 1, "HTTP 200": 1},
    }
    assert SECRET not in out + err + "".join(listen.lines)
    assert "Traceback" not in err


def test_listen_human_output_shows_a_bad_signature() -> None:
    listen = Listen("--profile", "moda")
    assert "listening on" in listen.readline()
    assert "Ctrl-C" in listen.readline()  # no script or forward lines without those options
    port = int(listen.lines[0].split("127.0.0.1:")[1].split("/")[0])
    with Sender("moda", "whsec_" + "x" * 32) as wrong:
        wrong.send(f"http://127.0.0.1:{port}/hook", "task.failed")
    line = listen.readline()
    out, _ = listen.stop()
    assert "bad_signature" in line and "-> HTTP 200" in line
    assert "stopped: 1 request(s), 0 verified" in out


def test_listen_forward_to_is_a_lost_ack_proxy(sender: Sender) -> None:
    applied: list[str] = []

    def app(environ: dict[str, object], start_response: object) -> object:
        applied.append(json.loads(Request(environ).get_data())["id"])  # type: ignore[arg-type]
        return Response("done")(environ, start_response)  # type: ignore[arg-type]

    upstream = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=upstream.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        listen = Listen("--json", "--forward-to", f"http://127.0.0.1:{upstream.port}", "--script", "500,ok")
        url = json.loads(listen.readline())["url"]
        delivery = sender.send(url, "task.succeeded")
        rows = [json.loads(listen.readline()) for _ in range(2)]
        listen.stop()
    finally:
        upstream.shutdown()
        thread.join()
    assert [a.status for a in delivery.attempts] == [500, 200]
    assert applied == [delivery.event_id, delivery.event_id]  # the app applied it, the ack was lost
    assert [r["status"] for r in rows] == [500, 200]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["listen", "--profile", "moda"], "--secret"),
        (["listen", "--secret", "s", "--script", "500,bogus"], "bogus"),
        (["listen", "--secret", "s", "--port", "70000"], "--port"),
        (["listen", "--secret", "s", "--state-file", "/nonexistent-folder/state.json"], "does not exist"),
        (["listen", "--secret", "s", "--state-file", "/"], "is a directory"),
        (["listen", "--secret", "s", "--forward-to", "http://203.0.113.9/hook"], "--allow-target"),
    ],
)
def test_listen_usage_errors_exit_2_without_traceback(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOOKMOCK_SECRET", raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_listen_state_file_is_the_readiness_signal_for_a_script(tmp_path) -> None:
    """--state-file appears (0600, no secret) once listen accepts connections; `hookmock wait`
    prints its address without sending it a request; SIGTERM removes the file."""
    state = tmp_path / "listen.json"
    listen = Listen("--state-file", str(state))
    try:
        waited = subprocess.run(
            [sys.executable, "-m", "hookmock", "wait", str(state), "--pid", str(listen.proc.pid)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert waited.returncode == 0, waited.stderr
        data = json.loads(state.read_text())
        assert data["kind"] == "listen" and data["pid"] == listen.proc.pid and data["profile"] == "moda"
        assert waited.stdout.strip() == data["base_url"] == f"http://127.0.0.1:{data['port']}"
        assert oct(state.stat().st_mode & 0o777) == "0o600" and SECRET not in state.read_text()
        with Sender("moda", SECRET) as s:
            delivery = s.send(data["url"], "task.succeeded")
        assert delivery.status == "succeeded"
        listen.proc.send_signal(signal.SIGTERM)
        out, _ = listen.proc.communicate(timeout=10)
        assert listen.proc.returncode == 0
        assert "stopped: 1 request(s), 1 verified" in out  # wait sent nothing; the delivery came
        assert not state.exists()
    finally:
        if listen.proc.poll() is None:
            listen.stop()
