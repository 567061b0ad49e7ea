"""The emulator's SQLite durability: a ``--db`` file is synced on every commit (``synchronous=FULL``)
on both of its connections (tasks and the delivery log); the default database, a temporary file
removed at exit, is synced on none (``synchronous=OFF``), including while its schema is made."""

from __future__ import annotations

from pathlib import Path

from emulator_support import running

FULL, OFF = 2, 0


def _pragmas(emu: object) -> list[tuple[int, str]]:
    core = emu.core  # type: ignore[attr-defined]
    out = []
    for db in (core.store._db, core.gateway.log._db):
        sync = db.execute("PRAGMA synchronous").fetchone()[0]
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        out.append((sync, mode))
    return out


def test_a_db_file_is_synced_on_every_commit(tmp_path: Path) -> None:
    with running(db_path=str(tmp_path / "emu.db")) as (emu, api):
        assert _pragmas(emu) == [(FULL, "wal"), (FULL, "wal")]
        assert api.get("/_hookmock/ready")["ready"] is True


def test_the_default_temporary_database_is_not_synced(tmp_path: Path) -> None:
    with running() as (emu, api):
        assert _pragmas(emu) == [(OFF, "wal"), (OFF, "wal")]
        task = api.post("/v1/tasks", {"prompt": "a poster"})
        assert api.get(f"/v1/tasks/{task['id']}")["id"] == task["id"]
