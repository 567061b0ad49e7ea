"""The kill loop behind tests/test_crash_kill_loop.py (and bench/kill_loop.py): SIGKILL the emulator
again and again while deliveries are pending, restart it on the same database, and check the log.

One *cycle*: start ``hookmock serve --clock virtual`` on the database, fire a few Moda events through
the control API, create tasks with a callback and fire mod.io events, all at a loopback receiver,
while another thread advances the virtual clock (so tasks end and retries come due), and kill the
process: at a random real-time moment, or at a crash point (``HOOKMOCK_CRASH_POINT``, the Nth time it
is reached: in the engine around an attempt, or in the emulator right after a delivery is accepted).
While it is dead, the attempt rows are read and compared with the previous snapshot (rows are only
added, or completed once from in flight; never changed afterwards, never deleted) and
``PRAGMA integrity_check`` is run.  After the restart, every attempt that was in flight at the kill
must be completed as ``interrupted``.  A final clean run
drains everything: every delivery ever accepted ends ``succeeded`` and its event reached the receiver,
every event has EXACTLY ONE delivery (no redelivery is asked for), and every task knows its delivery.

The receiver fails each event's first two receipts (one of them slowly, so kills land in flight) and
accepts later ones, so no delivery can use up Moda's retry budget; interrupted attempts do not count.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hookmock.delivery.crashpoint import ENV as CRASH_ENV
from hookmock.delivery.crashpoint import POINTS
from hookmock.emulator.client import EmulatorClient
from hookmock.profiles import get_profile

__all__ = ["KillLoopResult", "LoopReceiver", "run_kill_loop"]

MODES = ("timed", *POINTS)
#: (delivery id, attempt number) -> (started_ns, duration_ns, outcome, status, excerpt, detail, timestamp)
Snapshot = dict[tuple[str, int], tuple[Any, ...]]


class LoopReceiver:
    """Loopback receiver: per event id, receipt 1 → 500, receipt 2 → slow 500, later → 200 (some slow);
    on ``/modio`` (mod.io has no automatic retries) always 200."""

    def __init__(self, seed: int) -> None:
        self.lock = threading.Lock()
        self.receipts: Counter[str] = Counter()
        self.accepted: Counter[str] = Counter()  # event id -> 200s sent
        self.rng = random.Random(seed)
        self.final = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                try:
                    parsed = json.loads(body)
                    event_id = str(parsed.get("id") or parsed["event_uuid"])  # Moda, mod.io
                except (ValueError, KeyError, TypeError, AttributeError):
                    event_id = "?"
                # mod.io never retries by itself: its entries are accepted at once
                status, delay = outer.decide(event_id, always=self.path.endswith("/modio"))
                if delay:
                    time.sleep(delay)
                reply = b"ok" if status == 200 else b"try again"
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:  # the emulator was killed while we answered
                    return
                if status == 200:
                    with outer.lock:
                        outer.accepted[event_id] += 1

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.modio_url = f"http://127.0.0.1:{self.server.server_port}/modio"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})

    def decide(self, event_id: str, *, always: bool = False) -> tuple[int, float]:
        with self.lock:
            self.receipts[event_id] += 1
            n = self.receipts[event_id]
            slow = self.rng.uniform(0.02, 0.15)
            if self.final or always or n >= 3:
                return 200, slow if self.rng.random() < 0.3 else 0.0
            return 500, slow if n == 2 else 0.0

    def __enter__(self) -> LoopReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@dataclass
class KillLoopResult:
    seed: int
    kills: Counter[str] = field(default_factory=Counter)
    deliveries: int = 0
    tasks: int = 0
    acknowledged: int = 0
    attempts: int = 0
    interrupted: int = 0
    in_flight_at_kills: int = 0
    rows_completed_across_restarts: int = 0
    duplicates_received: int = 0
    integrity_checks: int = 0
    seconds: float = 0.0

    def at_point(self, point: str) -> int:
        """Kills made by the engine at ``point`` (while serving or while resending at start-up)."""
        return sum(n for mode, n in self.kills.items() if mode.startswith(point))

    @property
    def total_kills(self) -> int:
        return sum(self.kills.values())

    def summary(self) -> str:
        modes = ", ".join(f"{k}={v}" for k, v in sorted(self.kills.items()))
        return (
            f"seed={self.seed} kills={self.total_kills} ({modes}) deliveries={self.deliveries} "
            f"(one per event; {self.tasks} of tasks) "
            f"(acknowledged {self.acknowledged}) attempts={self.attempts} interrupted={self.interrupted} "
            f"in-flight-at-kill={self.in_flight_at_kills} completed-after-restart="
            f"{self.rows_completed_across_restarts} duplicates={self.duplicates_received} "
            f"integrity_check ok x{self.integrity_checks} in {self.seconds:.1f} s"
        )


def snapshot(db: Path) -> Snapshot:
    with sqlite3.connect(db, timeout=30) as conn:
        rows = conn.execute(
            "SELECT d.id, a.number, a.started_ns, a.duration_ns, a.outcome, a.status, a.excerpt, a.detail, "
            "a.timestamp FROM attempts a JOIN deliveries d ON d.seq = a.delivery_seq"
        ).fetchall()
    conn.close()
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return ",".join(r[0] for r in conn.execute("PRAGMA integrity_check").fetchall())
    finally:
        conn.close()


def compare(before: Snapshot, after: Snapshot) -> int:
    """Assert ``after`` only adds rows or completes in-flight ones; returns how many were completed."""
    completed = 0
    for key, old in before.items():
        assert key in after, f"attempt row {key} was deleted"
        new = after[key]
        if old[2] == "in_flight":
            assert new[0] == old[0], f"attempt {key} changed its start: {old} -> {new}"
            completed += new[2] != "in_flight"
        else:
            assert new == old, f"completed attempt {key} was rewritten: {old} -> {new}"
    return completed


class Emu:
    def __init__(self, tmp: Path, db: Path, secret: str, crash: str | None) -> None:
        self.state = tmp / "state.json"
        if self.state.exists():
            self.state.unlink()
        env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
        if crash:
            env[CRASH_ENV] = crash
        self.stderr = open(tmp / "serve-stderr.txt", "ab")  # noqa: SIM115 - closed in wait()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hookmock",
                "serve",
                "--port",
                "0",
                "--db",
                str(db),
                "--state-file",
                str(self.state),
                "--clock",
                "virtual",
                "--allow-http-callbacks",
                "--signing-secret",
                secret,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
        )
        deadline = time.monotonic() + 30
        while True:
            if self.state.exists():
                try:
                    info = json.loads(self.state.read_text())
                except ValueError:
                    info = None
                try:
                    ready = bool(info) and (
                        EmulatorClient(info["base_url"], timeout=5).call("GET", "/_hookmock/ready")[0] == 200
                    )
                except OSError:  # not listening yet (or a state file left by the process just killed)
                    ready = False
                if ready:
                    break
            if self.proc.poll() is not None:
                if crash and self.proc.returncode == -signal.SIGKILL:
                    # the crash point was reached while recovered deliveries were resent at start-up
                    self.api = None
                    return
                raise AssertionError(f"hookmock serve exited with {self.proc.returncode} before it was ready")
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError("hookmock serve was not ready within 30 s")
            time.sleep(0.02)
        self.api: EmulatorClient | None = EmulatorClient(info["base_url"], info["api_key"], timeout=10)

    def wait(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        finally:
            if self.proc.poll() is not None:
                self.stderr.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.stderr.close()


def _traffic(
    emu: Emu, receiver: LoopReceiver, events: int, advances: int, acked: list[str], stop: threading.Event
) -> None:
    """Send ``events`` events of each kind (a fired Moda event, a task with a callback, a mod.io
    event) and advance the virtual clock; stops quietly when the process dies."""

    api = emu.api
    assert api is not None

    def fire() -> None:
        api.call("PUT", "/_hookmock/modio/games/7/webhook", {"url": receiver.modio_url, "token": "t" * 32})
        for _ in range(events):
            if stop.is_set():
                return
            event = {"event_type": "task.succeeded", "callback_url": receiver.url}
            status, body, _ = api.call("POST", "/_hookmock/moda/events", event)
            if status == 202:
                acked.append(body["id"])
            api.call("POST", "/v1/tasks", {"prompt": "kill loop", "callback_url": receiver.url})
            status, body, _ = api.call("POST", "/_hookmock/modio/games/7/events", {"event_name": "ADD_MOD"})
            if status == 202:
                acked.append(body["id"])

    def advance() -> None:
        for _ in range(advances):
            if stop.is_set():
                return
            api.call("POST", "/_hookmock/clock/advance", {"seconds": 1})

    def guarded(fn: Any) -> None:
        with contextlib.suppress(OSError, http.client.HTTPException):  # the process was killed
            fn()

    threads = [threading.Thread(target=guarded, args=(f,), daemon=True) for f in (fire, advance)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)


def _wait_for_crash(emu: Emu, traffic: threading.Thread, timeout: float) -> int | None:
    """Wait for the engine to die at its crash point.  The traffic thread fires events and advances
    the clock concurrently: on a loaded machine the advances may all come before the events, which
    are then not due yet, and the point is never reached.  Once the traffic is over, keep moving
    the clock a second at a time, so every fired event comes due."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = emu.wait(0.25)
        if code is not None:
            return code
        if not traffic.is_alive() and emu.api is not None:
            with contextlib.suppress(OSError, http.client.HTTPException):  # it died meanwhile
                emu.api.call("POST", "/_hookmock/clock/advance", {"seconds": 1})
    return None


