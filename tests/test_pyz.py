"""The single-file ``hookmock.pyz`` (issue 15, item 5): built by tools/build_pyz.py (pex) without any
download, it holds no pytest or hypothesis, and ``python3 hookmock.pyz serve`` / ``listen`` / ``audit``
run from it with the network refused (only loopback connections are allowed in the process).

One test function: the build (about 10 s of CPU) happens once per run, on one xdist worker.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

from cli_journey import receiver_journey, run, serve_journey

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("pytest", "_pytest", "pluggy", "hypothesis", "iniconfig", "flask", "pex")

#: Loaded at interpreter start (before the .pyz's bootstrap): any socket connection to an address
#: other than loopback fails, so a .pyz that tried to fetch anything at run time would fail.
LOOPBACK_ONLY = textwrap.dedent(
    """
    import socket

    _connect = socket.socket.connect

    def _loopback_only(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1", "localhost"):
            raise OSError(f"network refused in this test: {address!r}")
        return _connect(self, address)

    socket.socket.connect = _loopback_only
    """
)


def test_the_pyz_builds_offline_and_serves_listens_and_audits(tmp_path: Path) -> None:
    pyz = tmp_path / "hookmock.pyz"
    started = time.monotonic()
    build = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_pyz.py"), "--out", str(pyz), "--from-installed"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PIP_NO_INDEX": "1"},
    )
    build_s = time.monotonic() - started
    assert build.returncode == 0, build.stdout + build.stderr
    assert pyz.read_bytes().startswith(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(pyz) as zf:
        tops = {
            name.split("/")[2] for name in zf.namelist() if name.startswith(".deps/") and name.count("/") > 2
        }
    assert {"hookmock", "werkzeug", "jsonschema", "faker", "cryptography"} <= tops
    assert not tops & set(FORBIDDEN), sorted(tops & set(FORBIDDEN))

    # A CI runner: the base interpreter (no venv, so no site-packages of the test run), a fresh
    # PEX_ROOT (first run unpacks), and no network.
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(LOOPBACK_ONLY)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PEX_", "VIRTUAL_ENV"))},
        "PEX_ROOT": str(tmp_path / "pex-root"),
        "PYTHONPATH": str(site),
    }
    python = getattr(sys, "_base_executable", sys.executable)
    launcher = (python, str(pyz))
    assert run(launcher, "--version", env=env).startswith("hookmock ")
    pytest_import = subprocess.run(
        [python, str(pyz), "-c", "import pytest"],
        capture_output=True,
        text=True,
        env={**env, "PEX_INTERPRETER": "1"},
        timeout=60,
    )
    assert pytest_import.returncode == 1 and "No module named 'pytest'" in pytest_import.stderr
    ready_s = serve_journey(launcher, tmp_path, env)
    receiver_journey(launcher, tmp_path, env, full=False)
    print(f"pyz: {pyz.stat().st_size / 1e6:.1f} MB, built in {build_s:.1f} s, serve ready in {ready_s:.2f} s")


def test_the_network_guard_refuses_other_addresses(tmp_path: Path) -> None:
    # The guard above must really refuse (else the offline claim proves nothing); no packet leaves:
    # the refusal happens before connect(), and 192.0.2.1 is TEST-NET-1 (never routed) anyway.
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(LOOPBACK_ONLY)
    code = (
        "import socket\ns = socket.socket()\n"
        "try:\n    s.connect(('192.0.2.1', 80))\nexcept OSError as e:\n    print(e)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(site)},
        timeout=60,
    )
    assert "network refused in this test" in done.stdout, done.stdout + done.stderr
