"""The ``hookmock_emulator`` fixture's process: ``hookmock serve`` started once per session (per
xdist worker) on a free port, with its state file and database in the session's temporary folder.

Standard library only (the emulator itself runs in the child process).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

__all__ = ["EmulatorClock", "EmulatorProcess", "start_emulator"]

#: How long (real seconds) the emulator may take to become ready.
READY_TIMEOUT_S = 20.0


class EmulatorClock:
    """The emulator's clock, read from this process: every reading asks ``GET /_hookmock/clock``.

    Give it to a receiver of the emulator's callbacks so that it judges their timestamps at the
    emulator's time (the emulator's virtual clock runs in another process and only moves with
    :meth:`EmulatorProcess.advance`).  It cannot be moved from here: a wait on it (``sleep_ns``, a
    receiver's virtual-time fault) does not advance the emulator.
    """

    is_virtual = True

    def __init__(self, emulator: EmulatorProcess) -> None:
        self._emulator = emulator

    def __repr__(self) -> str:
        return f"<EmulatorClock of {self._emulator.base_url}>"

    def now_ns(self) -> int:
        return int(self._emulator.control("clock")["now_ns"])

    def monotonic_ns(self) -> int:
        return self.now_ns()

    def time(self) -> int:
        return self.now_ns() // 1_000_000_000

    def sleep_ns(self, ns: int) -> None:
        """Nothing to wait for: the emulator's time moves only when a test advances it."""


class EmulatorProcess:
    """A running ``hookmock serve`` and what a test needs to talk to it.

    ``base_url``, ``api_key``, ``signing_secret`` come from its state file.  ``request`` calls the
    API (with the API key), ``control`` the control API under ``/_hookmock/``; ``advance(seconds)``
    moves its virtual clock; ``reset()`` forgets every task and delivery (done before each test).
    ``clock`` reads the emulator's clock; ``receiver`` (set by the ``hookmock_emulator`` fixture) is
    a fake receiver for its Moda callbacks, bound to ``signing_secret`` and ``clock``.
    """

    def __init__(self, process: subprocess.Popen[bytes], state: dict[str, Any], workdir: Path) -> None:
        self.process = process
        self.state = state
        self.workdir = workdir
        self.base_url: str = state["base_url"]
        self.api_key: str = state["api_key"]
        self.signing_secret: str = state["signing_secret"]
        self.clock = EmulatorClock(self)
        self.receiver: Any = None

    def __repr__(self) -> str:  # never shows the key or the secret
        return f"<hookmock emulator {self.base_url} pid={self.process.pid}>"

    def request(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        timeout: float = 10.0,
    ) -> tuple[int, Any]:
        """``(status, decoded JSON or text)`` of one request to ``base_url + path``."""
        data = None if json_body is None else json.dumps(json_body).encode("utf-8")
        sent = {"Content-Type": "application/json"} if data is not None else {}
        if auth:
            sent["Authorization"] = f"Bearer {self.api_key}"
        sent.update(headers or {})
        req = urllib.request.Request(self.base_url + path, data=data, method=method.upper(), headers=sent)
        from ..transport._urllib import direct_opener

        opener = direct_opener()  # no proxy from the environment, no redirects
        try:
            with opener.open(req, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        text = raw.decode("utf-8", "replace")
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, text

    def control(self, path: str, json_body: Any = None, *, method: str | None = None) -> Any:
        """Call ``/_hookmock/<path>``; raises ``AssertionError`` unless it answered 2xx."""
        verb = method or ("POST" if json_body is not None else "GET")
        status, body = self.request(verb, "/_hookmock/" + path.lstrip("/"), json_body, auth=False)
        if not 200 <= status <= 299:
            raise AssertionError(f"emulator control {verb} /_hookmock/{path} answered {status}: {body}")
        return body

    def advance(self, seconds: float = 0, *, ms: int = 0) -> Any:
        """Move the emulator's virtual clock forward (due deliveries run)."""
        return self.control("clock/advance", {"seconds": seconds, "ms": ms})

    def reset(self) -> None:
        self.control("reset", {})

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.close()


def start_emulator(workdir: Path, extra_args: list[str]) -> EmulatorProcess:
    """Start ``hookmock serve --port 0`` and wait until its state file exists and it is ready."""
    workdir.mkdir(parents=True, exist_ok=True)
    state_file = workdir / "state.json"
    log_file = workdir / "emulator.log"
    cmd = [
        sys.executable,
        "-m",
        "hookmock",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--state-file",
        str(state_file),
        "--db",
        str(workdir / "emulator.sqlite3"),
        *extra_args,
    ]
    # the child writes to it for its whole life; its banner shows the API key and signing secret
    log = os.fdopen(os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
    env = {k: v for k, v in os.environ.items() if k != "HOOKMOCK_ADMIN_TOKEN"}
    process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    log.close()
    from ..clock import SECOND, RealClock

    wall = RealClock()
    deadline = wall.monotonic_ns() + int(READY_TIMEOUT_S * SECOND)
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"hookmock serve exited with code {process.returncode} before it was ready:\n"
                    + _shown_log(log_file)
                )
            if state_file.exists():
                try:
                    state = json.loads(state_file.read_text())
                except ValueError:
                    state = None
                if state:
                    emulator = EmulatorProcess(process, state, workdir)
                    with contextlib.suppress(OSError, AssertionError):
                        if emulator.control("ready").get("ready"):
                            return emulator
            if wall.monotonic_ns() > deadline:
                raise RuntimeError(
                    f"hookmock serve was not ready after {READY_TIMEOUT_S:.0f} s:\n" + _shown_log(log_file)
                )
            wall.sleep(0.02)
    except BaseException:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        raise


_BANNER_SECRET = re.compile(r"^(\s*(?:API key|signing secret)\s+)\S+", re.MULTILINE)


def _shown_log(log_file: Path) -> str:
    """The emulator's output for an error message (shown in test reports and CI logs): the
    banner's API key and signing secret are masked."""
    return _BANNER_SECRET.sub(r"\1(hidden)", log_file.read_text(errors="replace"))
