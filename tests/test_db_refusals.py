"""A ``--db`` file hookmock must not use as it is: one another process holds the write lock of
(a clear "locked" error naming the file after a short wait, exit 2, never a traceback or the
wrong "not a hookmock delivery log"), and another program's SQLite database (refused, untouched,
instead of hookmock adding its tables beside the program's).  An empty file, a new path and
hookmock's own logs, older layouts included, still open."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator_support import running
from hookmock._util.sqlite import BUSY_TIMEOUT_ENV, DatabaseLocked
from hookmock.delivery.log import DeliveryLog
from hookmock.emulator.config import EmulatorConfig
from hookmock.emulator.core import EmulatorCore
from hookmock.errors import UsageError

URL = "http://127.0.0.1:9/hook"  # the discard port: nothing is sent by these cases
COMMANDS = {
    "send": ["send", URL, "--secret", "s3cret"],
    "serve": ["serve", "--port", "0"],
}


def _hookmock(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, BUSY_TIMEOUT_ENV: "0.2"}
    return subprocess.run(
        [sys.executable, "-m", "hookmock", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=db.parent,
    )


@pytest.fixture
def short_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BUSY_TIMEOUT_ENV, "0.2")


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


@pytest.fixture(params=["hookmock-log", "new-file"])
def locked_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "x.db"
    if request.param == "hookmock-log":
        DeliveryLog(path).close()
    holder = _hold_write_lock(path)
    yield path
    holder.execute("ROLLBACK")
    holder.close()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_cli_on_a_locked_db_says_locked_naming_the_file_exit_2(locked_db: Path, command: str) -> None:
    result = _hookmock(*COMMANDS[command], db=locked_db)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"'{locked_db}' is locked" in result.stderr
    assert "another process" in result.stderr and "another --db" in result.stderr
    assert "not a hookmock" not in result.stderr


def test_an_older_log_gaining_an_index_while_locked_says_locked(tmp_path: Path, short_wait: None) -> None:
    path = tmp_path / "old.db"
    DeliveryLog(path).close()
    raw = sqlite3.connect(path)
    raw.execute("DROP INDEX attempts_in_flight")  # as an older hookmock left it
    raw.commit()
    raw.close()
    holder = _hold_write_lock(path)
    try:
        with pytest.raises(DatabaseLocked) as caught:
            DeliveryLog(path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert f"'{path}' is locked" in str(caught.value)
    assert "not a hookmock" not in str(caught.value)
    with DeliveryLog(path) as log:  # once the lock is gone the index is added as before
        assert log.schema_version > 0
    names = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert "attempts_in_flight" in names


def test_a_write_while_locked_is_a_usage_error_naming_the_file(tmp_path: Path, short_wait: None) -> None:
    path = tmp_path / "log.db"
    with DeliveryLog(path) as log:
        holder = _hold_write_lock(path)
        try:
            with pytest.raises(DatabaseLocked, match="is locked"):
                _create(log)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert log.count() == 0


def _create(log: DeliveryLog) -> None:
    log.create(
        delivery_id="del_1",
        profile="moda",
        event_id="evt_1",
        event_type="task.succeeded",
        target_url=URL,
        body=b"{}",
        created_ns=1,
    )


# -- another program's SQLite database ------------------------------------------------------


def _other_program_db(tmp_path: Path) -> Path:
    path = tmp_path / "other.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE x (a)")
    raw.execute("INSERT INTO x VALUES (1)")
    raw.commit()
    raw.close()
    return path


def _untouched(path: Path) -> None:
    raw = sqlite3.connect(path)
    assert [r[0] for r in raw.execute("SELECT name FROM sqlite_master")] == ["x"]
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert raw.execute("SELECT a FROM x").fetchall() == [(1,)]
    raw.close()


def test_the_api_refuses_another_programs_database(tmp_path: Path) -> None:
    path = _other_program_db(tmp_path)
    with pytest.raises(UsageError) as caught:
        DeliveryLog(path)
    message = str(caught.value)
    assert repr(str(path)) in message and "tables: x" in message
    assert "new file" in message and "hookmock log" in message
    with pytest.raises(UsageError, match="tables: x"):
        EmulatorCore(EmulatorConfig(db_path=str(path)))
    _untouched(path)


@pytest.mark.parametrize("command", [*sorted(COMMANDS), "deliveries"])
def test_cli_refuses_another_programs_database_exit_2(tmp_path: Path, command: str) -> None:
    path = _other_program_db(tmp_path)
    result = _hookmock(*COMMANDS.get(command, [command]), db=path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "other.db" in result.stderr and "tables: x" in result.stderr
    _untouched(path)


def test_empty_file_new_path_and_hookmock_files_still_open(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    with DeliveryLog(empty) as log:
        _create(log)
    with DeliveryLog(empty) as log:  # reopened: its own tables
        assert log.count() == 1
    with DeliveryLog(tmp_path / "new.db") as log:
        assert log.count() == 0
    # the emulator's file (its emu_* tables and the log's) opens in the emulator and as a log
    shared = tmp_path / "emu.db"
    core = EmulatorCore(EmulatorConfig(db_path=str(shared)))
    core.close()
    with DeliveryLog(shared):
        pass
    # a file holding only the emulator's own tables (as before the log's were added) too
    only_emu = tmp_path / "only-emu.db"
    raw = sqlite3.connect(only_emu)
    raw.execute("CREATE TABLE emu_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    raw.commit()
    raw.close()
    with DeliveryLog(only_emu):
        pass


def test_emulator_request_while_its_db_is_locked_is_a_503_saying_locked(
    tmp_path: Path, short_wait: None
) -> None:
    """Not a 400 blaming the client, nor a 500 as for a bug: the lock is another process's doing
    and goes away (503 with Retry-After; every route: tests/test_emulator_locked_reads.py)."""
    path = tmp_path / "emu.db"
    with running(db_path=str(path)) as (_emulator, api):
        holder = _hold_write_lock(path)
        try:
            status, body, _ = api.call("POST", "/v1/tasks", {"prompt": "a poster"})
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert status == 503, body
        assert body["error"]["code"] == "database_locked"
        assert f"'{path}' is locked" in json.dumps(body), body
        status, body, _ = api.call("POST", "/v1/tasks", {"prompt": "a poster"})  # lock gone: works
        assert status in (200, 201, 202), body
