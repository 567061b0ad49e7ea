"""The emulator's OpenAPI document written out (``hookmock openapi``) and used as client generators
use it: openapi-python-client (PyPI, in the test extra) generates a client offline, and the client
drives a running emulator: create a task, advance the clock, list the deliveries."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from emulator_support import stack
from hookmock.cli import main
from hookmock.emulator.routes import document
from schema_tools import OFFLINE


def test_openapi_prints_the_document_the_emulator_serves(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["openapi"]) == 0
    assert json.loads(capsys.readouterr().out) == document()
    with stack() as (_emu, api, _receiver):
        assert api.get("/_hookmock/openapi.json") == document()


def test_openapi_out_writes_the_file_and_a_bad_path_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["openapi", "--out", str(tmp_path / "api.json")]) == 0
    assert json.loads((tmp_path / "api.json").read_text()) == document()
    assert main(["openapi", "--out", str(tmp_path / "missing" / "api.json")]) == 2
    assert "cannot write the OpenAPI document to" in capsys.readouterr().err


def test_a_generated_python_client_creates_a_task_and_lists_its_delivery(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.json"
    assert main(["openapi", "--out", str(spec)]) == 0
    package = tmp_path / "emulator_client"
    generator = Path(sys.executable).with_name("openapi-python-client")
    env = {**OFFLINE, "PATH": f"{Path(sys.executable).parent}:{OFFLINE.get('PATH', '')}"}
    done = subprocess.run(
        [str(generator), "generate", "--path", str(spec), "--output-path", str(package), "--meta", "none"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # Every schema and response in the document was understood: the generator warns about any it drops.
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr

    sys.path.insert(0, str(tmp_path))
    try:
        client_mod = importlib.import_module("emulator_client")
        tasks = importlib.import_module("emulator_client.api.moda.post_v1_tasks")
        deliveries = importlib.import_module("emulator_client.api.moda.get_v1_webhook_deliveries")
        advance = importlib.import_module("emulator_client.api.control.post_hookmock_clock_advance")
        models = importlib.import_module("emulator_client.models")
        with stack("ok") as (emu, _api, receiver):
            client = client_mod.AuthenticatedClient(base_url=emu.base_url, token=emu.api_key)
            body = models.PostV1TasksBody(prompt="a poster", callback_url=receiver.url)
            task = tasks.sync(client=client, body=body)
            assert type(task).__name__ != "ModaAPIErrorBody", task
            assert task.id.startswith("task_") and task.status.value == "queued"
            assert (
                advance.sync(client=client, body=models.PostHookmockClockAdvanceBody(seconds=60)) is not None
            )
            listed = deliveries.sync(client=client)
            [row] = listed.data
            assert row.agent_job_id == task.id
            assert (row.status.value, row.attempts, row.response_status_code) == ("succeeded", 1, 200)
            assert len(receiver.requests) == 1
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == "emulator_client" or m.startswith("emulator_client.")]:
            del sys.modules[name]
