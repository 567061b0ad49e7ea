"""The emulator as a CI job runs it: ``hookmock serve`` in a subprocess, driven from a shell script.

Real processes and real sockets: the state file (removed at start and on exit, ``hookmock wait``),
the options from environment variables with a quiet or redacting banner, stopping by SIGTERM
(exit 0) and by SIGINT (exit 130), SIGINT included in a background job of a non-interactive shell,
where the shell starts the job with SIGINT ignored.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hookmock.cli import main

pytestmark = [
    pytest.mark.realtime,
    pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals"),
]

HOOKMOCK = [sys.executable, "-m", "hookmock"]


def _wait_state(path: Path, timeout: float = 20.0) -> dict:
    proc = subprocess.run(
        [*HOOKMOCK, "wait", str(path), "--timeout", str(timeout), "--json"],
        capture_output=True,
        text=True,
        timeout=timeout + 10,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKMOCK_")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def test_state_file_is_replaced_at_start_and_removed_on_exit(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    dead = {"base_url": "http://127.0.0.1:9", "api_key": "moda_live_dead", "pid": 1}
    state.write_text(json.dumps(dead))
    proc = subprocess.Popen(
        [*HOOKMOCK, "serve", "--port", "0", "--state-file", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    try:
        info = _wait_state(state)
        assert info["base_url"] != dead["base_url"] and info["pid"] == proc.pid
        assert set(info) == {
            "base_url",
            "api_key",
            "api_key_id",
            "signing_secret",
            "host",
            "port",
            "db",
            "clock",
            "pid",
            "openapi",
            "ui",
        }
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert not state.exists()  # a wait loop cannot read a dead emulator's address and keys


def test_wait_times_out_on_a_file_a_dead_emulator_left(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"base_url": "http://127.0.0.1:9"}))
    assert main(["wait", str(state), "--timeout", "0.3"]) == 1
    err = capsys.readouterr().err
    assert "not ready after 0.3 s" in err and "http://127.0.0.1:9 does not answer" in err
    assert main(["wait", str(tmp_path / "none.json"), "--timeout", "0"]) == 1
    assert "no state file yet" in capsys.readouterr().err


def test_every_state_field_is_in_serve_help(capsys: pytest.CaptureFixture[str]) -> None:
    from hookmock.cli.cmd_serve import STATE_FIELDS

    assert main(["serve", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for name in STATE_FIELDS:
        assert f"{name}:" in text
    for default in ("default 127.0.0.1", "default 8765", "default real", "default: in memory"):
        assert default in text
    assert "SIGTERM (exit 0)" in text and "exit 130" in text


def test_options_from_the_environment_and_a_redacted_banner(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    key, secret = "moda_live_fromENVkey123", "whsec_fromENVsecret0123456789"
    proc = subprocess.Popen(
        [*HOOKMOCK, "serve", "--redact-secrets"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(
            HOOKMOCK_PORT="0",
            HOOKMOCK_CLOCK="virtual",
            HOOKMOCK_STATE_FILE=str(state),
            HOOKMOCK_API_KEY=key,
            HOOKMOCK_SIGNING_SECRET=secret,
            HOOKMOCK_DB=str(tmp_path / "e.db"),
        ),
    )
    try:
        info = _wait_state(state)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert info["api_key"] == key and info["signing_secret"] == secret and info["clock"] == "virtual"
    assert info["db"] == str(tmp_path / "e.db")
    assert key not in out + err and secret not in out + err and "***" in out and info["base_url"] in out


def test_quiet_prints_nothing_and_a_bad_env_value_is_exit_2(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    proc = subprocess.Popen(
        [*HOOKMOCK, "serve", "--port", "0", "--state-file", str(state), "--secret", "whsec_" + "Q" * 32],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(HOOKMOCK_QUIET="1"),
    )
    try:
        assert _wait_state(state)["signing_secret"] == "whsec_" + "Q" * 32  # --secret: as elsewhere
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 130 and out == "", (out, err)
    bad = subprocess.run(
        [*HOOKMOCK, "serve"], capture_output=True, text=True, env=_env(HOOKMOCK_PORT="eighty"), timeout=30
    )
    assert bad.returncode == 2 and "'eighty' is not a number" in bad.stderr and "Traceback" not in bad.stderr
    bad = subprocess.run(
        [*HOOKMOCK, "serve", "--port", "0"],
        capture_output=True,
        text=True,
        env=_env(HOOKMOCK_QUIET="maybe"),
        timeout=30,
    )
    assert bad.returncode == 2 and "HOOKMOCK_QUIET='maybe'" in bad.stderr


@pytest.mark.parametrize("command", ["serve", "listen"])
def test_sigint_stops_a_background_job_of_a_non_interactive_shell(tmp_path: Path, command: str) -> None:
    """``sh -c 'hookmock serve & ...'`` starts the job with SIGINT ignored; it must still stop on it."""
    state = tmp_path / "s.json"
    args = " ".join([*HOOKMOCK, command, "--port", "0"])
    if command == "serve":
        args += f" --state-file {state}"
    log = tmp_path / "out.txt"
    script = f'{args} >{log} 2>&1 & echo "$!"; wait "$!"; echo "rc=$?"'
    env = _env(HOOKMOCK_SECRET="whsec_" + "L" * 32)
    shell = subprocess.Popen(["/bin/sh", "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    assert shell.stdout is not None
    pid = int(shell.stdout.readline())
    try:
        if command == "serve":
            _wait_state(state)
        else:  # listen prints its URL once its handlers are installed
            deadline = time.monotonic() + 20
            while not (log.exists() and "http://" in log.read_text()) and time.monotonic() < deadline:
                time.sleep(0.05)
        os.kill(pid, signal.SIGINT)
        out, _ = shell.communicate(timeout=20)
    finally:
        if shell.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            shell.communicate(timeout=10)
    assert out.strip().endswith("rc=130"), out


def test_every_serve_option_has_an_environment_variable() -> None:
    import argparse

    from hookmock.cli import build_parser
    from hookmock.cli.cmd_serve import ENV, NOT_SERVING, resolve

    serve = next(
        a.choices["serve"] for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    dests = {a.dest for a in serve._actions if not isinstance(a, argparse._HelpAction)}
    assert dests == set(ENV) | NOT_SERVING, dests ^ (set(ENV) | NOT_SERVING)
    args = serve.parse_args([])
    env = {
        "HOOKMOCK_MODIO_EVENT": "ADD_MOD_RATING, DELETE_MOD_RATING",
        "HOOKMOCK_RATE_LIMIT": "5/s",
        "HOOKMOCK_ALLOW_HTTP_CALLBACKS": "yes",
        "HOOKMOCK_SECRET": "whsec_fallback",
    }
    opts = resolve(args, env)
    assert opts["modio_event"] == ["ADD_MOD_RATING", "DELETE_MOD_RATING"] and opts["rate_limit"] == "5/s"
    assert opts["allow_http_callbacks"] is True and opts["signing_secret"] == "whsec_fallback"
    assert opts["port"] == 8765 and opts["host"] == "127.0.0.1" and opts["clock"] == "real"
    flagged = resolve(serve.parse_args(["--port", "0", "--modio-event", "X"]), {"HOOKMOCK_PORT": "9"})
    assert flagged["port"] == 0 and flagged["modio_event"] == ["X"]  # a flag wins over its variable


def test_wait_with_pid_stops_as_soon_as_the_server_exits(tmp_path: Path) -> None:
    """A serve that dies at start (its port taken) used to leave 'hookmock wait' blocking for the
    whole timeout; with --pid it says so at once."""
    first = subprocess.Popen(
        [*HOOKMOCK, "serve", "--port", "0", "--state-file", str(tmp_path / "a.json")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(),
    )
    try:
        port = _wait_state(tmp_path / "a.json")["port"]
        second = subprocess.Popen(
            [*HOOKMOCK, "serve", "--port", str(port), "--state-file", str(tmp_path / "b.json")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_env(),
        )
        waited = subprocess.run(
            [*HOOKMOCK, "wait", str(tmp_path / "b.json"), "--pid", str(second.pid), "--timeout", "60"],
            capture_output=True,
            text=True,
            timeout=50,
            env=_env(),
        )
        second.wait(10)
        assert waited.returncode == 1
        assert f"process {second.pid} exited before the emulator was ready" in waited.stderr
    finally:
        first.terminate()
        first.wait(15)


def test_wait_never_follows_a_redirect(tmp_path: Path) -> None:
    """The state file names where to ask; an answer of 302 is not ready, and is never followed."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    hits: list[str] = []

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(302)
            # a loopback target, so a regression that follows it shows up as a hit, not as traffic
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/followed")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        state = tmp_path / "s.json"
        state.write_text(json.dumps({"base_url": f"http://127.0.0.1:{server.server_port}"}))
        assert main(["wait", str(state), "--timeout", "0.5"]) == 1
        assert hits and all(h == "/_hookmock/ready" for h in hits)
    finally:
        server.shutdown()
