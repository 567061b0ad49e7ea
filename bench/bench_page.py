"""The emulator's history page on a 1,000,000-row delivery log: one page render over HTTP.

The rows (Moda and mod.io, every status; a few pending, due in a day) are bulk-inserted straight
into a log file made by :class:`DeliveryLog` (same schema and indexes), an emulator is started on
that file, and ``GET /_hookmock/ui`` is timed with each filter, the id search and a deep cursor
page, plus the JSON its live updates poll.  Target: under 200 ms per render; the ratio column is
the figure over that budget (under 1 is met).

    python bench/bench_page.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import random
import re
import sqlite3
import sys
import tempfile
import urllib.request
from html import unescape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _harness import Figure, median_of

from hookmock.clock import SECOND
from hookmock.delivery.log import DeliveryLog
from hookmock.emulator import Emulator, EmulatorConfig
from hookmock.ids import crockford_id

T0 = 1_777_593_600 * SECOND
MODA = ("task.succeeded", "task.failed", "task.canceled", "export.succeeded", "export.failed")
MODIO = ("MOD_ADDED", "ADD_MOD_COMMENT", "PING")
TARGET_MS = 200.0
_INSERT = (
    "INSERT INTO deliveries (id, profile, event_id, event_type, target_url, status, phase, attempts, "
    "created_ns, next_due_ns, response_status_code, response_body_excerpt, last_duration_ns, body) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def fill(path: Path, rows: int) -> tuple[str, str]:
    """``rows`` deliveries (1 in 10 mod.io, 1 in 10,000 pending); returns a delivery id and an
    event id from the middle of the log (what the search looks for)."""
    DeliveryLog(path).close()
    rng = random.Random(1)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    body = b'{"id":"evt_x","type":"task.succeeded","data":{}}'
    batch = []
    middle = ("", "")
    for n in range(rows):
        modio = n % 10 == 0
        status = "pending" if n % 10_000 == 5 else rng.choice(("succeeded", "failed"))
        created = T0 + n * 10_000_000
        delivery_id = crockford_id("whd", rng=rng)
        event_id = f"evt_{n:08d}"
        if n == rows // 2:
            middle = (delivery_id, event_id)
        batch.append(
            (
                delivery_id,
                "modio" if modio else "moda",
                event_id,
                rng.choice(MODIO if modio else MODA),
                "http://127.0.0.1:9/hook",
                status,
                "scheduled" if status == "pending" else status,
                rng.randint(1, 4),
                created,
                created + 86_400 * SECOND if status == "pending" else None,
                500 if status != "succeeded" else 200,
                b"upstream said no" if status != "succeeded" else b"ok",
                12_000_000,
                body,
            )
        )
        if len(batch) == 50_000:
            db.executemany(_INSERT, batch)
            batch.clear()
    if batch:
        db.executemany(_INSERT, batch)
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return middle


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        body: bytes = response.read()
        return body


def page_figures(
    base: str,
    rows: int,
    delivery_id: str,
    event_id: str,
    runs: int,
    *,
    label: str = "page",
    target_ms: float = TARGET_MS,
) -> list[Figure]:
    """The history page's figures on a filled log: every filter, both searches and a page deep
    in by cursor (20 pages walked in first), each the median of ``runs`` renders."""
    out: list[Figure] = []
    older = None
    for _ in range(20):  # walk 20 pages in: a cursor page costs what the first does
        html = _get(base + (f"?{older}" if older else "")).decode()
        found = re.search(r"id=older rel=next href='/_hookmock/ui\?([^']+)'", html)
        assert found, "the page has no Older link"
        older = unescape(found.group(1))
    renders = {
        "first page": "",
        "profile=modio": "?profile=modio",
        "status=pending": "?status=pending",
        "event_type=task.failed": "?event_type=task.failed",
        "profile+status+event_type": "?profile=modio&status=failed&event_type=PING",
        "search by delivery id": f"?q={delivery_id}",
        "search by event id": f"?q={event_id}",
        "21st page by cursor": f"?{older}",
    }
    for name, query in renders.items():
        html = _get(base + query).decode()
        assert html.count("data-delivery-id=") >= 1, name
        ms = median_of(lambda q=query: _get(base + q), runs)  # type: ignore[misc]
        out.append(
            Figure(
                f"{label} on {rows:,} rows: {name}",
                ms,
                "ms",
                f"< {target_ms:g} ms",
                ms < target_ms,
                baseline=target_ms,
                ratio=ms / target_ms,
            )
        )
    return out


def figures(rows: int, runs: int) -> list[Figure]:
    out: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.db"
        delivery_id, event_id = fill(path, rows)
        emulator = Emulator(EmulatorConfig(port=0, clock="virtual", db_path=str(path))).start()
        try:
            base = emulator.base_url + "/_hookmock/ui"
            out.extend(page_figures(base, rows, delivery_id, event_id, runs))
            ms = median_of(lambda: _get(base + "/rows"), runs)
            out.append(
                Figure(
                    f"page on {rows:,} rows: live-update JSON",
                    ms,
                    "ms",
                    f"< {TARGET_MS:g} ms",
                    ms < TARGET_MS,
                    baseline=TARGET_MS,
                    ratio=ms / TARGET_MS,
                )
            )
        finally:
            emulator.stop()
    return out


def page_renders(smoke: bool) -> list[Figure]:
    return figures(50_000 if smoke else 1_000_000, 5 if smoke else 15)


FIGURES = [page_renders]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    print("| figure | value | baseline | ratio | target | met |\n|---|---|---|---|---|---|")
    for fig in figures(args.rows, 15):
        print(fig.row())
    return 0


if __name__ == "__main__":
    sys.exit(main())
