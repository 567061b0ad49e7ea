"""hookmock wait STATE_FILE [--timeout S]: wait until the emulator that writes STATE_FILE is ready.

For scripts: ``hookmock serve --state-file s.json &`` then ``hookmock wait s.json``.  The emulator
removes the file at start and on exit, so a file left by a dead one is never taken for a live one;
and the file's ``base_url`` must also answer ``GET /_hookmock/ready`` before this returns.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import urllib.error
import urllib.request
from typing import Any

from ._common import print_json
from ._inputs import number

#: The longest wait accepted.
MAX_TIMEOUT_S = 3600.0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "wait",
        help="wait until an emulator (or a listen) started with --state-file is ready (for scripts)",
        description="Wait until STATE_FILE exists and the emulator it names answers its readiness route "
        "(for 'hookmock listen', until the file exists: it is written once listen accepts connections), "
        "then print its base URL (--json: the whole state file). Exit 0 ready, 1 timed out, 2 usage error.",
    )
    p.add_argument(
        "state_file",
        metavar="STATE_FILE",
        help="the --state-file given to 'hookmock serve' or 'hookmock listen'",
    )
    p.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=number("--timeout", 0, MAX_TIMEOUT_S),
        default=30.0,
        help="give up after this many seconds (default 30)",
    )
    p.add_argument("--json", action="store_true", help="print the state file's JSON (secrets included)")
    p.add_argument(
        "--pid",
        metavar="PID",
        type=number("--pid", 1, 2**31 - 1),
        default=None,
        help="the serve process ($! in a shell): stop waiting at once if it exits (e.g. its port was taken)",
    )


def _read(path: str) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read(1024 * 1024))
    except (OSError, ValueError):
        return None  # absent, or being replaced
    return data if isinstance(data, dict) and isinstance(data.get("base_url"), str) else None


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, someone else's
    try:  # a child that exited but was not reaped yet is a zombie: dead for this purpose
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except OSError:
        return True


def _ready(base_url: str) -> bool:
    if not base_url.startswith(("http://", "https://")):
        return False
    from ..transport._urllib import direct_opener

    try:  # no proxy from the environment, and a redirect is an answer, never followed
        with direct_opener().open(base_url + "/_hookmock/ready", timeout=2) as resp:
            return bool(resp.status == 200 and json.loads(resp.read(65536)).get("ready"))
    except (OSError, ValueError, urllib.error.URLError):
        return False


def run(args: argparse.Namespace) -> int:
    from ..clock import SECOND, RealClock

    wall = RealClock()
    end = wall.monotonic_ns() + round(args.timeout * SECOND)
    pause = threading.Event()
    state: dict[str, Any] | None = None
    while True:
        state = _read(args.state_file)
        if state is not None and (state.get("kind") == "listen" or _ready(state["base_url"])):
            break  # listen writes its file only once it accepts connections: its presence is enough
        if args.pid is not None and not _alive(int(args.pid)):
            print(
                f"hookmock wait: process {int(args.pid)} exited before the emulator was ready "
                f"({args.state_file}); see its output for why",
                file=sys.stderr,
            )
            return 1
        if wall.monotonic_ns() >= end:
            why = "no state file yet" if state is None else f"{state['base_url']} does not answer"
            print(
                f"hookmock wait: the emulator was not ready after {args.timeout:g} s ({why}: "
                f"{args.state_file}); is 'hookmock serve --state-file {args.state_file}' running?",
                file=sys.stderr,
            )
            return 1
        pause.wait(0.05)
    if args.json:
        print_json(state)
    else:
        print(state["base_url"], flush=True)
    return 0
