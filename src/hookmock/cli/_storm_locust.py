"""``hookmock storm --workers N``: Locust's distributed mode run locally (``hookmock[storm]``).

A headless Locust master and N worker processes run :class:`hookmock.locust.WebhookUser`; every
process writes what it sent into a private folder when it quits (workers on other machines report
to the master instead, over Locust's own messages).  This process, which never imports Locust,
then reads the probe for every event and computes the exactly-once verdict.
``--master-host HOST:PORT`` starts only the N workers, joining a master elsewhere.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
from typing import Any
from urllib.parse import urlsplit

from ..clock import RealClock
from ..errors import HookmockError, UsageError

_REAL = RealClock()

_LOCUSTFILE = """from hookmock.locust import {base} as _Base


class StormUser(_Base):
    pass
"""
#: How long after the run time the processes may take to stop before they are killed.
GRACE_S = 60.0


def _hostport(option: str, text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"{option} {text!r}: give HOST:PORT, e.g. 127.0.0.1:5557")
    return host.strip("[]"), int(port)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _check(args: argparse.Namespace) -> None:
    if importlib.util.find_spec("locust") is None:
        raise UsageError('--workers runs Locust, which is not installed: pip install "hookmock[storm]"')
    if args.workers is None:
        raise UsageError("--master-host needs --workers N: how many worker processes to start here")
    for option in ("count", "rate", "burst"):
        if getattr(args, option):
            raise UsageError(
                f"--{option} {getattr(args, option)} is not available with --workers (Locust runs for a "
                "time): give --duration SECONDS and --users N"
            )
    if args.duration is None:
        raise UsageError("--workers needs --duration SECONDS: how long Locust runs")
    if args.deadline is not None:
        raise UsageError("--deadline is not available with --workers; Locust users keep the profile's")


def _env(args: argparse.Namespace, secret: str, path: str, out_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HOOKMOCK_SECRET=secret,
        HOOKMOCK_STORM_PATH=path,
        HOOKMOCK_STORM_MIX=args.mix or "",
        HOOKMOCK_STORM_DUPLICATES=str(args.duplicates),
        HOOKMOCK_STORM_CONCURRENT_DUPLICATES=str(args.concurrent_duplicates),
        HOOKMOCK_STORM_STALE=str(args.stale),
        HOOKMOCK_STORM_OUT_DIR=out_dir,
    )
    return env


def _now() -> float:
    return _REAL.monotonic_ns() / 1e9


def _start(cmd: list[str], env: dict[str, str], quiet: bool) -> subprocess.Popen[bytes]:
    out = subprocess.DEVNULL if quiet else None
    return subprocess.Popen(cmd, env=env, stdout=out, stderr=out)


def _wait(procs: list[subprocess.Popen[bytes]], until: float) -> None:
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(max(0.1, until - _now()))
    for proc in procs:  # only the processes started here, by their own handle
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def run_distributed(args: argparse.Namespace, profile: Any, secret: str) -> int:
    from ..storm import StormOptions
    from ..transport.http import HTTPTransport

    _check(args)
    StormOptions(  # the shares, mix and profile are checked here, before any process starts
        profile=profile,
        secret=secret,
        duration_s=args.duration,
        mix=args.mix,
        duplicates=args.duplicates,
        concurrent_duplicates=args.concurrent_duplicates,
        stale=args.stale,
    ).check()
    HTTPTransport(allow_targets=tuple(args.allow_target)).check_target(args.url)
    parts = urlsplit(args.url)
    host = f"{parts.scheme}://{parts.netloc}"
    path = parts.path + (f"?{parts.query}" if parts.query else "") or "/"
    base = "ModaWebhookUser" if profile.name == "moda" else "ModioWebhookUser"
    users = args.users or 16
    with tempfile.TemporaryDirectory(prefix="hookmock-storm-") as out_dir:
        locustfile = os.path.join(out_dir, "hookmock_storm_locustfile.py")
        with open(locustfile, "w", encoding="utf-8") as fh:
            fh.write(_LOCUSTFILE.format(base=base))
        env = _env(args, secret, path, out_dir)
        quiet = bool(args.json)
        run = [sys.executable, "-m", "locust", "-f", locustfile, "--host", host]
        procs: list[subprocess.Popen[bytes]] = []
        try:
            if args.master_host is not None:
                mhost, mport = _hostport("--master-host", args.master_host)
                worker = [*run, "--worker", "--master-host", mhost, "--master-port", str(mport)]
                procs = [_start(worker, env, quiet) for _ in range(args.workers)]
                _wait(procs, _now() + args.duration + GRACE_S + 3600)
                print(f"{args.workers} worker(s) done; the master at {args.master_host} has the report")
                return 0
            bind, port = _hostport("--master-bind", args.master_bind or f"127.0.0.1:{_free_port()}")
            master = [
                *run,
                "--headless",
                "--master",
                "--master-bind-host",
                bind,
                "--master-bind-port",
                str(port),
                "--expect-workers",
                str(args.workers),
                "--expect-workers-max-wait",
                "60",
                "-u",
                str(users),
                "-r",
                str(users),
                "-t",
                f"{max(1, round(args.duration))}s",
                "--only-summary",
                "--stop-timeout",
                str(int(profile.deadline_s)),
                "--exit-code-on-error",
                "0",
            ]
            procs.append(_start(master, env, quiet))
            local = "127.0.0.1" if bind in ("0.0.0.0", "", "*") else bind
            worker = [*run, "--worker", "--master-host", local, "--master-port", str(port)]
            procs += [_start(worker, env, quiet) for _ in range(args.workers)]
            _wait(procs[:1], _now() + 60 + args.duration + GRACE_S)  # the master
            _wait(procs[1:], _now() + 15)  # workers quit with the master
        finally:
            _wait(procs, _now())
        summary = _gather(out_dir)
    return _report(args, profile, summary)


def _gather(out_dir: str) -> dict[str, Any]:
    """The master's summary, with each worker's report (from its own file, else the master's copy)."""
    try:
        with open(os.path.join(out_dir, "master.json"), encoding="utf-8") as fh:
            summary: dict[str, Any] = json.load(fh)
    except (OSError, ValueError):
        raise HookmockError(
            "the Locust master wrote no summary; run without --json to see its output"
        ) from None
    for name in os.listdir(out_dir):
        if name.startswith("worker-") and name.endswith(".json"):
            with open(os.path.join(out_dir, name), encoding="utf-8") as fh:
                data = json.load(fh)
            summary["workers"][data["worker"]] = data
    return summary


def _report(args: argparse.Namespace, profile: Any, summary: dict[str, Any]) -> int:
    from ..auditing.effect import effect_probe
    from ..storm import StormReport
    from ..storm.verify import count_applied
    from ._common import print_json

    applied = None
    probe = effect_probe(args.probe_url, allow_targets=tuple(args.allow_target), ca_file=args.ca_file)
    if probe is not None:
        seen: dict[str, bool] = {}
        for w in summary["workers"].values():
            for event_id, ok in w["events"].items():
                seen[event_id] = seen.get(event_id, False) or ok
        accepted = [e for e, ok in seen.items() if ok]
        applied = count_applied(probe, accepted, [e for e, ok in seen.items() if not ok], args.settle)
    report = StormReport.from_locust(
        summary,
        profile=profile.name,
        target=args.url,
        deadline_ns=profile.deadline_ns,
        applied=applied,
        max_p99_ms=args.max_p99,
        max_errors=args.max_errors,
    )
    if args.junit:
        with open(args.junit, "w", encoding="utf-8") as fh:
            fh.write(report.junit())
    if args.json:
        print_json(report.to_dict())
    else:
        print(report.text())
    return 0 if report.ok else 1
