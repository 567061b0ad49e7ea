"""The benchmark harness: figures, medians, ratios against a baseline measured in the same run."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

#: Child processes (and this one) read and write compiled bytecode, as an installed package does: pip
#: compiles every module at install, so a user's ``hookmock serve`` never compiles its sources.  A
#: ``PYTHONDONTWRITEBYTECODE=1`` environment (some CI images and sandboxes set it) would otherwise make
#: every process of an editable install compile hookmock from source (about 0.4 s for ``serve``) while
#: the baselines' site-packages keep their .pyc files.  The cache goes to a folder under the temp dir,
#: not into the source tree.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False
os.environ.setdefault(
    "PYTHONPYCACHEPREFIX", os.path.join(tempfile.gettempdir(), f"hookmock-bench-pycache-{os.getuid()}")
)

__all__ = [
    "Figure",
    "cpu_us_per_call",
    "interleaved",
    "median_of",
    "peak_kb",
    "process_cpu_ms",
    "process_ms",
    "run_cmd_ms",
    "timed_ms",
    "wall_us_per_call",
]


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


def interleaved(
    baseline: Callable[[], float], subject: Callable[[], float], rounds: int
) -> tuple[float, float, float, tuple[float, float]]:
    """Alternate baseline and subject rounds (each returns its own per-unit figure); return the
    median baseline, the median subject, the median of the per-round ratios (subject / baseline)
    and that ratio's spread (min, max).  Drift in the machine's load hits both sides alike."""
    base: list[float] = []
    value: list[float] = []
    ratios: list[float] = []
    for i in range(rounds):
        if i % 2:  # alternate which side goes first, too
            v = subject()
            b = baseline()
        else:
            b = baseline()
            v = subject()
        base.append(b)
        value.append(v)
        ratios.append(v / b)
    return (
        statistics.median(base),
        statistics.median(value),
        statistics.median(ratios),
        (min(ratios), max(ratios)),
    )


def cpu_us_per_call(fn: Callable[[], object], n: int) -> float:
    """CPU µs of this thread per call of ``fn`` (``n`` calls): a neighbour's load does not count."""
    t = time.thread_time()
    for _ in range(n):
        fn()
    return (time.thread_time() - t) / n * 1e6


def wall_us_per_call(fn: Callable[[], object], n: int) -> float:
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n * 1e6


def process_ms(cmd: Sequence[str], cwd: str | None = None, env: dict[str, str] | None = None) -> float:
    """Wall ms of one run of ``cmd`` as a fresh process (its output discarded; it must succeed)."""
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000


def process_cpu_ms(cmd: Sequence[str], cwd: str | None = None, env: dict[str, str] | None = None) -> float:
    """CPU ms (user + system) one run of ``cmd`` took as a fresh process.  On a machine shared with
    busy neighbours wall time mostly measures the queue for a CPU; CPU time is what the process
    itself costs, and what start-up figures of a few ms can be resolved with."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
