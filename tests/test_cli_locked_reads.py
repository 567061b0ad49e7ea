"""A ``--db`` file another process locks after a command opened it: exit 2 naming the file.

``hookmock deliveries`` and ``hookmock redeliver`` open the log (a lock there was already said
clearly), then read it; a lock taken in between (the file out of WAL mode, another process in
``BEGIN EXCLUSIVE``) used to end the command with SQLite's raw ``OperationalError`` traceback.  Now
it is the same message as a write that met the lock: "database 'x.db' is locked ...", exit 2.
Real SQLite files; the lock is a second real connection, taken right after the log was opened.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hookmock._util.sqlite import BUSY_TIMEOUT_ENV
from hookmock.cli import main
from hookmock.delivery.log import DeliveryLog
from locking_support import Held, journal_mode, keep_rollback_journal

COMMANDS = {
    "deliveries": ["deliveries"],
    "deliveries --json": ["deliveries", "--json"],
    "deliveries --show": ["deliveries", "--show", "whd_01"],
    "redeliver": ["redeliver", "whd_01", "--secret", "s3cret"],
}


@pytest.fixture
def log_locked_once_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv(BUSY_TIMEOUT_ENV, "0.05")
    keep_rollback_journal(monkeypatch)
    path = tmp_path / "x.db"
    DeliveryLog(path).close()
    assert journal_mode(path) == "delete"
    held: list[Held] = []
    opened = DeliveryLog._setup

    def setup_then_lock(self: DeliveryLog) -> None:
        opened(self)
        held.append(Held(self.path))  # another process takes the lock now

    monkeypatch.setattr(DeliveryLog, "_setup", setup_then_lock)
    yield path
    for h in held:
        h.release()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_read_that_meets_the_lock_exits_2_naming_the_file(
    log_locked_once_open: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(log_locked_once_open)
    code = main([*COMMANDS[command], "--db", path])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "OperationalError" not in err
    assert f"error: database {path!r} is locked: another process holds its write lock" in err
    assert "another --db file" in err


def test_a_lock_error_without_a_db_option_is_not_reworded(tmp_path: Path) -> None:
    # a command without --db keeps its own errors: only a --db file is named as locked
    import sqlite3
    from argparse import Namespace

    from hookmock.cli import _locked_db

    locked = sqlite3.OperationalError("database is locked")
    assert _locked_db(Namespace(), locked) is None
    assert _locked_db(Namespace(db="x.db"), sqlite3.OperationalError("no such table: x")) is None
    assert "x.db" in str(_locked_db(Namespace(db="x.db"), locked))
