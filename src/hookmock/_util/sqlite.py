"""SQLite helpers shared by the delivery log and the emulator's store."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["immediate"]


@contextmanager
def immediate(db: sqlite3.Connection, lock: threading.RLock) -> Iterator[sqlite3.Connection]:
    """A write transaction on ``db`` (opened with ``isolation_level=None``) under ``lock``:
    ``BEGIN IMMEDIATE``, then ``COMMIT``, or ``ROLLBACK`` if the body raises anything."""
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
