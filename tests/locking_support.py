"""A ``--db`` file locked by another process, for the locked-database tests.

:class:`Held` is a second, real ``sqlite3`` connection holding the file's lock (``BEGIN
EXCLUSIVE``).  In WAL mode (hookmock's default) that blocks writers only; on a file out of WAL mode
it blocks readers too.  SQLite leaves a file out of WAL mode where it cannot use WAL (a filesystem
without shared memory): ``PRAGMA journal_mode=WAL`` then answers the old mode and raises nothing.
:func:`keep_rollback_journal` makes every connection opened meanwhile behave that way.
"""

from __future__ import annotations

import sqlite3
from functools import partial
from pathlib import Path
from typing import Any

import pytest


class _NoWal(sqlite3.Connection):
    """A connection on which ``PRAGMA journal_mode=WAL`` keeps the rollback journal."""

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql.replace(" ", "").lower() == "pragmajournal_mode=wal":
            sql = "PRAGMA journal_mode=DELETE"
        return super().execute(sql, *args)


def keep_rollback_journal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite3, "connect", partial(sqlite3.connect, factory=_NoWal))


def journal_mode(path: Path) -> str:
    raw = sqlite3.Connection(str(path))
    try:
        return str(raw.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        raw.close()


class Held:
    """A second connection holding ``path``'s lock (``BEGIN EXCLUSIVE``) until :meth:`release`."""

    def __init__(self, path: Path | str) -> None:
        self.db = sqlite3.Connection(str(path), isolation_level=None, timeout=5)
        self.db.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        self.db.execute("ROLLBACK")
        self.db.close()