def run_kill_loop(
    tmp: Path,
    kills: int,
    *,
    seed: int | None = None,
    events_per_cycle: int = 4,
    modes: tuple[str, ...] = MODES,
) -> KillLoopResult:
    """``kills`` kill/restart cycles (``modes`` in rotation), then a clean drain; asserts as it goes."""
    seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    result = KillLoopResult(seed)
    db = tmp / "emulator.db"
    secret = get_profile("moda").generate_secret()
    acked: list[str] = []
    start = time.monotonic()
    with LoopReceiver(seed) as receiver:
        previous: Snapshot = {}
        for cycle in range(kills):
            mode = modes[cycle % len(modes)]
            crash = None if mode == "timed" else f"{mode}:{rng.randint(1, 3)}"
            emu = Emu(tmp, db, secret, crash)
            # recovery ran before the emulator said ready (or before it resent anything and died at
            # the crash point): every attempt in flight at the last kill is now closed as interrupted
            now = snapshot(db)
            for key, row in previous.items():
                if row[2] == "in_flight":
                    assert now[key][2] == "interrupted", f"seed={seed}: {key} left in flight: {now[key]}"
            stop = threading.Event()
            traffic = threading.Thread(
                target=_traffic, args=(emu, receiver, events_per_cycle, 3, acked, stop), daemon=True
            )
            if emu.api is None:
                killed_by = f"{mode} (during recovery)"
            elif mode == "timed":
                traffic.start()
                time.sleep(rng.uniform(0.05, 0.6))
                emu.kill()
                killed_by = "timed"
            else:
                traffic.start()
                code = _wait_for_crash(emu, traffic, 8.0)
                if code is None:  # the point was not reached N times: kill it from outside
                    emu.kill()
                    killed_by = "timed (crash point not reached)"
                else:
                    killed_by = mode
            assert emu.proc.returncode == -signal.SIGKILL, (
                f"seed={seed}: serve exited {emu.proc.returncode}; see {tmp / 'serve-stderr.txt'}"
            )
            stop.set()
            if traffic.is_alive():
                traffic.join(20)
            result.kills[killed_by] += 1
            check = integrity(db)
            assert check == "ok", f"seed={seed}: integrity_check after kill {cycle + 1}: {check}"
            result.integrity_checks += 1
            current = snapshot(db)
            result.rows_completed_across_restarts += compare(previous, current)
            result.in_flight_at_kills += sum(1 for r in current.values() if r[2] == "in_flight")
            previous = current

        receiver.final = True  # a clean run drains everything that is left
        emu = Emu(tmp, db, secret, None)
        assert emu.api is not None
        try:
            for _ in range(40):
                with sqlite3.connect(db, timeout=30) as conn:
                    pending = conn.execute(
                        "SELECT count(*) FROM deliveries WHERE status = 'pending'"
                    ).fetchone()[0]
                conn.close()
                if not pending:
                    break
                emu.api.advance(40)
            emu.proc.send_signal(signal.SIGTERM)
            assert emu.wait(15) == 0, f"seed={seed}: serve did not stop cleanly"
        finally:
            if emu.proc.poll() is None:
                emu.kill()
        final = snapshot(db)
        result.rows_completed_across_restarts += compare(previous, final)
        check = integrity(db)
        assert check == "ok", f"seed={seed}: final integrity_check: {check}"
        result.integrity_checks += 1
        with sqlite3.connect(db, timeout=30) as conn:
            rows = conn.execute("SELECT id, event_id, status, replayed_from_id FROM deliveries").fetchall()
            tasks = conn.execute(
                "SELECT id, status, event_id, delivery_id FROM emu_tasks WHERE callback_url IS NOT NULL"
            ).fetchall()
            linked = dict(conn.execute("SELECT id, agent_job_id FROM deliveries").fetchall())
        conn.close()
        ids = {r[0] for r in rows}
        assert set(acked) <= ids, f"seed={seed}: acknowledged deliveries missing: {set(acked) - ids}"
        assert {r[2] for r in rows} == {"succeeded"}, f"seed={seed}: {Counter(r[2] for r in rows)}"
        assert not [k for k, r in final.items() if r[2] == "in_flight"], (
            f"seed={seed}: attempts left in flight"
        )
        # exactly one delivery per event (nothing here asks for a redelivery)
        per_event = Counter(r[1] for r in rows if r[3] is None)
        twice = {e: n for e, n in per_event.items() if n != 1}
        assert not twice, f"seed={seed}: events with more than one delivery: {twice}"
        assert all(r[3] is None for r in rows), f"seed={seed}: a redelivery nobody asked for"
        # every task ended with its one webhook, and knows it
        for task_id, status, event_id, delivery_id in tasks:
            assert status == "succeeded" and delivery_id in ids, f"seed={seed}: {task_id} lost its webhook"
            assert linked[delivery_id] == task_id and per_event[event_id] == 1
        result.tasks = len(tasks)
        missing = {r[1] for r in rows} - set(receiver.accepted)
        assert not missing, f"seed={seed}: events never delivered: {missing}"
        result.deliveries = len(rows)
        result.acknowledged = len(set(acked))
        result.attempts = len(final)
        result.interrupted = sum(1 for r in final.values() if r[2] == "interrupted")
        result.duplicates_received = sum(n - 1 for n in receiver.accepted.values() if n > 1)
    result.seconds = time.monotonic() - start
    return result
