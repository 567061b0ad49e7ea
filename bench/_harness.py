"""The benchmark harness: figures, medians, ratios against a baseline measured in the same run."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Figure", "median_of", "peak_kb", "run_cmd_ms", "timed_ms"]


@dataclass
class Figure:
    name: str
    value: float | None
    unit: str
    target: str
    met: bool | None
    baseline: float | None = None
    ratio: float | None = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def row(self) -> str:
        def fmt(x: float | None) -> str:
            if x is None:
                return "-"
            return f"{x:,.3f}" if abs(x) < 10 else f"{x:,.1f}"

        met = {True: "yes", False: "NO", None: "-"}[self.met]
        return (
            f"| {self.name} | {fmt(self.value)} {self.unit} | {fmt(self.baseline)} | {fmt(self.ratio)} | "
            f"{self.target} | {met} |" + (f" {self.note}" if self.note else "")
        )


def timed_ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def median_of(fn: Callable[[], object], runs: int) -> float:
    return statistics.median(timed_ms(fn) for _ in range(runs))


def run_cmd_ms(cmd: Sequence[str], runs: int, cwd: str | None = None) -> float:
    """Median wall time of running ``cmd`` (a fresh process each time), in ms."""

    def once() -> None:
        subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    once()  # warm the file cache
    return median_of(once, runs)


def python() -> str:
    return sys.executable


def peak_kb() -> int:
    """This process's own peak RSS in KiB (VmHWM; ``ru_maxrss`` starts at the parent's size after
    fork+exec, so it cannot show a child's growth)."""
    import resource

    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
