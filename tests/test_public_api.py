from __future__ import annotations

import subprocess
import sys

import hookmock


def test_all_is_sorted_and_resolvable():
    assert hookmock.__all__ == sorted(hookmock.__all__)
    for name in hookmock.__all__:
        assert getattr(hookmock, name) is not None, name


def test_the_names_the_readme_and_users_need_are_exported():
    assert list(hookmock._EXPORTS) == sorted(hookmock._EXPORTS)
    needed = {
        "Sender", "Delivery", "DeliveryLog", "FakeReceiver", "FaultProxy", "run_scenario", "audit",
        "HTTPTransport", "WSGITransport", "WSGITarget", "TargetPolicy", "Emulator", "EmulatorConfig",
        "Respond", "Hang", "Reset", "assert_attempts", "assert_schedule",
        "AppTarget", "ASGITransport", "InProcessTransport",
    }  # fmt: skip
    assert needed <= set(hookmock.__all__)
    from hookmock.emulator import Emulator
    from hookmock.transport.wsgi import WSGITarget

    assert hookmock.Emulator is Emulator and hookmock.WSGITarget is WSGITarget


def test_import_is_cheap():
    code = (
        "import sys, hookmock\n"
        "names = ('jsonschema', 'faker', 'hypothesis', 'werkzeug', 'sqlite3', 'ssl', 'pytest_httpserver')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_python_dash_m_runs_the_cli():
    result = subprocess.run([sys.executable, "-m", "hookmock", "--version"], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.startswith("hookmock ")
