"""``hookmock serve --print-openapi``: the OpenAPI document, printed without serving (issue 15, item 4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hookmock.emulator.routes import document


def _hookmock(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hookmock", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_print_openapi_prints_the_served_document_and_exits_without_serving(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    # A state file and port 0 would make a serving emulator write the file: it must stay absent.
    out = _hookmock("serve", "--print-openapi", "--port", "0", "--state-file", str(state))
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert not state.exists()
    assert json.loads(out.stdout) == document()
    # byte for byte what `hookmock openapi` prints
    assert out.stdout == _hookmock("openapi").stdout


def test_print_openapi_ignores_the_serving_options_it_does_not_need() -> None:
    # The document does not depend on where or how the emulator would serve.
    out = _hookmock("serve", "--print-openapi", env={"HOOKMOCK_PORT": "not-a-port"})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["openapi"].startswith("3.1")
