"""The shop's SQLite database: processed events (the idempotency keys) and their effects."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS processed_events (
    provider    TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (provider, event_id)
);
CREATE TABLE IF NOT EXISTS effects (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    provider   TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    detail     TEXT NOT NULL
);
"""


#: SQLite's ``synchronous`` settings a store accepts.
SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


class Store:
    """One connection per operation, so the store can be used from any server thread.

    ``synchronous`` is SQLite's setting for every connection: ``FULL`` (the default) flushes each
    commit to disk; a test's throw-away database may say ``OFF`` (nothing has to survive a power
    cut there, and each flush costs milliseconds). Atomicity and the unique keys are the same.
    """

    def __init__(self, path: str | Path, *, synchronous: str = "FULL") -> None:
        if synchronous.upper() not in SYNCHRONOUS:
            raise ValueError(f"synchronous={synchronous!r}: use one of {', '.join(SYNCHRONOUS)}")
        self.path = str(path)
        self.synchronous = synchronous.upper()
        conn = self._connect()
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
        finally:
            conn.close()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def apply_once(
        self, provider: str, event_id: str, event_type: str, received_at: int, kind: str, detail: str
    ) -> bool:
        """Record the event and its effect in one transaction; False if the event was seen before.

        The unique key on (provider, event_id) decides: INSERT OR IGNORE, never check-then-insert,
        so two copies arriving at the same moment cannot both apply the effect.
        """
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO processed_events (provider, event_id, event_type, received_at) "
                "VALUES (?, ?, ?, ?)",
                (provider, event_id, event_type, received_at),
            )
            if cur.rowcount == 0:
                return False
            conn.execute(
                "INSERT INTO effects (provider, event_id, kind, detail) VALUES (?, ?, ?, ?)",
                (provider, event_id, kind, detail),
            )
            return True

    def seen(self, provider: str, event_id: str) -> bool:
        """Whether the event was already processed (a shortcut only: apply_once decides)."""
        conn = self._connect()
        try:
            row = conn.execute(
                "SELECT 1 FROM processed_events WHERE provider = ? AND event_id = ?", (provider, event_id)
            ).fetchone()
            return row is not None
        finally:
            conn.close()

    def effects(self, event_id: str | None = None) -> list[dict[str, str]]:
        conn = self._connect()
        try:
            conn.row_factory = sqlite3.Row
            if event_id is None:
                rows = conn.execute(
                    "SELECT provider, event_id, kind, detail FROM effects ORDER BY id"
                ).fetchall()
            else:
                rows = conn.execute(
                    "SELECT provider, event_id, kind, detail FROM effects WHERE event_id = ? ORDER BY id",
                    (event_id,),
                ).fetchall()
            return [dict(row) for row in rows]
        finally:
            conn.close()
