"""Every CLI command, run as real processes through a given launcher (``python -m hookmock`` under an
import blocker, or ``python3 hookmock.pyz``): used by tests/test_lean_install.py and tests/test_pyz.py.

Traffic stays on loopback: the receiver is ``hookmock listen --port 0``, the emulator ``hookmock serve
--port 0``; everything stops by itself (SIGINT / SIGTERM, bounded waits).
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import IO

SECRET = "whsec_" + "J" * 32
TIMEOUT_S = 90


def run(launcher: Sequence[str], *argv: str, env: dict[str, str], ok: Sequence[int] = (0,)) -> str:
    """Run one command to completion; fail with its output unless it exits with one of ``ok``."""
    done = subprocess.run(
        [*launcher, *argv], capture_output=True, text=True, env=env, timeout=TIMEOUT_S, check=False
    )
    assert done.returncode in ok, f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


class Background:
    """A long-running command (listen, serve) whose stdout is read line by line."""

    def __init__(self, launcher: Sequence[str], *argv: str, env: dict[str, str]) -> None:
        self.argv = argv
        self.proc = subprocess.Popen(
            [*launcher, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        assert self.proc.stdout is not None
        self.stdout: IO[str] = self.proc.stdout

    def readline(self, timeout: float = TIMEOUT_S) -> str:
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(self.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not box or not box[0]:
            self.stop(signal.SIGKILL)
            raise AssertionError(f"{self.argv[0]}: no line within {timeout} s; stderr: {self.stderr()}")
        return box[0]

    def stderr(self) -> str:
        assert self.proc.stderr is not None
        return self.proc.stderr.read() if self.proc.poll() is not None else "(still running)"

    def stop(self, signum: int) -> tuple[int, str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        try:
            out, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return self.proc.returncode, out, err


def wait_for_file(path: Path, proc: subprocess.Popen[str], timeout: float = TIMEOUT_S) -> dict:
    """The state file's JSON once it is there (written atomically, once the emulator is ready)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return json.loads(path.read_text())
        assert proc.poll() is None, f"serve exited {proc.returncode}: {proc.communicate()[1]}"
        time.sleep(0.02)
    raise AssertionError(f"no state file {path} within {timeout} s")


def serve_journey(launcher: Sequence[str], tmp: Path, env: dict[str, str]) -> float:
    """``serve --port 0 --state-file``: ready, answers a real HTTP request, SIGTERM exits 0.

    Returns the seconds from spawn to the state file (ready)."""
    state = tmp / "state.json"
    started = time.monotonic()
    serve = Background(launcher, "serve", "--port", "0", "--state-file", str(state), "--quiet", env=env)
    try:
        info = wait_for_file(state, serve.proc)
        ready_s = time.monotonic() - started
        assert info["base_url"].startswith("http://127.0.0.1:")
        waited = json.loads(run(launcher, "wait", str(state), "--timeout", "30", "--json", env=env))
        assert waited["base_url"] == info["base_url"]
        with urllib.request.urlopen(info["openapi"], timeout=30) as resp:
            served = json.load(resp)
        assert served == json.loads(run(launcher, "openapi", env=env))
        # an authenticated call to Moda's API: a design task is created
        request = urllib.request.Request(
            info["base_url"] + "/v1/tasks",
            data=json.dumps({"kind": "design", "prompt": "a lighthouse at dusk"}).encode(),
            headers={"Authorization": f"Bearer {info['api_key']}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as resp:
            assert resp.status == 202
            task = json.load(resp)
        assert task["kind"] == "design" and task["id"], task
    finally:
        code, _out, err = serve.stop(signal.SIGTERM)
    assert code == 0, err
    assert not state.exists()
    return ready_s


def receiver_journey(launcher: Sequence[str], tmp: Path, env: dict[str, str], *, full: bool = True) -> None:
    """``listen`` as the receiver; ``audit`` against it (and, when ``full``, ``send``, ``deliveries``,
    ``redeliver``, ``scenario run`` and ``storm``)."""
    listen = Background(launcher, "listen", "--port", "0", "--secret", SECRET, "--json", env=env)
    try:
        ready = json.loads(listen.readline())
        assert ready["type"] == "ready", ready
        url = ready["url"]
        junit = tmp / "audit.xml"
        report = json.loads(
            run(
                launcher,
                *("audit", url, "--secret", SECRET, "--only", "event-types", "--json", "--junit", str(junit)),
                env=env,
                ok=(0, 1),
            )
        )
        assert report, "an empty audit report"
        assert junit.read_text().startswith("<?xml")
        if not full:
            return
        db = str(tmp / "log.db")
        sent = run(launcher, "send", url, "--secret", SECRET, "--db", db, "--json", env=env)
        delivery = json.loads(sent.splitlines()[-1])  # one line per attempt, then the delivery
        assert delivery["status"] == "succeeded", sent
        listed = run(launcher, "deliveries", "--db", db, "--json", env=env)
        assert delivery["id"] in listed
        run(launcher, "redeliver", "--db", db, "--secret", SECRET, delivery["id"], env=env)
        run(launcher, "scenario", "run", "moda-lost-ack", url, "--secret", SECRET, env=env, ok=(0, 1))
        run(launcher, "storm", url, "--secret", SECRET, "--count", "5", "--rate", "50", env=env, ok=(0, 1))
    finally:
        code, _out, err = listen.stop(signal.SIGINT)
    assert code == 130, err


def offline_journey(launcher: Sequence[str], tmp: Path, env: dict[str, str]) -> None:
    """The commands that need no server: events, validate, sign, schema, openapi, scenario, demo."""
    assert run(launcher, "--version", env=env).startswith("hookmock ")
    assert "task.succeeded" in run(launcher, "events", "--profile", "moda", env=env)
    payload = tmp / "payload.json"
    payload.write_text(run(launcher, "events", "--example", "task.succeeded", "--seed", "1", env=env))
    run(launcher, "validate", str(payload), env=env)
    assert SECRET not in run(launcher, "sign", str(payload), "--secret", SECRET, env=env)
    assert "moda-envelope" in run(launcher, "schema", env=env)
    json.loads(run(launcher, "schema", "moda-envelope", "--bundle", env=env))
    run(launcher, "schema", "--out", str(tmp / "schemas"), env=env)
    assert json.loads(run(launcher, "serve", "--print-openapi", env=env))["openapi"].startswith("3.1")
    assert "moda-lost-ack" in run(launcher, "scenario", "list", env=env)
    run(launcher, "scenario", "validate", "moda-lost-ack", env=env)
    assert "done in" in run(launcher, "demo", env=env)
