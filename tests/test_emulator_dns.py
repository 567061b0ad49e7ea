"""A callback host that stops resolving before its task ends: a failed attempt, never a lost event.

The resolution failure at fire time becomes an attempt with outcome ``dns_error``, retried on the
profile's schedule like any other failure; ``clock/advance`` answers 200; a restart while the name
still does not resolve starts normally; once it resolves again the one delivery succeeds.  The
name ``hooks.test`` resolves through an injected resolver to 127.0.0.1 (nothing leaves the
machine, no real DNS is asked).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hookmock.clock import SECOND, RealClock, VirtualClock
from hookmock.emulator import Emulator, EmulatorConfig
from hookmock.emulator.client import EmulatorClient
from hookmock.profiles import get_profile
from hookmock.receiver.server import FakeReceiver
from hookmock.transport.targets import ResolutionFailed


class FlakyDNS:
    """``hooks.test`` → 127.0.0.1 while ``up``; every other name never resolves."""

    def __init__(self) -> None:
        self.up = True
        self.asked = 0

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked += 1
        if host == "hooks.test" and self.up:
            return ["127.0.0.1"]
        raise ResolutionFailed(f"cannot resolve host {host!r}: Name or service not known")


@contextmanager
def emulator(db: Path, dns: FlakyDNS, secret: str, start_s: int) -> Iterator[tuple[Emulator, EmulatorClient]]:
    config = EmulatorConfig(
        port=0, clock="virtual", db_path=str(db), allow_http_callbacks=True, signing_secret=secret
    )
    emu = Emulator(config, clock=VirtualClock(start=start_s))
    emu.core.gateway._http.policy.resolver = dns  # before start(): recovery resolves through it too
    emu.start()
    try:
        yield emu, EmulatorClient(emu.base_url, emu.api_key)
    finally:
        emu.stop()


def test_a_callback_host_that_stops_resolving_is_a_retried_dns_error(tmp_path: Path) -> None:
    secret = get_profile("moda").generate_secret()
    receiver = FakeReceiver("moda", secret)
    receiver.script("ok")
    receiver.start()
    dns = FlakyDNS()
    db = tmp_path / "emu.db"
    callback = receiver.url.replace("127.0.0.1", "hooks.test")
    try:
        with emulator(db, dns, secret, RealClock().time()) as (emu, api):
            task = api.post("/v1/tasks", {"prompt": "dns", "callback_url": callback})  # resolves now
            dns.up = False
            status, body, _ = api.call("POST", "/_hookmock/clock/advance", {"seconds": 4})
            assert status == 200, body  # was 500: the webhook could not be accepted
            assert api.get(f"/v1/tasks/{task['id']}")["status"] == "succeeded"
            [row] = api.get("/v1/webhook_deliveries")["data"]
            assert (row["status"], row["attempts"], row["agent_job_id"]) == ("pending", 2, task["id"])
            timeline = api.get(f"/v1/webhook_deliveries/{row['id']}")["attempt_timeline"]
            assert [a["outcome"] for a in timeline] == ["dns_error", "dns_error"]
            assert "hooks.test" in timeline[0]["detail"]
            now_s = emu.core.clock.now_ns() // SECOND

        asked = dns.asked
        with emulator(db, dns, secret, now_s) as (emu, api):  # still down: starts all the same
            assert api.call("GET", "/_hookmock/ready")[0] == 200
            dns.up = True
            assert api.call("POST", "/_hookmock/clock/advance", {"seconds": 60})[0] == 200
            [again] = api.get("/v1/webhook_deliveries")["data"]
            assert again["id"] == row["id"] and (again["status"], again["attempts"]) == ("succeeded", 3)
        assert dns.asked > asked
        assert len(receiver.requests) == 1 and receiver.requests[0].verdict.ok
    finally:
        receiver.stop()


def test_a_host_that_never_resolves_again_fails_the_delivery_on_schedule(tmp_path: Path) -> None:
    secret = get_profile("moda").generate_secret()
    dns = FlakyDNS()
    with emulator(tmp_path / "emu.db", dns, secret, RealClock().time()) as (_emu, api):
        api.post("/v1/tasks", {"prompt": "gone", "callback_url": "http://hooks.test:9/x"})
        dns.up = False
        assert api.call("POST", "/_hookmock/clock/advance", {"seconds": 3600})[0] == 200
        [row] = api.get("/v1/webhook_deliveries")["data"]
        timeline = api.get(f"/v1/webhook_deliveries/{row['id']}")["attempt_timeline"]
        assert row["status"] == "failed" and len(timeline) == row["attempts"] > 1
        assert {a["outcome"] for a in timeline} == {"dns_error"}
