"""The delivery log at 1,000,000 rows: one filtered page of 200, newest first, and a deep cursor page.

Rows are bulk-inserted straight into a log file made by :class:`DeliveryLog` (same schema and
indexes), then pages are read through :meth:`DeliveryLog.list`.

    python bench/bench_log.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _harness import Figure, median_of

from hookmock.clock import SECOND
from hookmock.delivery.log import DeliveryLog
from hookmock.ids import crockford_id

T0 = 1_777_593_600 * SECOND
EVENTS = ("task.succeeded", "task.failed", "task.canceled", "export.succeeded", "export.failed")
STATUSES = ("succeeded", "failed", "pending")
TARGET_MS = 10
PAGE = 200
_INSERT = (
    "INSERT INTO deliveries (id, profile, event_id, event_type, target_url, status, phase, attempts, "
    "created_ns, api_key_id, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _fill(path: Path, rows: int) -> None:
    DeliveryLog(path).close()
    rng = random.Random(1)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    body = b'{"id":"evt_x","type":"task.succeeded","data":{}}'
    batch = []
    for n in range(rows):
        status = rng.choice(STATUSES)
        phase = "scheduled" if status == "pending" else status
        batch.append(
            (
                crockford_id("whd", rng=rng),
                "moda",
                f"evt_{n}",
                rng.choice(EVENTS),
                "http://127.0.0.1:8000/hook",
                status,
                phase,
                rng.randint(1, 4),
                T0 + n * 10_000_000,
                f"key_{rng.randint(1, 20)}",
                body,
            )
        )
        if len(batch) == 50_000:
            db.executemany(
                _INSERT,
                batch,
            )
            batch.clear()
    if batch:
        db.executemany(
            _INSERT,
            batch,
        )
    db.commit()
    db.execute("ANALYZE")
    db.close()


def figures(rows: int, runs: int) -> list[Figure]:
    out: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.db"
        _fill(path, rows)
        with DeliveryLog(path) as log:
            queries = {
                "no filter": {},
                "event_type": {"event_type": "export.failed"},
                "status": {"status": "failed"},
                "api_key_id": {"api_key_id": "key_7"},
                "event_type+status+api_key": {
                    "event_type": "task.failed",
                    "status": "pending",
                    "api_key_id": "key_3",
                },
                "date range": {
                    "created_from": T0 + rows // 2 * 10_000_000,
                    "created_to": T0 + rows * 9_000_000,
                },
            }
            for name, filters in queries.items():
                page = log.list(limit=PAGE, **filters)  # type: ignore[arg-type]
                assert len(page.records) == PAGE or page.next_cursor is None, name  # short only at the end
                assert page.records, name
                ms = median_of(lambda f=filters: log.list(limit=PAGE, **f), runs)  # type: ignore[misc]
                out.append(
                    Figure(
                        f"log {rows:,} rows: page of {PAGE}, {name}",
                        ms,
                        "ms",
                        f"< {TARGET_MS} ms",
                        ms < TARGET_MS,
                    )
                )
            cursor = None
            for _ in range(20):  # walk 20 pages of 200 in: the cursor page costs what the first does
                cursor = log.list(limit=200, status="failed", cursor=cursor).next_cursor
            ms = median_of(lambda: log.list(limit=200, status="failed", cursor=cursor), runs)
            out.append(
                Figure(
                    f"log {rows:,} rows: 21st page of 200 by cursor",
                    ms,
                    "ms",
                    f"< {TARGET_MS} ms",
                    ms < TARGET_MS,
                )
            )
    return out


def log_pages(smoke: bool) -> list[Figure]:
    return figures(50_000 if smoke else 1_000_000, 5 if smoke else 15)


FIGURES = [log_pages]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    for fig in figures(args.rows, 15):
        print(fig.row(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
