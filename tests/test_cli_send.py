"""``hookmock send``, ``deliveries`` and ``redeliver`` through ``main([...])`` against loopback receivers."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from hookmock.cli import main
from hookmock.clock import RealClock
from hookmock.profiles import get_profile
from hookmock.validation import validate

SECRET = "whsec_cliTESTsecretVALUE0123456789ab"
TOKEN = "modioTOKENcliTEST0123456789"


class Rx:
    """Answers with ``codes`` in turn (the last one repeats) and checks every request."""

    def __init__(self, server: HTTPServer, profile: str, secret: str, codes: list[int]) -> None:
        self.profile = get_profile(profile)
        self.secret = secret
        self.codes = codes
        self.bodies: list[bytes] = []
        self.verdicts: list[bool] = []
        self._lock = threading.Lock()
        server.clear()
        server.expect_request("/hook", method="POST").respond_with_handler(self)
        self.url = server.url_for("/hook")

    def __call__(self, request: Request) -> Response:
        with self._lock:
            body = request.get_data()
            self.bodies.append(body)
            now = RealClock().time()
            self.verdicts.append(self.profile.check(request.headers, body, self.secret, now=now).ok)
            code = self.codes[min(len(self.bodies) - 1, len(self.codes) - 1)]
        return Response(f"code {code}", status=code)


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    yield srv
    srv.clear()
    srv.stop()


def _lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_send_moda_json_lines(server: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    rx = Rx(server, "moda", SECRET, [200])
    db = tmp_path / "log.db"
    code = main(["send", rx.url, "--event", "task.succeeded", "--secret", SECRET, "--db", str(db), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = _lines(out)
    assert [line["type"] for line in lines] == ["attempt", "summary"]
    assert lines[0]["attempt"] == 1 and lines[0]["status_code"] == 200 and lines[0]["outcome"] == "response"
    assert lines[1]["status"] == "succeeded" and lines[1]["event_type"] == "task.succeeded"
    assert rx.verdicts == [True] and SECRET not in out + err


def test_send_moda_retries_then_fails_exit_1(server: HTTPServer, capsys: pytest.CaptureFixture[str]):
    rx = Rx(server, "moda", SECRET, [500])
    args = ["send", rx.url, "--event", "task.failed", "--secret", SECRET, "--retry-delays", "0.01,0.01,0.01"]
    code = main(args)
    out, _ = capsys.readouterr()
    assert code == 1
    assert [line for line in out.splitlines() if line.startswith("attempt ")][3].startswith("attempt 4")
    assert "failed:" in out and "next attempt in" in out
    assert len(rx.bodies) == 4 and len(set(rx.bodies)) == 1 and all(rx.verdicts)


def test_send_modio_one_attempt_token_from_env(
    server: HTTPServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    rx = Rx(server, "modio", TOKEN, [503])
    monkeypatch.setenv("HOOKMOCK_SECRET", TOKEN)
    code = main(["send", rx.url, "--profile", "modio", "--event", "ADD_MOD", "--json"])
    out, _ = capsys.readouterr()
    assert code == 1 and len(rx.bodies) == 1 and rx.verdicts == [True]
    assert [line["type"] for line in _lines(out)] == ["attempt", "summary"]
    assert TOKEN not in out


def test_send_data_file_byte_for_byte(server: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    rx = Rx(server, "moda", SECRET, [204])
    raw = b'{"id": "evt_01KQGDBJ00BZTEZ088ZEMVMTHC", "type": "export.failed", "n": 1.10}\n'
    data = tmp_path / "payload.json"
    data.write_bytes(raw)
    assert main(["send", rx.url, "--data", str(data), "--secret", SECRET]) == 0
    assert rx.bodies == [raw]
    assert "export.failed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["send", "http://127.0.0.1:9/hook", "--event", "task.succeeded"], "--secret"),
        (["send", "http://10.9.8.7/hook", "--event", "task.succeeded", "--secret", "x"], "--allow-target"),
        (["send", "http://127.0.0.1:9/hook", "--event", "task.nope", "--secret", "x"], "task.nope"),
        (["send", "http://127.0.0.1:9/hook", "--profile", "nope", "--secret", "x"], "nope"),
        (
            ["send", "http://127.0.0.1:9/hook", "--data", "/nonexistent.json", "--secret", "x"],
            "does not exist",
        ),
        (["send", "http://127.0.0.1:9/hook", "--secret", "x", "--retry-delays", "a,b"], "--retry-delays"),
        (["deliveries", "--db", "/nonexistent/log.db"], "does not exist"),
        (["redeliver", "whd_X", "--db", "/nonexistent/log.db", "--secret", "x"], "does not exist"),
    ],
)
def test_usage_errors_exit_2_without_traceback(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("HOOKMOCK_SECRET", raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_data_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"{not json")
    assert main(["send", "http://127.0.0.1:9/hook", "--data", str(bad), "--secret", "x"]) == 2
    assert "is not valid JSON" in capsys.readouterr().err


def test_deliveries_and_redeliver(server: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    rx = Rx(server, "moda", SECRET, [500, 200])
    db = str(tmp_path / "log.db")
    base = ["--secret", SECRET, "--db", db, "--retry-delays", ""]
    assert main(["send", rx.url, "--event", "task.canceled", *base]) == 1
    assert main(["send", rx.url, "--event", "task.succeeded", *base]) == 0
    capsys.readouterr()
    assert main(["deliveries", "--db", db, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["data"]
    for row in rows:
        validate(row, "moda-delivery")
    assert [r["event_type"] for r in rows] == ["task.succeeded", "task.canceled"]
    failed = rows[1]["id"]
    assert main(["deliveries", "--db", db, "--status", "failed", "--json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)["data"]] == [failed]
    assert main(["deliveries", "--db", db, "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert "task.succeeded" in out and "more: --cursor" in out
    cursor = out.split("--cursor ")[1].strip()
    assert main(["deliveries", "--db", db, "--limit", "1", "--cursor", cursor, "--json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)["data"]] == [failed]
    assert main(["deliveries", "--db", db, "--cursor", cursor[:-3] + "AAA"]) == 2
    assert "not a valid cursor" in capsys.readouterr().err

    assert main(["redeliver", failed, "--db", db, "--secret", SECRET, "--json"]) == 0
    summary = _lines(capsys.readouterr().out)[-1]
    assert summary["replayed_from_id"] == failed and summary["status"] == "succeeded"
    assert rx.bodies[-1] == rx.bodies[0] and all(rx.verdicts)
    assert main(["deliveries", "--db", db, "--show", str(summary["id"])]) == 0
    assert f"replayed from {failed}" in capsys.readouterr().out
    assert main(["redeliver", failed, "--db", db, "--secret", "wrong-secret-still-sends"]) == 0
    assert rx.verdicts[-1] is False  # the receiver can tell: the secret is never read from the log


def test_overridden_rules_are_marked_not_faithful(server: HTTPServer, capsys: pytest.CaptureFixture[str]):
    moda = get_profile("moda")
    rx = Rx(server, "moda", SECRET, [500])
    code = main(["send", rx.url, "--secret", SECRET, "--deadline", "2", "--retry-delays", "0,0,0"])
    out, _ = capsys.readouterr()
    header = out.splitlines()[1]
    assert code == 1
    assert header.count("NOT FAITHFUL") == 2, header
    assert f"Moda's is {moda.deadline_ns // 10**9:g} s" in header
    assert "--deadline, --retry-delays overridden" in out.splitlines()[-1]


def test_faithful_run_has_no_marker_and_modio_override_is_marked_in_json(
    server: HTTPServer, capsys: pytest.CaptureFixture[str]
):
    rx = Rx(server, "moda", SECRET, [200])
    assert main(["send", rx.url, "--secret", SECRET]) == 0
    assert "NOT FAITHFUL" not in capsys.readouterr().out
    rx = Rx(server, "modio", TOKEN, [500])
    args = ["send", rx.url, "--profile", "modio", "--secret", TOKEN, "--retry-delays", "0,0,0", "--json"]
    assert main(args) == 1
    summary = _lines(capsys.readouterr().out)[-1]
    assert summary["attempts"] == 4 and len(rx.bodies) == 4
    assert summary["faithful"] is False and summary["not_faithful"] == {"retry_delays_s": [0.0, 0.0, 0.0]}
