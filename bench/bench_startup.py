"""Start-up costs: `import hookmock`, and pytest with the plugin installed but unused.

The pytest figure is measured with no other third-party plugin loaded (``-p hookmock.pytest_plugin``
against ``-p no:hookmock``, ``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``), interleaved: on a machine with many
plugins installed their start-up (seconds) would swamp a difference of milliseconds.  The full run
also reports the figure with every installed plugin loaded.  ``bench_plugin_startup.py`` is the same
measurement as a standalone script, with the plugin's import time.
"""

from __future__ import annotations

from _harness import Figure, python, run_cmd_ms
from bench_plugin_startup import startup_medians


def import_time(smoke: bool) -> Figure:
    runs = 5 if smoke else 21
    base = run_cmd_ms([python(), "-c", "pass"], runs)
    value = run_cmd_ms([python(), "-c", "import hookmock"], runs)
    added = value - base
    return Figure("import hookmock (added)", added, "ms", "< 60 ms added", added < 60, base, value / base)


def pytest_startup(smoke: bool) -> list[Figure]:
    with_ms, without_ms = startup_medians(5 if smoke else 21, isolated=True)
    added = with_ms - without_ms
    out = [
        Figure(
            "pytest start-up, plugin unused (added)",
            added,
            "ms",
            "< 15 ms added",
            added < 15,
            without_ms,
            with_ms / without_ms,
            "no other plugins loaded",
        )
    ]
    if not smoke:
        all_with, all_without = startup_medians(9)
        out.append(
            Figure(
                "pytest start-up, plugin unused, every installed plugin loaded (added)",
                all_with - all_without,
                "ms",
                "< 15 ms added",
                all_with - all_without < 15,
                all_without,
                all_with / all_without,
                "noisy: the other plugins' start-up dominates",
            )
        )
    return out


FIGURES = [import_time, pytest_startup]
