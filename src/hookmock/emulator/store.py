"""The emulator's own SQLite tables (tasks, mod.io game settings, settings), in the same file
as the delivery log.  One connection guarded by a lock: the server is threaded and SQLite
connections are not shared across threads without one."""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from .._util.files import create_private
from .._util.sqlite import DatabaseLocked, busy_timeout_s, check_hookmock_tables, immediate, is_locked

__all__ = ["Store", "TaskMoved", "TaskRow", "write_delivery_game", "write_reset", "write_task"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS emu_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS emu_tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT NOT NULL,
    api_key_id TEXT NOT NULL,
    idempotency_key TEXT,
    request_hash TEXT,
    callback_url TEXT,
    input_json TEXT NOT NULL,
    canvas_id TEXT,
    created_ns INTEGER NOT NULL,
    started_ns INTEGER,
    completed_ns INTEGER,
    due_ns INTEGER,
    result_json TEXT,
    error_json TEXT,
    event_id TEXT,
    delivery_id TEXT,
    fired INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS emu_tasks_idem ON emu_tasks (api_key_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS emu_tasks_due ON emu_tasks (due_ns) WHERE due_ns IS NOT NULL;
CREATE TABLE IF NOT EXISTS emu_games (
    game_id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    token TEXT NOT NULL,
    ruleset_uuid TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS emu_delivery_games (delivery_id TEXT PRIMARY KEY, game_id TEXT NOT NULL);
"""

_TASK_COLUMNS = [
    "id",
    "kind",
    "status",
    "outcome",
    "api_key_id",
    "idempotency_key",
    "request_hash",
    "callback_url",
    "input_json",
    "canvas_id",
    "created_ns",
    "started_ns",
    "completed_ns",
    "due_ns",
    "result_json",
    "error_json",
    "event_id",
    "delivery_id",
    "fired",
]


@dataclass
class TaskRow:
    id: str
    kind: str
    status: str
    outcome: str
    api_key_id: str
    idempotency_key: str | None
    request_hash: str | None
    callback_url: str | None
    input_json: str
    canvas_id: str | None
    created_ns: int
    started_ns: int | None
    completed_ns: int | None
    due_ns: int | None
    result_json: str | None
    error_json: str | None
    event_id: str | None
    delivery_id: str | None
    fired: int = 0
    seq: int = 0

    @property
    def input(self) -> dict[str, Any]:
        value = json.loads(self.input_json)
        return value if isinstance(value, dict) else {}


class TaskMoved(Exception):
    """A task was not in the status a transition expected: another thread moved it first (a
    cancel racing the clock).  Raised inside the write, so nothing of the transition is kept."""


def write_task(
    db: sqlite3.Connection, task_id: str, fields: dict[str, Any], *, expect_status: str | None = None
) -> None:
    """Update a task's columns on ``db``: the store's own connection, or the delivery log's inside
    the transaction that creates the task's webhook (one atomic step, see ``DeliveryLog.alongside``).

    ``expect_status``: only if the task is still in that status (compare and set), else
    :class:`TaskMoved`, so two threads can never both end a task (and fire it twice)."""
    unknown = set(fields) - set(_TASK_COLUMNS)
    if unknown:
        raise KeyError(f"unknown task columns {sorted(unknown)}")
    sets = ", ".join(f"{k} = ?" for k in fields)
    sql = f"UPDATE emu_tasks SET {sets} WHERE id = ?"
    args = [*fields.values(), task_id]
    if expect_status is not None:
        sql += " AND status = ?"
        args.append(expect_status)
    if db.execute(sql, args).rowcount != 1 and expect_status is not None:
        raise TaskMoved(f"task {task_id} is no longer {expect_status}")


def write_delivery_game(db: sqlite3.Connection, delivery_id: str, game_id: str) -> None:
    """Link a mod.io history entry to its game on ``db`` (see :func:`write_task`)."""
    db.execute(
        "INSERT OR REPLACE INTO emu_delivery_games (delivery_id, game_id) VALUES (?, ?)",
        (delivery_id, game_id),
    )


class Store:
    def __init__(self, path: str, *, durable: bool = True) -> None:
        """``durable=False``: a throw-away file (the emulator's default database, in a temporary
        folder removed at exit) is not synced to disk on every write; a crash of the process still
        loses nothing the OS has, only a power loss could, and that file does not outlive the run."""
        self.path = path
        self._lock = threading.RLock()
        create_private(path, "--db")  # mode 0600: it holds the API key, signing secret, tokens
        self._db = sqlite3.connect(
            path, check_same_thread=False, isolation_level=None, timeout=busy_timeout_s()
        )
        self._db.row_factory = sqlite3.Row
        self.durable = durable
        try:
            with self._lock:
                check_hookmock_tables(self._db, path)  # before changing another program's file
                # FULL, as the delivery log: a task answered 202 survives a power loss, not only a kill.
                # Set before the switch to WAL: with FULL, that switch syncs the file too.
                self._db.execute("PRAGMA synchronous=FULL" if durable else "PRAGMA synchronous=OFF")
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.executescript(_SCHEMA)
        except BaseException as exc:
            self._db.close()
            if is_locked(exc):
                raise DatabaseLocked(path) from None
            raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return immediate(self._db, self._lock, self.path)

    def check_writable(self) -> None:
        """Take the file's write lock and give it back at once: :class:`DatabaseLocked` (after the
        busy wait) while another process holds it, before anything has been changed."""
        with self.transaction():
            pass

    # -- settings ----------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM emu_meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO emu_meta (key, value) VALUES (?, ?)", (key, value))

    # -- tasks -------------------------------------------------------------------------
    def insert_task(self, row: TaskRow) -> None:
        values = [getattr(row, c) for c in _TASK_COLUMNS]
        marks = ", ".join("?" for _ in _TASK_COLUMNS)
        with self.transaction() as db:
            db.execute(f"INSERT INTO emu_tasks ({', '.join(_TASK_COLUMNS)}) VALUES ({marks})", values)

    def update_task(self, task_id: str, *, expect_status: str | None = None, **fields: Any) -> None:
        with self.transaction() as db:
            write_task(db, task_id, fields, expect_status=expect_status)

    def task(self, task_id: str) -> TaskRow | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM emu_tasks WHERE id = ?", (task_id,)).fetchone()
        return None if row is None else TaskRow(**dict(row))

    def task_by_idempotency(self, api_key_id: str, key: str) -> TaskRow | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM emu_tasks WHERE api_key_id = ? AND idempotency_key = ?", (api_key_id, key)
            ).fetchone()
        return None if row is None else TaskRow(**dict(row))

    def list_tasks(
        self, *, before_seq: int | None, limit: int, kind: str | None = None, status: str | None = None
    ) -> list[TaskRow]:
        """Newest first; ``before_seq`` is the cursor position."""
        where: list[str] = []
        args: list[object] = []
        if before_seq is not None:
            where.append("seq < ?")
            args.append(before_seq)
        if kind is not None:
            where.append("kind = ?")
            args.append(kind)
        if status is not None:
            where.append("status = ?")
            args.append(status)
        sql = "SELECT * FROM emu_tasks" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY seq DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, [*args, limit]).fetchall()
        return [TaskRow(**dict(r)) for r in rows]

    def due_tasks(self, now_ns: int) -> list[TaskRow]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM emu_tasks WHERE due_ns IS NOT NULL AND due_ns <= ? ORDER BY due_ns, seq",
                (now_ns,),
            ).fetchall()
        return [TaskRow(**dict(r)) for r in rows]

    def unfired_tasks(self) -> list[TaskRow]:
        """Terminal tasks whose webhook was decided but not yet handed to the sender (a crash
        between the two): fired again at start-up so nothing is lost."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM emu_tasks WHERE fired = 1 AND delivery_id IS NULL ORDER BY seq"
            ).fetchall()
        return [TaskRow(**dict(r)) for r in rows]

    def task_delivery(self, task_id: str, event_id: str) -> str | None:
        """The original delivery of a task's webhook already in the delivery log (same file), if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT id FROM deliveries WHERE agent_job_id = ? AND event_id = ? "
                "AND replayed_from_id IS NULL ORDER BY seq LIMIT 1",
                (task_id, event_id),
            ).fetchone()
        return None if row is None else str(row["id"])

    def next_due_ns(self) -> int | None:
        with self._lock:
            row = self._db.execute("SELECT MIN(due_ns) AS d FROM emu_tasks").fetchone()
        return None if row is None or row["d"] is None else int(row["d"])

    def count_tasks(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM emu_tasks").fetchone()[0])

    # -- mod.io games ------------------------------------------------------------------
    def set_game(self, game_id: str, url: str, token: str, ruleset_uuid: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO emu_games (game_id, url, token, ruleset_uuid) VALUES (?, ?, ?, ?)",
                (game_id, url, token, ruleset_uuid),
            )

    def game(self, game_id: str) -> dict[str, str] | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM emu_games WHERE game_id = ?", (game_id,)).fetchone()
        return None if row is None else dict(row)

    def games(self) -> list[dict[str, str]]:
        with self._lock:
            return [dict(r) for r in self._db.execute("SELECT * FROM emu_games ORDER BY game_id")]

    def set_delivery_game(self, delivery_id: str, game_id: str) -> None:
        with self.transaction() as db:
            write_delivery_game(db, delivery_id, game_id)

    def delivery_game(self, delivery_id: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT game_id FROM emu_delivery_games WHERE delivery_id = ?", (delivery_id,)
            ).fetchone()
        return None if row is None else str(row["game_id"])

    def reset(self) -> None:
        """Forget tasks and games (settings such as the cursor key stay)."""
        with self.transaction() as db:
            write_reset(db)


def write_reset(db: sqlite3.Connection) -> None:
    """Forget tasks and games, and hide the deliveries so far (the ``reset_seq`` watermark: the
    log is append-only); on ``db``, inside the transaction that cancels every pending delivery."""
    db.execute("DELETE FROM emu_tasks")
    db.execute("DELETE FROM emu_games")
    db.execute(
        "INSERT OR REPLACE INTO emu_meta (key, value) "
        "VALUES ('reset_seq', (SELECT CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM deliveries))"
    )
