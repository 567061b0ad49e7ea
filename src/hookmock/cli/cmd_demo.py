"""hookmock demo: a self-contained tour of the emulator (a few seconds, offline)."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser(
        "demo",
        help="a short tour: the emulator, a fake receiver, a webhook that fails twice then succeeds",
        description="Start the emulator and an HTTPS fake receiver on loopback, create a Moda task whose "
        "webhook the receiver rejects twice, and show the deliveries and their timeline. Uses the "
        "virtual clock, so Moda's real retry waits cost no time.",
    )


def run(args: argparse.Namespace) -> int:
    from ..emulator import Emulator, EmulatorConfig
    from ..emulator.client import EmulatorClient
    from ..profiles import get_profile
    from ..receiver.server import FakeReceiver

    out = sys.stdout
    from ..clock import SECOND, RealClock

    wall = RealClock()
    t0 = wall.monotonic_ns()
    secret = get_profile("moda").generate_secret()
    receiver = FakeReceiver("moda", secret, tls=True)
    receiver.script("500,500,ok")
    receiver.start()
    try:
        config = EmulatorConfig(port=0, clock="virtual", ca_file=receiver.ca_file, signing_secret=secret)
        emulator = Emulator(config).start()
        try:
            api = EmulatorClient(emulator.base_url, emulator.api_key)
            out.write(
                f"1. emulator at {emulator.base_url} (virtual clock), receiver at {receiver.url} (HTTPS)\n"
            )
            task = api.post("/v1/tasks", {"prompt": "A summer sale poster", "callback_url": receiver.url})
            out.write(
                f"2. POST /v1/tasks -> {task['id']} ({task['status']}); "
                "the receiver answers 500, 500, then 200\n"
            )
            api.advance(60)
            task = api.get(f"/v1/tasks/{task['id']}")
            out.write(f"3. advanced the clock 60 s: task is {task['status']}\n")
            rows = api.get("/v1/webhook_deliveries")["data"]
            out.write("4. GET /v1/webhook_deliveries:\n")
            for row in rows:
                out.write(
                    f"   {row['id']}  {row['event_type']}  {row['status']}  attempts={row['attempts']}  "
                    f"last status={row['response_status_code']}\n"
                )
            detail = api.get(f"/v1/webhook_deliveries/{rows[0]['id']}")
            out.write("5. its attempt timeline:\n")
            first = None
            for a in detail["attempt_timeline"]:
                first = a["started_ns"] if first is None else first
                offset = (a["started_ns"] - first) / 1e9
                out.write(f"   #{a['number']}  +{offset:>4.0f} s  {a['outcome']}  HTTP {a['status_code']}\n")
            verdicts = [r.verdict.describe() if r.verdict else "?" for r in receiver.requests]
            out.write(f"6. the receiver got {len(verdicts)} signed requests: {', '.join(verdicts)}\n")
            ok = rows and rows[0]["status"] == "succeeded" and rows[0]["attempts"] == 3
        finally:
            emulator.stop()
    finally:
        receiver.stop()
    out.write(f"done in {(wall.monotonic_ns() - t0) / SECOND:.1f} s\n")
    return 0 if ok else 1
