"""Storms through Locust: ``hookmock storm --workers 2`` (a master and 2 worker processes on loopback,
headless, a few seconds) and the locustfile of docs/how-to/storms.md, checked by a verifier written here.

Locust patches the process for gevent when imported, so it only ever runs in child processes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from hookmock.cli import main
from receivers.base import WerkzeugReceiver

pytestmark = pytest.mark.realtime
SECRET = "whsec_locust_storm_secret_0123456789"
STORMS_PAGE = Path(__file__).resolve().parents[1] / "docs/how-to/storms.md"
TOLERANCE_S = 300


class Verifier:
    """Wraps a receiver: checks every POST independently (HMAC-SHA256 over ``timestamp.body``, a
    fresh timestamp) and counts what it saw."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.seen: Counter[str] = Counter()

    def verdict(self, environ: dict[str, Any], body: bytes) -> str:
        ts = environ.get("HTTP_X_WEBHOOK_TIMESTAMP", "")
        sig = environ.get("HTTP_X_WEBHOOK_SIGNATURE", "")
        expected = "v1=" + hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sig.encode(), expected.encode()):
            return "bad-signature"
        return "valid" if abs(time.time() - int(ts)) <= TOLERANCE_S else "stale"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ["REQUEST_METHOD"] == "POST":
            import io

            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            with self.lock:
                self.seen[self.verdict(environ, body)] += 1
        return self.app(environ, start_response)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_distributed_storm_totals_agree_across_workers_receiver_and_report(capsys):
    receiver = WerkzeugReceiver("moda", SECRET)
    verifier = Verifier(receiver)
    with serving(verifier) as url:
        code = main(
            ["storm", url + "/hook", "--secret", SECRET, "--workers", "2", "--users", "4", "--duration", "2",
             "--duplicates", "0.2", "--concurrent-duplicates", "0.2", "--stale", "0.1",
             "--probe-url", url + "/effects/{event_id}", "--json"]
        )  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    assert len(report["workers"]) == 2 and all(n > 0 for n in report["workers"].values()), report
    received = sum(verifier.seen.values())
    # every request the workers report was received, and the report says the same
    assert report["requests"] == sum(report["workers"].values()) == received > 20, (report, verifier.seen)
    # Locust's master counts from the workers' statistics reports: never more than was sent
    assert 0 < report["locust_requests"] <= received
    # live copies verify; the stale replays are exactly the ones the verifier finds stale
    assert verifier.seen["bad-signature"] == 0
    assert verifier.seen["stale"] == report["stale"]["sent"] == report["stale"]["rejected"] > 0
    assert report["applied"]["1"] == report["events"] == sum(receiver.store.applied.values())
    assert report["applied"]["0"] == report["applied"][">1"] == 0


def _readme_locustfile() -> str:
    blocks = re.findall(r"```py\n(# locustfile\.py\n.*?)```", STORMS_PAGE.read_text(), re.S)
    assert len(blocks) == 1, "docs/how-to/storms.md has one ```py block starting '# locustfile.py'"
    return blocks[0]


def test_the_readme_locustfile_runs_headless(tmp_path):
    receiver = WerkzeugReceiver("moda", SECRET)
    verifier = Verifier(receiver)
    locustfile = tmp_path / "locustfile.py"
    locustfile.write_text(_readme_locustfile())
    with serving(verifier) as url:
        env = dict(os.environ, HOOKMOCK_SECRET=SECRET)
        done = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "-u", "2", "-r", "2",
             "-t", "2s", "--host", url, "--only-summary"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    # (a loaded machine may leave little of the 2 s once Locust has started: a few are enough)
    assert verifier.seen["valid"] > 0 and verifier.seen["bad-signature"] == 0
    # exit 0: Locust recorded no failure, so every live copy got a 2xx and every stale replay (the
    # locustfile's stale share; the verifier finds them stale) was rejected
    assert sum(receiver.store.applied.values()) > 0


def test_workers_without_locust_names_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "locust", None)  # as if it were not installed
    argv = ["storm", "http://127.0.0.1:1/hook", "--secret", SECRET, "--workers", "2", "--duration", "1"]
    assert main(argv) == 2
    assert 'pip install "hookmock[storm]"' in capsys.readouterr().err


def test_workers_refuse_what_locust_cannot_do(capsys):
    base = ["storm", "http://127.0.0.1:1/hook", "--secret", SECRET, "--workers", "2"]
    for extra, needle in [
        (["--count", "5"], "--count 5"),
        (["--duration", "1", "--rate", "10"], "--rate 10"),
        ([], "--duration"),
        (["--duration", "1", "--master-bind", "nope"], "'nope'"),
    ]:
        assert main([*base, *extra]) == 2
        assert needle in capsys.readouterr().err
