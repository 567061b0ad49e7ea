"""SQLite helpers shared by the delivery log and the emulator's store: the ``BEGIN IMMEDIATE``
transaction, how long to wait for another process's write lock, and the checks that a file is
hookmock's (not locked by someone else, not another program's database)."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import UsageError

__all__ = [
    "BUSY_TIMEOUT_ENV",
    "DEFAULT_BUSY_TIMEOUT_S",
    "DatabaseLocked",
    "busy_timeout_s",
    "check_hookmock_tables",
    "immediate",
    "is_locked",
]

#: How long a connection waits for another process's write lock before giving up.  Another
#: hookmock sending from the same file holds it for one commit (milliseconds); a lock held longer
#: is another program's, and waiting for it longer only delays the error.
DEFAULT_BUSY_TIMEOUT_S = 10.0
#: Internal (tests): the wait in seconds, instead of :data:`DEFAULT_BUSY_TIMEOUT_S`.
BUSY_TIMEOUT_ENV = "HOOKMOCK_DB_BUSY_TIMEOUT"


def busy_timeout_s() -> float:
    raw = os.environ.get(BUSY_TIMEOUT_ENV, "")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_BUSY_TIMEOUT_S
    return value if 0 <= value <= 3600 else DEFAULT_BUSY_TIMEOUT_S


class DatabaseLocked(UsageError):
    """Another process holds the SQLite file's write lock and kept it past the busy wait."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"database {path!r} is locked: another process holds its write lock. Stop that process "
            "(or let it finish), or give another --db file"
        )


def is_locked(exc: BaseException) -> bool:
    """``exc`` is SQLite's "database is locked" / "database table is locked" (SQLITE_BUSY / LOCKED)."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc)


def begin_immediate(db: sqlite3.Connection, path: str | None) -> None:
    """``BEGIN IMMEDIATE`` on ``db``; a lock another process kept past the busy wait raises
    :class:`DatabaseLocked` naming ``path``."""
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if path is not None and is_locked(exc):
            raise DatabaseLocked(path) from None
        raise


@contextmanager
def immediate(
    db: sqlite3.Connection, lock: threading.RLock, path: str | None = None
) -> Iterator[sqlite3.Connection]:
    """A write transaction on ``db`` (opened with ``isolation_level=None``) under ``lock``:
    ``BEGIN IMMEDIATE``, then ``COMMIT``, or ``ROLLBACK`` if the body raises anything.  ``path``:
    the file's name, for the :class:`DatabaseLocked` error when another process holds the lock."""
    with lock:
        begin_immediate(db, path)
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


#: tables that make a SQLite file hookmock's: the delivery log's, and the emulator's ``emu_*``
_HOOKMOCK_TABLES = frozenset({"deliveries", "attempts", "meta"})


def check_hookmock_tables(db: sqlite3.Connection, path: str) -> None:
    """Refuse a SQLite file that holds another program's tables and none of hookmock's: hookmock
    would add its own beside them (an empty file and hookmock's own logs, of any layout, pass)."""
    names = sorted(
        str(row[0])
        for row in db.execute(
            "SELECT name FROM sqlite_master "
            "WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite!_%' ESCAPE '!'"
        )
    )
    if not names or any(n in _HOOKMOCK_TABLES or n.startswith("emu_") for n in names):
        return
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    raise UsageError(
        f"{path!r} is a SQLite database that is not hookmock's (its tables: {shown}); hookmock will "
        "not add its tables to it. Give a new file (or an empty one) or an existing hookmock log as --db"
    )
