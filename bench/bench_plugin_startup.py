"""pytest start-up with and without hookmock's plugin, and what importing the plugin costs.

    python bench/bench_plugin_startup.py [--runs 9]

Runs ``python -m pytest --collect-only -q`` on a tiny test folder, ``--runs`` times with the plugin
and as many times with ``-p no:hookmock`` (interleaved, after a warm-up run of each), and prints
both medians and the difference; then ``python -X importtime -c "import pytest; import
hookmock.pytest_plugin"``'s cumulative figures for the plugin and the modules it pulls in (pytest
itself excluded).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _harness import Figure, process_cpu_ms, python

TESTS = "def test_one():\n    pass\n\n\ndef test_two():\n    assert 1 + 1 == 2\n"


def _once(cmd: list[str], cwd: str, env: dict[str, str] | None, cpu: bool = False) -> float:
    if cpu:
        return process_cpu_ms(cmd, cwd, env)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000


def startup_medians(runs: int, *, isolated: bool = False, cpu: bool = False) -> tuple[float, float]:
    """Median ms of pytest --collect-only with the plugin and with -p no:hookmock.

    ``isolated``: no other third-party plugin is loaded (``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``, the
    plugin named with ``-p``), so their start-up noise does not swamp the plugin's cost.
    ``cpu``: the processes' CPU time (user + system) instead of wall time (see ``process_cpu_ms``)."""
    env = None
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "test_tiny.py").write_text(TESTS)
        Path(tmp, "pytest.ini").write_text("[pytest]\n")
        cmd = [python(), "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        with_cmd, without_cmd = cmd, [*cmd, "-p", "no:hookmock"]
        if isolated:
            env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
            with_cmd, without_cmd = [*cmd, "-p", "hookmock.pytest_plugin"], cmd
        _once(with_cmd, tmp, env), _once(without_cmd, tmp, env)  # warm the file cache
        with_ms, without_ms = [], []
        for _ in range(runs):  # interleaved, so drift on a noisy machine hits both alike
            with_ms.append(_once(with_cmd, tmp, env, cpu))
            without_ms.append(_once(without_cmd, tmp, env, cpu))
    return statistics.median(with_ms), statistics.median(without_ms)


def plugin_import_us() -> dict[str, int]:
    """Cumulative import time (µs) of the plugin and of hookmock, from ``-X importtime``, with
    pytest imported first (pytest loads its plugins after importing itself)."""
    out = subprocess.run(
        [python(), "-X", "importtime", "-c", "import pytest; import hookmock.pytest_plugin"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.rstrip().endswith("| pytest"))
    out = "\n".join(lines[start + 1 :])
    figures: dict[str, int] = {}
    for line in lines[start + 1 :]:
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2].lstrip() in ("hookmock", "hookmock.pytest_plugin"):
            figures[parts[2].strip()] = int(parts[1])
    heavy = [
        m
        for m in ("werkzeug", "jsonschema", "faker", "hypothesis", "cryptography")
        if f"| {m}\n" in out + "\n"
    ]
    figures["heavy modules imported"] = len(heavy)
    return figures


def plugin_startup(smoke: bool) -> list[Figure]:
    with_ms, without_ms = startup_medians(3 if smoke else 9)
    iso_with, iso_without = startup_medians(5 if smoke else 21, isolated=True)
    imports = plugin_import_us()
    own_ms = imports.get("hookmock.pytest_plugin", 0) / 1000
    return [
        Figure(
            "pytest --collect-only, all installed plugins, hookmock vs -p no:hookmock (added)",
            with_ms - without_ms,
            "ms",
            "< 15 ms added",
            with_ms - without_ms < 15,
            without_ms,
            with_ms / without_ms,
            note="noisy: other plugins dominate",
        ),
        Figure(
            "pytest --collect-only, no other plugins, with vs without hookmock (added)",
            iso_with - iso_without,
            "ms",
            "< 15 ms added",
            iso_with - iso_without < 15,
            iso_without,
            iso_with / iso_without,
        ),
        Figure(
            "plugin's own modules at import (-X importtime, pytest excluded)",
            own_ms,
            "ms",
            "< 15 ms, nothing heavy",
            own_ms < 15 and imports["heavy modules imported"] == 0,
        ),
    ]


FIGURES = [plugin_startup]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="runs of each command (default 9)")
    args = parser.parse_args()
    for isolated, runs, title in (
        (False, args.runs, "every installed pytest plugin loaded"),
        (True, args.runs * 2 + 1, "no other third-party plugin (PYTEST_DISABLE_PLUGIN_AUTOLOAD=1)"),
    ):
        with_ms, without_ms = startup_medians(runs, isolated=isolated)
        print(f"pytest --collect-only on 2 tests, {title}: median of {runs} runs each")
        print(f"  with the hookmock plugin   {with_ms:8.1f} ms")
        print(f"  without it                 {without_ms:8.1f} ms")
        print(f"  added by the plugin        {with_ms - without_ms:8.1f} ms")
    imports = plugin_import_us()
    print(
        'python -X importtime -c "import pytest; import hookmock.pytest_plugin" (cumulative, pytest excluded)'
    )
    for name, value in imports.items():
        if name == "heavy modules imported":
            print(f"  {name:28s} {value}")
        else:
            print(f"  {name:28s} {value / 1000:8.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
