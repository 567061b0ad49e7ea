"""A page filtered by API key and by event type or status is checked inside one index.

``DeliveryLog.list(event_type=..., status=..., api_key_id=...)`` walked the API key's index and
read every row of that key from the table to test its event type and status: on 10 M rows, tens
of ms a page.  ``deliveries_by_api_key_filters`` carries those columns, replaces the narrower
``deliveries_by_api_key`` (added to older logs on open, without a new schema version) and the
page reads only its own rows.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from hookmock.clock import SECOND
from hookmock.delivery._schema import EXTRA_INDEXES, REPLACED_INDEXES
from hookmock.delivery.log import SCHEMA_VERSION, DeliveryLog

T0 = 1_777_593_600 * SECOND
ROWS = 4_000
TYPES = ("task.succeeded", "task.failed", "export.succeeded")
_INSERT = (
    "INSERT INTO deliveries (id, profile, event_id, event_type, target_url, status, phase, attempts, "
    "created_ns, api_key_id, body) VALUES (?, ?, ?, ?, 'http://127.0.0.1:9/hook', ?, ?, 1, ?, ?, x'7b7d')"
)


def _fill(path: Path) -> list[tuple[str, str, str, str, str, int]]:
    DeliveryLog(path).close()
    rng = random.Random(7)
    rows = []
    for n in range(ROWS):
        status = rng.choice(("succeeded", "failed"))
        created = T0 + (n // 3) * SECOND  # ties on created_ns: the page order falls back to seq
        row = (f"whd_{n:06d}", "moda" if n % 5 else "modio", f"evt_{n}", rng.choice(TYPES), status, created)
        rows.append(row)
    db = sqlite3.connect(path)
    db.executemany(
        _INSERT, [(i, p, e, t, s, s, c, f"key_{n % 20}") for n, (i, p, e, t, s, c) in enumerate(rows)]
    )
    db.commit()
    db.execute("ANALYZE")  # the planner's statistics, as a long-lived log has them
    db.commit()
    db.close()
    return rows


def _plan(log: DeliveryLog, columns: str, **filters: str) -> list[str]:
    sql = (
        f"SELECT {columns} FROM deliveries WHERE "
        + " AND ".join(f"{k} = ?" for k in filters)
        + " ORDER BY created_ns DESC, seq DESC LIMIT 201"
    )
    return [str(r[3]) for r in log._db.execute("EXPLAIN QUERY PLAN " + sql, list(filters.values()))]


def test_three_filters_walk_the_wide_index_and_page_exactly(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    rows = _fill(path)
    with DeliveryLog(path) as log:
        filters = {"event_type": "task.failed", "status": "failed", "api_key_id": "key_3"}
        plan = _plan(log, "*", **filters)
        assert plan == ["SEARCH deliveries USING INDEX deliveries_by_api_key_filters (api_key_id=?)"], plan
        # every filter is in the index: which rows belong to the page is known without the table
        plan = _plan(log, "seq", **filters)
        assert plan == [
            "SEARCH deliveries USING COVERING INDEX deliveries_by_api_key_filters (api_key_id=?)"
        ], plan
        wanted = [
            (c, n + 1)
            for n, (_, _, _, t, s, c) in enumerate(rows)
            if t == "task.failed" and s == "failed" and n % 20 == 3
        ]
        wanted.sort(reverse=True)
        got: list[tuple[int, int]] = []
        cursor = None
        while True:  # every page, by cursor: each row once, newest first
            page = log.list(limit=7, cursor=cursor, **filters)
            got.extend((r.created_ns, r.seq) for r in page.records)
            assert all(r.event_type == "task.failed" and r.status == "failed" for r in page.records)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert got == wanted and len(got) > 20
        with_profile = log.list(limit=200, api_key_id="key_4", profile="modio", status="succeeded")
        assert [r.id for r in with_profile.records] == [
            i
            for n, (i, p, _, _, s, _) in reversed(list(enumerate(rows)))
            if n % 20 == 4 and p == "modio" and s == "succeeded"
        ]


def test_an_older_log_gains_the_wide_index_on_open_and_keeps_its_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "older.db"
    _fill(path)
    raw = sqlite3.connect(path)  # as the hookmock before this index wrote the file
    raw.execute("DROP INDEX deliveries_by_api_key_filters")
    raw.execute("CREATE INDEX deliveries_by_api_key ON deliveries (api_key_id, created_ns DESC, seq DESC)")
    raw.commit()
    raw.close()
    with DeliveryLog(path) as log:
        names = {r[0] for r in log._db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert set(EXTRA_INDEXES) <= names and names.isdisjoint(REPLACED_INDEXES)
        assert log.schema_version == SCHEMA_VERSION  # not bumped: an older hookmock still opens it
        assert len(log.list(limit=200, api_key_id="key_1").records) == ROWS // 20
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()
    with DeliveryLog(path) as log:  # opened again: nothing left to add or drop
        assert len(log.list(limit=200, api_key_id="key_1").records) == ROWS // 20
