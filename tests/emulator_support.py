"""Shared helpers for the emulator tests (imported by tests/test_emulator_*.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hookmock.clock import RealClock, VirtualClock
from hookmock.emulator import Emulator, EmulatorConfig
from hookmock.emulator.client import EmulatorClient
from hookmock.profiles import get_profile
from hookmock.receiver.server import FakeReceiver


@contextmanager
def running(clock_obj: Any = None, **config: Any) -> Iterator[tuple[Emulator, EmulatorClient]]:
    config.setdefault("port", 0)
    config.setdefault("clock", "virtual")
    emulator = Emulator(EmulatorConfig(**config), clock=clock_obj).start()
    try:
        yield emulator, EmulatorClient(emulator.base_url, emulator.api_key)
    finally:
        emulator.stop()


@contextmanager
def stack(script: str = "ok", **config: Any) -> Iterator[tuple[Emulator, EmulatorClient, FakeReceiver]]:
    """An emulator on the virtual clock and an HTTPS fake receiver that trusts each other."""
    secret = get_profile("moda").generate_secret()
    clock = VirtualClock(start=RealClock().time())
    receiver = FakeReceiver("moda", secret, tls=True, clock=clock)
    receiver.script(script)
    receiver.start()
    try:
        with running(clock, signing_secret=secret, ca_file=receiver.ca_file, **config) as (emu, api):
            yield emu, api, receiver
    finally:
        receiver.stop()
