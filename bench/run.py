"""Run hookmock's benchmarks: ``python bench/run.py [--smoke] [--json] [--only NAME]``.

Every figure is measured several times and the median reported; where a baseline is stated it is
measured in the same run and the ratio is what the target is checked against (these machines are
noisy: absolute times drift, ratios hold).  ``--smoke`` runs each figure briefly so CI keeps the
benchmarks from rotting; its numbers are not the published ones.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _harness import Figure

MODULES = [
    "bench_startup",
    "bench_delivery",
    "bench_receiver",
    "bench_peers",
    "bench_inflight",
    "bench_emulator",
    "bench_log",
    "bench_page",
    "bench_audit",
    "bench_storm",
    "bench_day",
    "soak",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds per figure, for CI")
    parser.add_argument("--json", action="store_true", help="print the figures as a JSON list")
    parser.add_argument("--only", action="append", default=[], help="only figures whose name has this")
    args = parser.parse_args(argv)
    figures: list[Figure] = []
    errors = 0
    if not args.json:
        print("| figure | value | baseline | ratio | target | met |\n|---|---|---|---|---|---|")
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        for fn in module.FIGURES:
            if args.only and not any(o in fn.__name__ for o in args.only):
                continue
            try:
                result = fn(args.smoke)
            except Exception as exc:  # a broken benchmark is reported, and fails the run
                errors += 1
                traceback.print_exc(file=sys.stderr)
                result = Figure(fn.__name__, None, "", "", False, note=f"error: {exc}")
            for fig in result if isinstance(result, list) else [result]:
                figures.append(fig)
                if not args.json:
                    print(fig.row(), flush=True)
    if args.json:
        print(json.dumps([f.as_dict() for f in figures], indent=2))
    else:
        print(
            f"\nmachine: {platform.machine()}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, {_cpus()} CPUs"
        )
    return 1 if errors else 0


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
