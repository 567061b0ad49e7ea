"""The receiver audit against a healthy in-process receiver (a WSGI app, no server).

The receiver is the README's correct one, for each profile: it verifies the raw bytes with
``hookmock.verify``, rejects anything it cannot verify or parse with a 4xx, and applies each
event id once.  Every run must pass (no check failed); the median wall time of the whole audit
is reported, warm (in this process) and cold (a fresh process: import, first schema load, audit).

    python bench/bench_audit.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _harness import Figure, python

TARGET_S = 2.0


class HealthyReceiver:
    """A correct receiver: verify first, 400 for anything unverifiable, each event applied once."""

    def __init__(self, profile: str, secret: str) -> None:
        import hookmock

        self.hookmock = hookmock
        self.profile = hookmock.get_profile(profile)
        self.secret = secret
        self.applied: dict[str, int] = {}
        self.lock = threading.Lock()

    def count(self, event_id: str) -> int:
        with self.lock:
            return self.applied.get(event_id, 0)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {k[5:].replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")}
        if "CONTENT_TYPE" in environ:
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        try:
            self.hookmock.verify(self.profile, headers, body, self.secret)
            event = json.loads(body)
            event_id = self.profile.event_id(event)
            if not isinstance(event_id, str):
                raise ValueError("no event id")
        except (self.hookmock.VerificationError, ValueError, KeyError, TypeError, AttributeError):
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"rejected"]
        with self.lock:
            self.applied[event_id] = 1  # idempotent on the event id
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


def audit_once(profile: str) -> tuple[float, dict[str, Any]]:
    """Seconds one whole audit took, and its summary; raises if the healthy receiver failed."""
    import hookmock

    secret = hookmock.get_profile(profile).generate_secret()
    receiver = HealthyReceiver(profile, secret)
    start = time.perf_counter()
    report = hookmock.audit(receiver, profile=profile, secret=secret, probe=receiver.count)
    elapsed = time.perf_counter() - start
    if not report.ok:
        raise RuntimeError(f"the healthy {profile} receiver failed the audit:\n{report.text()}")
    return elapsed, dict(report.summary)


COLD = r"""
import sys, time
start = time.perf_counter()
sys.path.insert(0, sys.argv[1])
from bench_audit import audit_once
audit_once(sys.argv[2])
print(time.perf_counter() - start)
"""


def cold_s(profile: str) -> float:
    out = subprocess.run(
        [python(), "-c", COLD, str(Path(__file__).parent), profile],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def figures(runs: int) -> list[Figure]:
    out: list[Figure] = []
    for profile in ("moda", "modio"):
        audit_once(profile)  # warm: schemas loaded, jsonschema imported
        times, summary = [], {}
        for _ in range(runs):
            elapsed, summary = audit_once(profile)
            times.append(elapsed)
        warm = statistics.median(times)
        cold = statistics.median(cold_s(profile) for _ in range(max(1, runs // 2)))
        note = (
            f"{summary.get('pass')} pass, {summary.get('fail')} fail, {summary.get('skip')} skip, "
            f"{summary.get('requests')} requests"
        )
        out.append(
            Figure(
                f"audit of a healthy in-process {profile} receiver",
                warm,
                "s",
                f"< {TARGET_S:g} s",
                warm < TARGET_S,
                note=note,
            )
        )
        out.append(
            Figure(
                f"audit of a healthy in-process {profile} receiver, fresh process (import included)",
                cold,
                "s",
                f"< {TARGET_S:g} s",
                cold < TARGET_S,
            )
        )
    return out


def audit_figures(smoke: bool) -> list[Figure]:
    return figures(2 if smoke else 7)


FIGURES = [audit_figures]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    for fig in figures(args.runs):
        print(fig.row(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
