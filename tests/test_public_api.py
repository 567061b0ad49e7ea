from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

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


def _type_checking_imports() -> dict[str, str]:
    """name -> module of every import in ``hookmock/__init__.py``'s ``if TYPE_CHECKING:`` block."""
    tree = ast.parse(Path(hookmock.__file__).read_text())
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom), ast.unparse(stmt)
                for alias in stmt.names:
                    found[alias.asname or alias.name] = "." * stmt.level + (stmt.module or "")
    return found


def test_exports_and_type_checking_imports_are_one_list():
    """``_EXPORTS`` (what ``hookmock.X`` loads) and the ``TYPE_CHECKING`` imports (what type checkers
    see) name the same public names from the same modules."""
    assert _type_checking_imports() == hookmock._EXPORTS
    assert set(hookmock.__all__) == {*hookmock._EXPORTS, "__version__"}


def test_each_public_name_points_at_the_module_that_defines_it():
    wrong = {}
    for name, module in hookmock._EXPORTS.items():
        value = getattr(importlib.import_module(module, "hookmock"), name)
        defined_in = getattr(value, "__module__", None)
        target = importlib.import_module(module, "hookmock").__name__
        if defined_in is not None and defined_in != target and not isinstance(value, str):
            wrong[name] = f"{module} re-exports it; defined in {defined_in}"
    assert wrong == {}
