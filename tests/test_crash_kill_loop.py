"""Crash safety: the emulator is killed with SIGKILL while deliveries are pending, again and again.

Each kill lands at a random moment or at a crash point (between "attempt recorded" and "request
sent", between "response received" and "result recorded", right after a delivery is accepted);
after every restart on the same database nothing is left in flight, attempt history only grows,
``integrity_check`` says ok, and a final run delivers every accepted event, with EXACTLY ONE
delivery per event (Moda events, task webhooks, mod.io entries).  See ``tests/crash_support.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from crash_support import run_kill_loop

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

POINTS = ("after_attempt_recorded", "after_response_received", "after_delivery_accepted")


def test_kill_loop_smoke(tmp_path: Path) -> None:
    """Eight kills: two at random moments and two at each crash point."""
    result = run_kill_loop(tmp_path, 8)
    print(result.summary())
    assert result.total_kills == 8
    assert all(result.at_point(p) >= 1 for p in POINTS), result.summary()
    # each kill at an engine crash point leaves one attempt in flight, closed as interrupted later
    points = result.at_point(POINTS[0]) + result.at_point(POINTS[1])
    assert result.deliveries >= 1 and result.tasks >= 1 and result.interrupted >= points


@pytest.mark.slow
def test_kill_loop_full(tmp_path: Path) -> None:
    """Forty kills (ten of each kind); run with ``pytest -m slow tests/test_crash_kill_loop.py``."""
    result = run_kill_loop(tmp_path, 40)
    print(result.summary())
    assert result.total_kills == 40
    assert all(result.at_point(p) >= 8 for p in POINTS), result.summary()
    points = result.at_point(POINTS[0]) + result.at_point(POINTS[1])
    assert result.interrupted >= points
