"""Other validators for the schema tests: check-jsonschema (PyPI, in the test extra) and ajv-cli with
ajv-formats (npm), installed once into pytest's cache folder (or taken from ``HOOKMOCK_AJV_DIR``,
which .ci/run sets after installing them)."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

AJV_PACKAGES = ("ajv-cli@5", "ajv-formats@3")

#: Any attempt to reach a network host during validation goes to a closed loopback port and fails.
OFFLINE = {
    **os.environ,
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "",
    "no_proxy": "",
}


def ajv_dir(cache_root: Path) -> Path:
    """A folder whose node_modules holds ajv-cli and ajv-formats; skips only where Node is missing."""
    given = os.environ.get("HOOKMOCK_AJV_DIR")
    if given:
        return Path(given)
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js (node and npm) is not installed: the ajv-cli cross-check needs it")
    where = cache_root / "ajv-cli"
    where.mkdir(parents=True, exist_ok=True)
    with open(where / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # pytest-xdist workers install once, one after another
        if not (where / "node_modules" / ".bin" / "ajv").exists():
            done = subprocess.run(
                [
                    "npm",
                    "install",
                    "--prefix",
                    str(where),
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                    *AJV_PACKAGES,
                ],
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, f"npm install {' '.join(AJV_PACKAGES)} failed:\n{done.stderr}"
    return where


def ajv_verdicts(where: Path, schema: Path, refs: list[Path], instances: list[Path]) -> dict[str, bool]:
    """``{instance path: valid?}`` from ``ajv validate`` in strict mode, draft 2020-12, with formats."""
    args = [str(where / "node_modules" / ".bin" / "ajv"), "validate", "--spec=draft2020", "--strict=true"]
    args += ["-c", "ajv-formats", "-s", str(schema)]
    for ref in refs:
        args += ["-r", str(ref)]
    for instance in instances:
        args += ["-d", str(instance)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=where, env=OFFLINE)
    found = dict(re.findall(r"^(\S+) (valid|invalid)$", done.stdout + done.stderr, re.M))
    assert set(found) == {str(i) for i in instances}, done.stdout + done.stderr
    return {path: verdict == "valid" for path, verdict in found.items()}


def check_jsonschema_failures(schema: Path, instances: list[Path], *extra: str) -> set[str]:
    """The instance paths check-jsonschema finds invalid (it exits 1 for those, 0 when all pass)."""
    exe = Path(sys.executable).with_name("check-jsonschema")
    args = [str(exe), "-o", "json", *extra, "--schemafile", str(schema), *map(str, instances)]
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=120, env=OFFLINE, cwd=instances[0].parent
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["parse_errors"] == [], report
    return {error["filename"] for error in report["errors"]}
