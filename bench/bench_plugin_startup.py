"""pytest start-up with and without hookmock's plugin, and what importing the plugin costs.

    python bench/bench_plugin_startup.py [--runs 9]

Runs ``python -m pytest --collect-only -q`` on a tiny test folder, ``--runs`` times with the plugin
and as many times with ``-p no:hookmock`` (interleaved, after a warm-up run of each), and prints
both medians and the difference: once with every installed plugin loaded (wall time), once with
every other installed plugin blocked (``-p no:NAME`` on both sides; CPU time), the plugin loaded
through its entry point as an installed plugin is.  Then the earlier method's figure (``-p
hookmock.pytest_plugin`` with autoload off, which adds pytest's entry-point scan), and
``python -X importtime -c "import pytest; import hookmock.pytest_plugin"``'s cumulative figures for
the plugin and the modules it pulls in (pytest itself excluded).
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


def other_plugins() -> list[str]:
    """The entry-point names of every installed pytest plugin but hookmock's."""
    from importlib.metadata import entry_points

    return sorted({ep.name for ep in entry_points(group="pytest11")} - {"hookmock"})


def startup_medians(runs: int, *, isolated: bool = False, cpu: bool = False) -> tuple[float, float]:
    """Median ms of pytest --collect-only with the plugin and with -p no:hookmock.

    ``isolated``: no other third-party plugin is loaded (each blocked with ``-p no:NAME`` on both
    sides), so their start-up noise does not swamp the plugin's cost.  The plugin still loads as an
    installed one does, through its ``pytest11`` entry point; pytest reads every installed
    distribution's entry points on both sides alike.  (Naming the plugin with ``-p
    hookmock.pytest_plugin`` under ``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``, as this bench did before,
    charged the plugin with that scan, which ``-p MODULE`` runs to look for an entry point of that
    name and which an installed plugin never adds: about 5 ms of CPU here, see
    ``named_plugin_scan_ms``.)
    ``cpu``: the processes' CPU time (user + system) instead of wall time (see ``process_cpu_ms``)."""
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "test_tiny.py").write_text(TESTS)
        Path(tmp, "pytest.ini").write_text("[pytest]\n")
        cmd = [python(), "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        env = None
        if isolated:
            for name in other_plugins():
                cmd += ["-p", f"no:{name}"]
            # the plugin is loaded as installed: through the entry points, which this would turn off
            env = {k: v for k, v in os.environ.items() if k != "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
        with_cmd, without_cmd = cmd, [*cmd, "-p", "no:hookmock"]
        return _interleaved_medians(with_cmd, without_cmd, tmp, env, runs, cpu)


def named_plugin_scan_ms(runs: int) -> tuple[float, float]:
    """CPU ms of ``pytest -p hookmock.pytest_plugin`` and of plain ``pytest``, both with
    ``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``: the difference is the plugin plus pytest's scan of every
    installed distribution's entry points for one named ``hookmock.pytest_plugin``."""
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "test_tiny.py").write_text(TESTS)
        Path(tmp, "pytest.ini").write_text("[pytest]\n")
        cmd = [python(), "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        return _interleaved_medians([*cmd, "-p", "hookmock.pytest_plugin"], cmd, tmp, env, runs, True)


def _interleaved_medians(
    with_cmd: list[str], without_cmd: list[str], cwd: str, env: dict[str, str] | None, runs: int, cpu: bool
) -> tuple[float, float]:
    _once(with_cmd, cwd, env), _once(without_cmd, cwd, env)  # warm the file cache
    with_ms, without_ms = [], []
    for i in range(runs):  # interleaved, so drift on a noisy machine hits both alike
        if i % 2:
            without_ms.append(_once(without_cmd, cwd, env, cpu))
            with_ms.append(_once(with_cmd, cwd, env, cpu))
        else:
            with_ms.append(_once(with_cmd, cwd, env, cpu))
            without_ms.append(_once(without_cmd, cwd, env, cpu))
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
    iso_with, iso_without = startup_medians(5 if smoke else 21, isolated=True, cpu=True)
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
            "pytest --collect-only, no other plugins, with vs without hookmock (added CPU)",
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
        (True, args.runs * 2 + 1, "every other installed plugin blocked (-p no:NAME on both sides)"),
    ):
        with_ms, without_ms = startup_medians(runs, isolated=isolated, cpu=isolated)
        unit = "ms of CPU" if isolated else "ms"
        print(f"pytest --collect-only on 2 tests, {title}: median of {runs} runs each")
        print(f"  with the hookmock plugin   {with_ms:8.1f} {unit}")
        print(f"  without it                 {without_ms:8.1f} {unit}")
        print(f"  added by the plugin        {with_ms - without_ms:8.1f} {unit}")
    named, plain = named_plugin_scan_ms(args.runs * 2 + 1)
    print("-p hookmock.pytest_plugin with PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 (the earlier method; it adds")
    print("pytest's scan of every installed distribution's entry points for that name)")
    print(f"  added                      {named - plain:8.1f} ms of CPU")
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
