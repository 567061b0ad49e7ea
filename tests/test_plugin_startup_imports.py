"""pytest start-up with hookmock installed but unused: what the plugin loads (issue 18, < 5 ms).

pytest imports the plugin in every run of every project where hookmock is installed.  Importing it,
and running its start-up hooks (options, ini settings, the marker, the fixtures' declarations),
loads hookmock's package, its version and the plugin's two start-up modules, and nothing else: no
module of the standard library or of another package that pytest has not loaded already.  A
fixture's work, and every module it needs, is loaded the first time a test uses one.

Fresh interpreters, so that nothing another test imported counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

#: what importing the plugin and its start-up hooks may add to what pytest itself loads
PLUGIN_START = ["hookmock", "hookmock._version", "hookmock.pytest_plugin", "hookmock.pytest_plugin.stash"]


def test_importing_the_plugin_loads_only_its_start_up_modules() -> None:
    script = (
        "import json, sys, pytest\n"
        "before = set(sys.modules)\n"
        "import hookmock.pytest_plugin\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == PLUGIN_START


_CONFTEST = """
import json, sys

def pytest_collection_finish(session):
    with open("modules.json", "w") as fh:
        json.dump(sorted(sys.modules), fh)
"""

_TESTS = """
def test_plain():
    assert 1 + 1 == 2
"""


def _modules_after_collection(tmp_path: Path, *extra: str) -> set[str]:
    (tmp_path / "conftest.py").write_text(_CONFTEST)
    (tmp_path / "test_plain.py").write_text(_TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    others = sorted({ep.name for ep in entry_points(group="pytest11")} - {"hookmock"})
    blocked = [arg for name in others for arg in ("-p", f"no:{name}")]
    unset = ("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_ADDOPTS")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *blocked, *extra],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return set(json.loads((tmp_path / "modules.json").read_text()))


def test_a_run_with_the_plugin_installed_and_unused_loads_nothing_else(tmp_path: Path) -> None:
    """The plugin loaded through its entry point, as installed (every other installed plugin
    blocked on both sides), against the same run with ``-p no:hookmock``."""
    (tmp_path / "with").mkdir()
    (tmp_path / "without").mkdir()
    with_plugin = _modules_after_collection(tmp_path / "with")
    without = _modules_after_collection(tmp_path / "without", "-p", "no:hookmock")
    assert sorted(with_plugin - without) == PLUGIN_START
    assert not any(m.startswith("hookmock") for m in without)


def test_options_given_load_the_settings_check_and_no_more(tmp_path: Path) -> None:
    """With a ``--hookmock-*`` option the start-up checks its value (a usage error before anything
    runs), which loads the settings module; still no fixture's work."""
    (tmp_path / "with").mkdir()
    (tmp_path / "without").mkdir()
    with_plugin = _modules_after_collection(tmp_path / "with", "--hookmock-profile", "modio")
    without = _modules_after_collection(tmp_path / "without", "-p", "no:hookmock")
    added = with_plugin - without
    assert "hookmock.pytest_plugin.settings" in added
    assert not {"hookmock.pytest_plugin.fixtures", "hookmock.sender", "hookmock.clock"} & added


@pytest.mark.parametrize(
    ("args", "ini", "ok"),
    [
        (["--hookmock-profile=standard_webhooks"], "", True),  # the module name, as get_profile takes it
        ([], "hookmock_profile = standard-webhooks\n", True),
        (["--hookmock-profile=nope"], "", False),
        ([], "hookmock_profile = _base\n", False),  # a private module is no profile
        ([], "hookmock_profile = Moda\n", False),
    ],
)
def test_profile_names_are_still_checked_at_start_up(
    pytester: pytest.Pytester, args: list[str], ini: str, ok: bool
) -> None:
    """Shipped profiles are known without the registry; anything else still goes through it, and
    an unknown name is one usage error naming the choices before anything runs."""
    pytester.makeini("[pytest]\n" + ini)
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest(*args)
    if ok:
        assert result.ret == pytest.ExitCode.OK
    else:
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(["*unknown profile*choose one of*moda*modio*"])
