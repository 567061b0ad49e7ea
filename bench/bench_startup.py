"""Start-up costs: `import hookmock`, and pytest with the plugin installed but unused."""

from __future__ import annotations

import tempfile
from pathlib import Path

from _harness import Figure, python, run_cmd_ms


def import_time(smoke: bool) -> Figure:
    runs = 5 if smoke else 21
    base = run_cmd_ms([python(), "-c", "pass"], runs)
    value = run_cmd_ms([python(), "-c", "import hookmock"], runs)
    added = value - base
    return Figure("import hookmock (added)", added, "ms", "< 60 ms added", added < 60, base, value / base)


def pytest_startup(smoke: bool) -> Figure:
    runs = 5 if smoke else 15
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "test_x.py").write_text("def test_x():\n    pass\n")
        Path(tmp, "pytest.ini").write_text("[pytest]\n")
        cmd = [python(), "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_x.py"]
        base = run_cmd_ms([*cmd, "-p", "no:hookmock"], runs, cwd=tmp)
        value = run_cmd_ms(cmd, runs, cwd=tmp)
    added = value - base
    return Figure(
        "pytest start-up, plugin unused (added)", added, "ms", "< 15 ms added", added < 15, base, value / base
    )


FIGURES = [import_time, pytest_startup]
