"""`hookmock serve` as a process: ready quickly, state file, and kill -9 + restart loses nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hookmock.emulator.client import EmulatorClient
from hookmock.profiles import get_profile
from hookmock.receiver.server import FakeReceiver


def _serve(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[bytes], dict]:
    state = tmp_path / "state.json"
    if state.exists():
        state.unlink()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hookmock",
            "serve",
            "--port",
            "0",
            "--db",
            str(tmp_path / "emu.db"),
            "--state-file",
            str(state),
            "--clock",
            "virtual",
            "--allow-http-callbacks",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if state.exists():
            info = json.loads(state.read_text())
            if EmulatorClient(info["base_url"]).call("GET", "/_hookmock/ready")[0] == 200:
                return proc, info
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode() if proc.stderr else "serve exited")
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("hookmock serve was not ready within 20 s")


def test_kill_9_and_restart_on_the_same_db_loses_nothing(tmp_path):
    secret = get_profile("moda").generate_secret()
    receiver = FakeReceiver("moda", secret)
    receiver.script("500")
    receiver.start()
    procs = []
    try:
        proc, info = _serve(tmp_path, "--signing-secret", secret)
        procs.append(proc)
        assert oct(os.stat(tmp_path / "state.json").st_mode & 0o777) == "0o600"
        api = EmulatorClient(info["base_url"], info["api_key"])
        first = api.post("/v1/tasks", {"prompt": "first", "callback_url": receiver.url})
        api.advance(4)  # task done at +3 s; attempts at +3 s and +4 s fail; next retry due at +9 s
        [row] = api.get("/v1/webhook_deliveries")["data"]
        assert (row["status"], row["attempts"]) == ("pending", 2)
        second = api.post("/v1/tasks", {"prompt": "second", "callback_url": receiver.url})
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

        receiver.script("ok")
        proc, again = _serve(tmp_path)  # no --signing-secret: kept in the db
        procs.append(proc)
        assert again["api_key"] == info["api_key"] and again["signing_secret"] == secret
        api = EmulatorClient(again["base_url"], again["api_key"])
        assert api.get(f"/v1/tasks/{first['id']}")["status"] == "succeeded"
        assert api.get(f"/v1/tasks/{second['id']}")["status"] in ("queued", "running", "succeeded")
        api.advance(60)
        rows = {r["agent_job_id"]: r for r in api.get("/v1/webhook_deliveries")["data"]}
        assert rows[first["id"]]["id"] == row["id"]
        assert (rows[first["id"]]["status"], rows[first["id"]]["attempts"]) == ("succeeded", 3)
        assert rows[second["id"]]["status"] == "succeeded"
        assert api.get(f"/v1/tasks/{second['id']}")["status"] == "succeeded"
        assert all(r.verdict.ok for r in receiver.requests)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(10)
        receiver.stop()


def test_serve_banner_and_start_up_time(tmp_path):
    t0 = time.monotonic()
    proc, info = _serve(tmp_path, "--api-key", "moda_live_fixed")
    ready_s = time.monotonic() - t0
    try:
        assert info["api_key"] == "moda_live_fixed" and info["base_url"].startswith("http://127.0.0.1:")
        assert info["signing_secret"].startswith(get_profile("moda").generate_secret()[:6])
        assert ready_s < 10  # generous for CI; the figure (well under 1 s) is printed by bench/
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    text = out.decode()
    assert info["base_url"] in text and "moda_live_fixed" in text and info["signing_secret"] in text
    assert proc.returncode == 0


def test_serve_usage_errors_exit_2(capsys):
    from hookmock.cli import main

    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "HOOKMOCK_ADMIN_TOKEN" in capsys.readouterr().err
    assert main(["serve", "--port", "0", "--ca-file", "/nonexistent.pem"]) == 2


def test_demo_runs_and_exits_0(capsys):
    from hookmock.cli import main

    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "attempts=3" in out and "HTTP 500" in out and "HTTP 200" in out
