"""Crash safety: the emulator is killed with SIGKILL while deliveries are pending, again and again.

Each kill lands at a random moment or at an engine crash point (between "attempt recorded" and
"request sent", between "response received" and "result recorded"); after every restart on the same
database nothing is left in flight, attempt history only grows, ``integrity_check`` says ok, and a
final run delivers every accepted event at least once.  See ``tests/crash_support.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from crash_support import run_kill_loop

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


def test_kill_loop_smoke(tmp_path: Path) -> None:
    """Six kills: two at random moments and two at each crash point."""
    result = run_kill_loop(tmp_path, 6)
    print(result.summary())
    assert result.total_kills == 6
    assert result.at_point("after_attempt_recorded") >= 1 and result.at_point("after_response_received") >= 1
    # each kill at a crash point leaves exactly one attempt in flight, closed as interrupted later
    points = result.at_point("after_attempt_recorded") + result.at_point("after_response_received")
    assert result.deliveries >= 1 and result.interrupted >= points


@pytest.mark.slow
def test_kill_loop_full(tmp_path: Path) -> None:
    """Thirty kills (ten of each kind); run with ``pytest -m slow tests/test_crash_kill_loop.py``."""
    result = run_kill_loop(tmp_path, 30)
    print(result.summary())
    assert result.total_kills == 30
    assert result.at_point("after_attempt_recorded") >= 8 and result.at_point("after_response_received") >= 8
    points = result.at_point("after_attempt_recorded") + result.at_point("after_response_received")
    assert result.interrupted >= points
