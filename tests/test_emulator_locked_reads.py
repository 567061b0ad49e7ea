"""Another process holding the emulator's ``--db`` file: every route answers a clean 503.

A read met SQLite's raw "database is locked" (the file out of WAL mode, another process in
``BEGIN EXCLUSIVE``) and a write met hookmock's own ``DatabaseLocked``: both used to be answered
500 ``internal_error``, as if the emulator had a bug.  Now every route answers 503
``database_locked`` in Moda's error body, with ``Retry-After``, naming the file and what to do; the
log has one line without a traceback or a secret; and the route works again once the lock is gone.

Real HTTP over loopback, real SQLite files, and the lock is a second real ``sqlite3`` connection.
A file out of WAL mode is what SQLite leaves when it cannot use WAL there (a filesystem without
shared memory: see ``locking_support``).
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator_support import running
from hookmock._util.sqlite import BUSY_TIMEOUT_ENV
from hookmock.emulator.routes import document
from locking_support import Held, journal_mode, keep_rollback_journal

#: A route that meets the lock must answer 503 (the others may refuse the request before that).
READS = ["/v1/tasks", "/v1/tasks/x1", "/v1/webhook_deliveries", "/_hookmock/modio/history", "/_hookmock/ui"]
WRITES = [
    ("POST", "/v1/tasks", {"prompt": "a poster"}),
    ("POST", "/_hookmock/reset", None),
    ("PUT", "/_hookmock/modio/games/g1/webhook", {"url": "http://127.0.0.1:9/hook", "token": "t0ken"}),
]


def _operations() -> list[tuple[str, str]]:
    return [
        (method.upper(), re.sub(r"{[a-z_]+}", "x1", path))
        for path, ops in document()["paths"].items()
        for method in ops
    ]


@pytest.fixture(autouse=True)
def short_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BUSY_TIMEOUT_ENV, "0.05")


@pytest.fixture
def without_wal(monkeypatch: pytest.MonkeyPatch) -> None:
    keep_rollback_journal(monkeypatch)


def send(emu: Any, method: str, path: str, body: Any = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {emu.api_key}"}
        data = None
        if body is not None or method in ("POST", "PUT"):
            data = json.dumps(body or {}).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def assert_locked_answer(status: int, headers: dict[str, str], body: bytes, db: Path) -> None:
    assert status == 503, body[:300]
    error = json.loads(body)["error"]
    assert (error["type"], error["code"]) == ("internal_error", "database_locked")
    assert f"database {str(db)!r} is locked: another process" in error["message"]
    assert "delivery log" in error["message"]
    assert "Retry" in error["message"]
    assert error["retry_after_ms"] == 1000
    assert headers["retry-after"] == "1"
    assert headers["content-type"] == "application/json"
    assert error["request_id"] == headers["x-request-id"]


@pytest.fixture
def emulator_on_file(tmp_path: Path) -> Iterator[tuple[Any, Path]]:
    db = tmp_path / "emu.db"
    with running(db_path=str(db)) as (emu, _api):
        assert send(emu, "POST", "/v1/tasks", {"prompt": "before the lock"})[0] == 202
        yield emu, db


def test_reads_of_a_file_out_of_wal_locked_by_another_process_are_503(
    without_wal: None, emulator_on_file: tuple[Any, Path], caplog: pytest.LogCaptureFixture
) -> None:
    emu, db = emulator_on_file
    assert journal_mode(db) == "delete"  # really out of WAL
    caplog.set_level(logging.INFO, logger="hookmock.emulator")
    held = Held(db)
    try:
        for path in READS:
            assert_locked_answer(*send(emu, "GET", path), db)
        # a client that put the API key in the path: the 503 and the log line quote it redacted
        status, headers, body = send(emu, "GET", f"/v1/tasks/{emu.api_key}")
        assert_locked_answer(status, headers, body, db)
        assert emu.api_key.encode() not in body
    finally:
        held.release()
    assert send(emu, "GET", "/v1/tasks")[0] == 200  # the lock gone, the route answers again
    records = [r for r in caplog.records if r.name.startswith("hookmock.emulator")]
    assert records, "the 503 leaves a line in the log"
    for record in records:
        assert record.exc_info is None, record.getMessage()
        text = record.getMessage()
        assert emu.api_key not in text and emu.signing_secret not in text


def test_every_route_on_a_locked_file_out_of_wal_answers_without_a_500(
    without_wal: None, emulator_on_file: tuple[Any, Path]
) -> None:
    emu, db = emulator_on_file
    held = Held(db)
    try:
        answers = [(m, p, *send(emu, m, p)) for m, p in _operations()]
    finally:
        held.release()
    assert len(answers) > 35
    for method, path, status, headers, body in answers:
        assert status < 500 or status == 503, (method, path, body[:300])
        if status == 503:
            assert_locked_answer(status, headers, body, db)
    locked = {(m, p) for m, p, status, _h, _b in answers if status == 503}
    assert {("GET", p) for p in READS} <= locked


def test_writes_while_another_process_holds_the_write_lock_are_503(
    emulator_on_file: tuple[Any, Path],
) -> None:
    emu, db = emulator_on_file  # WAL (the default): reads go on, writes wait for the lock
    held = Held(db)
    try:
        for method, path, body in WRITES:
            assert_locked_answer(*send(emu, method, path, body), db)
        assert send(emu, "GET", "/v1/tasks")[0] == 200
    finally:
        held.release()
    assert send(emu, *WRITES[0])[0] == 202


@pytest.mark.realtime
def test_the_real_clock_runner_says_locked_once_and_goes_on_after(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The task runner met the lock on every step (5 a second) and logged a traceback each time."""
    db = tmp_path / "emu.db"
    caplog.set_level(logging.INFO, logger="hookmock.emulator")
    with running(db_path=str(db), clock="real") as (emu, _api):
        status, _h, body = send(emu, "POST", "/v1/tasks", {"prompt": "a poster"})
        assert status == 202, body
        task_id = json.loads(body)["id"]
        held = Held(db)
        try:
            time.sleep(2.0)  # the task is due after 1 s: the runner meets the lock several times
        finally:
            held.release()
        deadline = time.monotonic() + 5
        while emu.core.store.task(task_id).status == "queued" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert emu.core.store.task(task_id).status != "queued"  # moved on once the lock was gone
    runner = [r for r in caplog.records if r.name == "hookmock.emulator"]
    assert [r.exc_info for r in runner if r.exc_info] == []
    said = [r.getMessage() for r in runner if "locked" in r.getMessage()]
    assert len(said) == 1 and f"{str(db)!r} is locked" in said[0], said
