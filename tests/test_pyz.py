"""The single-file ``hookmock.pyz`` (issue 15, item 5; docs/how-to/install.md): built by
tools/build_pyz.py (pex) without any download, it holds no pytest or hypothesis, and
``python3 hookmock.pyz serve`` / ``wait`` / ``listen`` / ``audit`` run from it with no network.

"No network" is real where the test can make it so: as root with ``unshare``, the build and every run
of the file happen in a new network namespace that has loopback only (any other address is
unreachable).  Elsewhere the same steps run without that proof, and say so in the output.

One test function: the build (about 10 s of CPU) happens once per run, on one xdist worker.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("pytest", "_pytest", "pluggy", "hypothesis", "iniconfig", "flask", "pex")
#: Runs a command in a new network namespace with loopback up and nothing else.
NETNS = ("unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh")

DRIVER = textwrap.dedent(
    """
    import json, socket, subprocess, sys

    sys.path.insert(0, sys.argv[1])
    from pathlib import Path
    from cli_journey import receiver_journey, run, serve_journey

    python, pyz, tmp = sys.argv[2], sys.argv[3], Path(sys.argv[4])
    env = json.loads(sys.argv[5])
    launcher = (python, pyz)
    assert run(launcher, "--version", env=env).startswith("hookmock ")
    probe = (
        "import socket\\n"
        "try:\\n    socket.create_connection(('192.0.2.1', 80), 5)\\nexcept OSError as e:\\n    print(e)\\n"
        "try:\\n    import pytest\\nexcept ImportError as e:\\n    print(e)"
    )
    inside = subprocess.run(
        [python, pyz, "-c", probe],
        capture_output=True, text=True, env={**env, "PEX_INTERPRETER": "1"}, timeout=60,
    )
    ready_s = serve_journey(launcher, tmp, env)
    receiver_journey(launcher, tmp, env, full=False)
    print(json.dumps({"ready_s": ready_s, "inside": inside.stdout + inside.stderr}))
    """
)


@cache
def netns() -> tuple[str, ...]:
    """The namespace prefix when it works here (root, unshare and ip), else ()."""
    if not (shutil.which("unshare") and shutil.which("ip")):
        return ()
    done = subprocess.run([*NETNS, "true"], capture_output=True, timeout=30, check=False)
    return NETNS if done.returncode == 0 else ()


def test_the_pyz_builds_offline_and_serves_listens_and_audits(tmp_path: Path) -> None:
    offline = netns()
    pyz = tmp_path / "hookmock.pyz"
    started = time.monotonic()
    build = subprocess.run(
        [
            *offline,
            sys.executable,
            str(ROOT / "tools" / "build_pyz.py"),
            "--out",
            str(pyz),
            "--from-installed",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PIP_NO_INDEX": "1"},
    )
    build_s = time.monotonic() - started
    assert build.returncode == 0, build.stdout + build.stderr
    assert pyz.read_bytes().startswith(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(pyz) as zf:
        names = [n for n in zf.namelist() if n.startswith(".deps/") and n.count("/") > 2]
    tops = {name.split("/")[2] for name in names}
    assert {"hookmock", "werkzeug", "jsonschema", "faker", "cryptography"} <= tops
    assert not tops & set(FORBIDDEN), sorted(tops & set(FORBIDDEN))

    # A CI runner: the base interpreter (not the test venv: its packages stay out), a fresh
    # PEX_ROOT (the first run unpacks), and no network.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PEX_", "VIRTUAL_ENV", "PYTHON"))}
    env["PEX_ROOT"] = str(tmp_path / "pex-root")
    python = getattr(sys, "_base_executable", sys.executable)
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    args = [str(ROOT / "tests"), python, str(pyz), str(tmp_path), json.dumps(env)]
    done = subprocess.run(
        [*offline, sys.executable, str(driver), *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert "No module named 'pytest'" in result["inside"], result
    if offline:
        assert "Network is unreachable" in result["inside"], result
    print(
        f"pyz: {pyz.stat().st_size / 1e6:.1f} MB, built in {build_s:.1f} s, serve ready in "
        f"{result['ready_s']:.2f} s after spawn on a first run; "
        + ("no network (namespace)" if offline else "network NOT cut off here (no unshare as root)")
    )
