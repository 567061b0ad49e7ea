"""Opt-in crash points for the crash-safety tests: die with SIGKILL at a named step of an attempt.

Set ``HOOKMOCK_CRASH_POINT`` before the process starts::

    HOOKMOCK_CRASH_POINT=after_attempt_recorded      # the first time that step is reached
    HOOKMOCK_CRASH_POINT=after_response_received:3   # the third time

``after_attempt_recorded``: the attempt row is committed in flight, no request sent yet.
``after_response_received``: the transport has returned, the result is not recorded yet.
``after_delivery_accepted``: the emulator has committed a new delivery (a task's webhook, a fired
Moda or mod.io event, a redelivery) and has not answered the client yet.

Unset (the normal case) :func:`reached` is one comparison and returns.  Only the crash tests and
``bench/`` set it; the process is killed the way ``kill -9`` would, with no cleanup at all.
"""

from __future__ import annotations

import os
import signal
import threading

__all__ = ["ENV", "POINTS", "reached"]

ENV = "HOOKMOCK_CRASH_POINT"
POINTS = ("after_attempt_recorded", "after_response_received", "after_delivery_accepted")


def _parse(value: str | None) -> tuple[str, int] | None:
    if not value:
        return None
    name, _, nth = value.partition(":")
    if name not in POINTS:
        raise ValueError(f"{ENV}={value!r} names no crash point; choose one of {', '.join(POINTS)}")
    try:
        count = int(nth) if nth else 1
    except ValueError:
        raise ValueError(f"{ENV}={value!r}: the part after ':' must be a whole number") from None
    if count < 1:
        raise ValueError(f"{ENV}={value!r}: the count must be at least 1")
    return name, count


_ARMED = _parse(os.environ.get(ENV))
_lock = threading.Lock()
_seen = 0


def reached(point: str) -> None:
    """Called by the engine at ``point``; kills this process if that is the armed crash point."""
    if _ARMED is None or point != _ARMED[0]:
        return
    global _seen
    with _lock:
        _seen += 1
        if _seen >= _ARMED[1]:
            os.kill(os.getpid(), signal.SIGKILL)
