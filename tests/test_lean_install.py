"""The lean install (``pip install hookmock``): the emulator and every CLI command work with only the
run-time ``dependencies`` of pyproject.toml; pytest and hypothesis are extras that the plugin and the
strategies ask for by name (issue 15, item 5; docs/how-to/install.md).

The commands run in real subprocesses whose imports are restricted to the lean install: a
``sitecustomize`` installs a ``sys.meta_path`` finder that refuses every installed third-party module
outside the run-time dependency closure (pytest, hypothesis, flask, asgiref ... everything the
``test`` extra brought), exactly as if it were not installed.  `.ci/run` also does the real thing
once: a fresh venv, ``pip install .``, ``hookmock demo``, and ``import pytest`` failing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from cli_journey import offline_journey, receiver_journey, serve_journey

ROOT = Path(__file__).resolve().parent.parent

BLOCKER = textwrap.dedent(
    """
    import importlib.abc, os, sys

    _BLOCKED = frozenset(os.environ["HOOKMOCK_TEST_BLOCKED"].split(","))

    class _NotInTheLeanInstall(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in _BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, _NotInTheLeanInstall())
    """
)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lean_closure() -> set[str]:
    """hookmock's run-time dependencies, transitively (canonical distribution names), no extras."""
    seen: set[str] = set()
    todo = ["hookmock"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for text in metadata.requires(name) or ():
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(_canonical(req.name))
    return seen


def blocked_modules() -> set[str]:
    """Top-level modules installed here by a distribution outside the lean closure."""
    closure = lean_closure()
    return {
        module
        for module, dists in metadata.packages_distributions().items()
        if module.isidentifier()
        and module not in sys.stdlib_module_names
        and not any(_canonical(d) in closure for d in dists)
    }


@pytest.fixture(scope="module")
def lean_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    site = tmp_path_factory.mktemp("lean-site")
    (site / "sitecustomize.py").write_text(BLOCKER)
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    blocked = blocked_modules()
    return {**os.environ, "PYTHONPATH": path, "HOOKMOCK_TEST_BLOCKED": ",".join(sorted(blocked))}


LAUNCHER = (sys.executable, "-m", "hookmock")


def _python(env: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)


def test_the_run_time_dependencies_leave_out_pytest_and_hypothesis() -> None:
    closure = lean_closure()
    assert {"werkzeug", "jsonschema", "faker", "cryptography", "pytest-httpserver"} <= closure
    assert not closure & {"pytest", "hypothesis", "pluggy", "iniconfig"}, closure
    # and the blocker refuses what the test extra brought
    assert {"pytest", "_pytest", "hypothesis", "flask", "pex"} <= blocked_modules()


def test_the_blocker_really_blocks(lean_env: dict[str, str]) -> None:
    done = _python(lean_env, "import pytest")
    assert done.returncode == 1 and "No module named 'pytest'" in done.stderr, done.stderr
    assert _python(lean_env, "import werkzeug, jsonschema, faker, cryptography").returncode == 0


def test_import_hookmock_and_its_public_api_without_the_extras(lean_env: dict[str, str]) -> None:
    code = "import hookmock\nfor name in hookmock.__all__:\n    getattr(hookmock, name)\nprint('ok')"
    done = _python(lean_env, code)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


@pytest.mark.parametrize(
    ("module", "extra", "missing"),
    [
        ("hookmock.strategies", "hypothesis", "hypothesis"),
        ("hookmock.pytest_plugin", "pytest", "pytest"),
        ("hookmock.pytest_plugin.fixtures", "pytest", "pytest"),
        ("hookmock.locust", "storm", "gevent"),
    ],
)
def test_an_extra_left_out_is_named_with_how_to_install_it(
    lean_env: dict[str, str], module: str, extra: str, missing: str
) -> None:
    done = _python(lean_env, f"import {module}")
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: "), done.stderr
    assert f"needs {missing}, which is not installed" in last
    assert f'pip install "hookmock[{extra}]"' in last
    # an ImportError a caller can catch, naming the module that is missing
    code = f"try:\n    import {module}\nexcept ImportError as e:\n    print(e.name)"
    assert _python(lean_env, code).stdout.strip() == missing


def test_the_extras_are_declared_and_the_test_extra_has_them() -> None:
    extras = metadata.metadata("hookmock").get_all("Provides-Extra") or []
    assert {"pytest", "hypothesis", "test"} <= set(extras)
    reqs = [Requirement(r) for r in metadata.requires("hookmock") or ()]

    def names(extra: str) -> set[str]:
        return {_canonical(r.name) for r in reqs if r.marker and r.marker.evaluate({"extra": extra})}

    assert "pytest" in names("pytest") and "hypothesis" in names("hypothesis")
    assert {"pytest", "hypothesis", "pex"} <= names("test")


def test_the_pytest11_entry_point_still_loads_the_plugin_where_pytest_is() -> None:
    (entry,) = [e for e in metadata.entry_points(group="pytest11") if e.name == "hookmock"]
    assert entry.value == "hookmock.pytest_plugin"
    assert entry.load().__name__ == "hookmock.pytest_plugin"


def test_every_cli_command_runs_on_the_lean_install(lean_env: dict[str, str], tmp_path: Path) -> None:
    offline_journey(LAUNCHER, tmp_path, lean_env)
    receiver_journey(LAUNCHER, tmp_path, lean_env, full=True)
    serve_journey(LAUNCHER, tmp_path, lean_env)


def test_a_broken_extra_keeps_its_own_error() -> None:
    from hookmock._util.extras import missing_extra

    # hypothesis installed but missing one of its own dependencies: that error is the useful one
    inner = ModuleNotFoundError("No module named 'sortedcontainers'", name="sortedcontainers")
    assert missing_extra(inner, feature="hookmock.strategies", extra="hypothesis") is inner
    outer = missing_extra(
        ModuleNotFoundError("No module named 'hypothesis.strategies'", name="hypothesis.strategies"),
        feature="hookmock.strategies",
        extra="hypothesis",
    )
    assert 'pip install "hookmock[hypothesis]"' in str(outer) and outer.name == "hypothesis.strategies"
