"""Start-up costs: `import hookmock`, and pytest with the plugin installed but unused.

The pytest figure is measured with no other third-party plugin loaded (each blocked with ``-p
no:NAME`` on both sides; hookmock loaded through its entry point, as installed, against ``-p
no:hookmock``), interleaved: on a machine with many
plugins installed their start-up (seconds) would swamp a difference of milliseconds.  The full run
also reports the figure with every installed plugin loaded.  ``bench_plugin_startup.py`` is the same
measurement as a standalone script, with the plugin's import time.
"""

from __future__ import annotations

import subprocess

from _harness import Figure, python, run_cmd_ms
from bench_plugin_startup import startup_medians


def import_time(smoke: bool) -> Figure:
    runs = 5 if smoke else 21
    base = run_cmd_ms([python(), "-c", "pass"], runs)
    value = run_cmd_ms([python(), "-c", "import hookmock"], runs)
    added = value - base
    return Figure("import hookmock (added)", added, "ms", "< 60 ms added", added < 60, base, value / base)


def pytest_startup(smoke: bool) -> list[Figure]:
    runs = 5 if smoke else 31
    with_ms, without_ms = startup_medians(runs, isolated=True, cpu=True)
    added = with_ms - without_ms
    wall_with, wall_without = startup_medians(runs, isolated=True)
    out = [
        Figure(
            "pytest start-up, plugin unused (added CPU time)",
            added,
            "ms",
            "< 5 ms added",
            added < 5,
            without_ms,
            with_ms / without_ms,
            f"no other plugins loaded; median of {runs} interleaved runs each; wall time added "
            f"{wall_with - wall_without:.1f} ms of {wall_without:.0f} ms (wall: mostly the neighbours)",
        )
    ]
    own_ms, heavy = _plugin_import()
    out.append(
        Figure(
            "pytest plugin import, hookmock's own modules (-X importtime, pytest excluded)",
            own_ms,
            "ms",
            "< 15 ms, nothing heavy",
            own_ms < 15 and not heavy,
            note=f"heavy modules imported: {', '.join(heavy) or 'none'}",
        )
    )
    if not smoke:
        all_with, all_without = startup_medians(9)
        out.append(
            Figure(
                "pytest start-up, plugin unused, every installed plugin loaded (added)",
                all_with - all_without,
                "ms",
                "informational",
                None,
                all_without,
                all_with / all_without,
                "run-to-run spread here is about ±1 s (the other plugins' start-up), so this row cannot "
                "resolve 15 ms; the target is checked on the row above",
            )
        )
    return out


HEAVY = ("werkzeug", "jsonschema", "faker", "hypothesis", "cryptography", "sqlite3")


def _plugin_import() -> tuple[float, list[str]]:
    """Cumulative import time of the plugin with pytest already imported, and heavy modules it pulls."""
    err = subprocess.run(
        [python(), "-X", "importtime", "-c", "import pytest; import hookmock.pytest_plugin"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr.splitlines()
    start = next(i for i, line in enumerate(err) if line.rstrip().endswith("| pytest"))
    own_us = 0
    heavy = []
    for line in err[start + 1 :]:
        parts = [x.strip() for x in line.split("|")]
        if len(parts) == 3 and parts[2] == "hookmock.pytest_plugin":
            own_us = int(parts[1])
        if len(parts) == 3 and parts[2] in HEAVY:
            heavy.append(parts[2])
    return own_us / 1000, heavy


FIGURES = [import_time, pytest_startup]
