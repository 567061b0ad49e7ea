"""Shared test configuration."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile(
    "dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(autouse=True)
def _modio_catalogue_restored() -> Iterator[None]:
    """mod.io event names registered by one test (register_event, the emulator's event-names route)
    are gone for the next: the catalogue is process-wide, and a stray name made coverage tests of the
    strategies miss real event types."""
    from hookmock.profiles import modio

    shapes, events = dict(modio._SHAPES), dict(modio._EVENTS)
    yield
    for table, saved in ((modio._SHAPES, shapes), (modio._EVENTS, events)):
        table.clear()
        table.update(saved)
