"""``serve --rate-limit N/s``: Moda's ``rate_limited`` answer (429) for a client's back-off tests.

A token bucket over the ``/v1`` routes, on wall time (a client backs off in real seconds even when
the emulator's clock is virtual): it holds ``N`` requests and refills at ``N`` per second.  A
request that finds it empty gets 429 ``rate_limited`` with ``Retry-After`` (whole seconds, rounded
up) and ``retry_after_ms``: when one request will be allowed again.  Off by default (faithful: Moda
documents the error type, not its limits).
"""

from __future__ import annotations

import math
import re
import threading

from ..clock import SECOND, RealClock
from ..errors import UsageError
from .errors import ApiError

__all__ = ["RateLimiter", "parse_rate"]

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*s)?\s*$")


def parse_rate(text: str) -> float:
    """``"5/s"`` (or ``"5"``) -> 5.0; a clear error for anything else."""
    m = _RATE.match(text)
    rate = float(m.group(1)) if m else 0.0
    if not m or not 0 < rate <= 100_000:
        raise UsageError(
            f"--rate-limit {text!r} is not a rate; give requests per second from 0.001 to 100000, such as 5/s"
        )
    return rate


class RateLimiter:
    def __init__(self, per_second: float) -> None:
        self.rate = per_second
        self.capacity = max(1.0, per_second)
        self._tokens = self.capacity
        self._wall = RealClock()
        self._last = self._wall.monotonic_ns()
        self._lock = threading.Lock()

    def check(self) -> None:
        """Take one request from the bucket, or raise the 429."""
        with self._lock:
            now = self._wall.monotonic_ns()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) / SECOND * self.rate)
            self._last = now
            if self._tokens >= 1:
                self._tokens -= 1
                return
            wait_ms = max(1, math.ceil((1 - self._tokens) / self.rate * 1000))
        raise ApiError(
            "rate_limited",
            "rate_limited",
            f"more than {self.rate:g} requests per second (the emulator's --rate-limit); "
            f"retry after {wait_ms} ms",
            retry_after_ms=wait_ms,
            headers={"Retry-After": str(math.ceil(wait_ms / 1000))},
            details={"limit_per_second": self.rate},
        )
