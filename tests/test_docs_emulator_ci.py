"""The "CI in any language" recipe (docs/how-to/emulator-ci.md) and the README's emulator example run
as printed: bash, the installed ``hookmock``, curl and jq, against a receiver written without hookmock
(the Flask one of the audit corpus) in another process, on loopback only.

The script is taken from the page, written to a file and run with ``bash``, as a CI job would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from docs_blocks import ROOT, Block, blocks

pytestmark = [
    pytest.mark.realtime,
    pytest.mark.skipif(sys.platform == "win32", reason="a bash recipe"),
]

TESTS = Path(__file__).resolve().parent
PAGE = ROOT / "docs/how-to/emulator-ci.md"
SECRET = "whsec_ci_only_0123456789abcdefghijklm"


def _tools() -> None:
    for tool in ("bash", "jq", "curl"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed: the CI recipe needs bash, curl and jq")


def _run_by_me(page: Path) -> list[Block]:
    return [b for b in blocks(page) if b.marker == "run-by" and b.reason == "tests/test_docs_emulator_ci.py"]


@contextmanager
def receiver(name: str) -> Iterator[str]:
    """One receiver of the audit corpus in its own process; yields its base URL."""
    env = {**os.environ, "PYTHONPATH": str(TESTS) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "receivers", name, "moda", SECRET],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=TESTS,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def run_script(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "ci-webhooks.sh"
    script.write_text(code, encoding="utf-8")
    base = {k: v for k, v in os.environ.items() if not k.startswith("HOOKMOCK_") and k != "PROBE_URL"}
    base["PATH"] = str(Path(sys.executable).parent) + os.pathsep + base.get("PATH", "")
    base["TMPDIR"] = str(tmp_path)
    return subprocess.run(
        ["bash", str(script)],
        cwd=tmp_path,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=240,
    )


def recipe() -> str:
    found = [b for b in _run_by_me(PAGE) if b.code.startswith("#!/usr/bin/env bash\n# ci-webhooks.sh")]
    assert len(found) == 1, "docs/how-to/emulator-ci.md has one ci-webhooks.sh block marked run-by this test"
    return found[0].code


def test_the_ci_recipe_passes_against_a_correct_receiver(tmp_path: Path) -> None:
    _tools()
    with receiver("flask") as base:
        done = run_script(
            recipe(),
            tmp_path,
            RECEIVER=base + "webhook",
            WEBHOOK_SECRET=SECRET,
            PROBE_URL=base + "effects/{event_id}",
        )
    assert done.returncode == 0, done.stdout + done.stderr
    suite = ET.parse(tmp_path / "hookmock-audit.xml").getroot()
    cases = suite.iter("testcase")
    assert len(list(cases)) >= 15
    assert not list(suite.iter("failure")), done.stdout
    assert not list(tmp_path.glob("tmp.*/hookmock-state.json"))  # removed when serve exited


def test_the_ci_recipe_fails_the_job_on_a_receiver_that_verifies_nothing(tmp_path: Path) -> None:
    _tools()
    with receiver("NoSignatureCheckReceiver") as base:
        done = run_script(recipe(), tmp_path, RECEIVER=base + "webhook", WEBHOOK_SECRET=SECRET)
    assert done.returncode == 1, done.stdout + done.stderr
    failed = [
        case.get("name", "")
        for case in ET.parse(tmp_path / "hookmock-audit.xml").getroot().iter("testcase")
        if case.find("failure") is not None
    ]
    assert any("signature" in name for name in failed), failed


def test_the_ci_recipe_names_the_refused_webhook(tmp_path: Path) -> None:
    _tools()
    with receiver("flask") as base:  # the receiver checks another secret: every attempt is refused
        done = run_script(
            recipe(),
            tmp_path,
            RECEIVER=base + "webhook",
            WEBHOOK_SECRET="whsec_" + "x" * 32,
            HOOKMOCK=f"{sys.executable} -m hookmock",  # $HOOKMOCK, as for "python3 hookmock.pyz"
        )
    assert done.returncode != 0
    assert "failed after 4 attempt(s), last answer 40" in done.stderr, done.stderr
    assert not (tmp_path / "hookmock-audit.xml").exists()


def test_the_readme_emulator_example_runs(tmp_path: Path) -> None:
    _tools()
    found = _run_by_me(ROOT / "README.md")
    assert len(found) == 1, "README.md has one emulator block marked run-by this test"
    with receiver("flask") as base:
        done = run_script(found[0].code, tmp_path, RECEIVER=base + "webhook", WEBHOOK_SECRET=SECRET)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith('"succeeded"'), done.stdout


def test_the_ci_jobs_run_the_script_and_keep_the_junit_report() -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed: the CI jobs are not parsed")
    jobs = [yaml.safe_load(b.code) for b in blocks(PAGE) if b.lang == "yaml"]
    github = next(j for j in jobs if "jobs" in j)
    steps = github["jobs"]["webhooks"]["steps"]
    assert any(s.get("run") == "bash ci-webhooks.sh" for s in steps)
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and upload["with"]["path"] == "hookmock-audit.xml"
    gitlab = next(j["webhooks"] for j in jobs if "webhooks" in j)
    assert "bash ci-webhooks.sh" in gitlab["script"]
    assert gitlab["artifacts"]["when"] == "always"
    assert gitlab["artifacts"]["reports"]["junit"] == "hookmock-audit.xml"
    for job in (github["jobs"]["webhooks"], gitlab):
        env = job.get("env") or job.get("variables")
        assert env["RECEIVER"].startswith("http://127.0.0.1:") and env["WEBHOOK_SECRET"].startswith("whsec_")
        assert env["HOOKMOCK"] == "python3 hookmock.pyz"
