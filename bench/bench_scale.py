"""hookmock at scale: a 10,000,000-row delivery log, and memory with many deliveries pending or a
long storm.  Not part of ``run.py`` (minutes of work and gigabytes of disk): run by hand.

``log``: ``--rows`` deliveries (default 10,000,000; Moda and mod.io, every status, 1 in 10,000
pending) are written straight into a log made by :class:`DeliveryLog` (its real schema: the
secondary indexes are dropped for the bulk insert and re-created from their own SQL, so the file
ends exactly as the log makes it), under ``--dir`` (default: the temp dir), then measured: the
file's size per row, one filtered page of 200 through :meth:`DeliveryLog.list`, ``hookmock serve
--db FILE`` spawn → ready, and the history page (``GET /_hookmock/ui``, each filter, the id
search and a deep cursor page) on it.  The database is deleted at the end.

``pending``: ``hookmock serve --db FILE --clock virtual`` on a log holding ``--n`` (default
10,000) pending deliveries, due a day later: the emulator's peak RSS once it is ready, after it
has listed them (``GET /v1/webhook_deliveries``, every page) and after its history page.

``storm``: ``hookmock.run_storm`` to an in-process WSGI receiver, ``--events`` each (default
100,000 and 300,000), with RSS sampled every half second in the storm's own process: peak, and
the RSS at each quarter of the run (flat after warm-up, or not).

    python bench/bench_scale.py log [--rows 10000000] [--dir /tmp]
    python bench/bench_scale.py build --db /tmp/big.db [--rows 10000000]   # once; then:
    python bench/bench_scale.py log --db /tmp/big.db                       # measured, kept
    python bench/bench_scale.py pending [--n 10000]
    python bench/bench_scale.py storm [--events 100000 300000]

Loopback only; everything stops by itself.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _harness import Figure, median_of
from bench_page import page_figures
from bench_peers import _free_port, spawn_to_ready_ms

from hookmock.clock import SECOND
from hookmock.delivery.log import DeliveryLog
from hookmock.ids import crockford_id

T0 = 1_777_593_600 * SECOND
MODA = ("task.succeeded", "task.failed", "task.canceled", "export.succeeded", "export.failed")
MODIO = ("MOD_ADDED", "ADD_MOD_COMMENT", "PING")
PAGE_MS = 200.0
_INSERT = (
    "INSERT INTO deliveries (id, profile, event_id, event_type, target_url, status, phase, attempts, "
    "created_ns, next_due_ns, response_status_code, response_body_excerpt, last_duration_ns, api_key_id, "
    "body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def hookmock_cmd() -> str:
    return str(Path(sys.executable).with_name("hookmock"))


def fill(path: Path, rows: int, *, pending_every: int = 10_000, due_ns: int | None = None) -> tuple[str, str]:
    """``rows`` deliveries written straight into a new log at ``path``; returns a delivery id and an
    event id from the middle (what the search looks for)."""
    DeliveryLog(path).close()  # the real schema, pragmas and migrations
    db = sqlite3.connect(path)
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master "
        "WHERE type = 'index' AND sql IS NOT NULL AND tbl_name = 'deliveries'"
    ).fetchall()
    for name, _ in indexes:  # re-created below from their own SQL: a sorted build, not 10 M inserts
        db.execute(f'DROP INDEX "{name}"')
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA cache_size=-200000")
    rng = random.Random(1)
    body = b'{"id":"evt_x","type":"task.succeeded","data":{}}'
    middle = ("", "")
    batch: list[tuple[object, ...]] = []
    choice, randint = rng.choice, rng.randint
    for n in range(rows):
        modio = n % 10 == 0
        pending = n % pending_every == 5
        status = "pending" if pending else choice(("succeeded", "failed"))
        created = T0 + n * 10_000_000
        delivery_id = crockford_id("whd", ms=created // 1_000_000, rng=rng)  # time-ordered, as live ones
        event_id = f"evt_{n:08d}"
        if n == rows // 2:
            middle = (delivery_id, event_id)
        batch.append(
            (
                delivery_id,
                "modio" if modio else "moda",
                event_id,
                choice(MODIO if modio else MODA),
                "http://127.0.0.1:9/hook",
                status,
                "scheduled" if pending else status,
                1 if pending else randint(1, 4),
                created,
                (due_ns if due_ns is not None else created + 86_400 * SECOND) if pending else None,
                None if pending else 500 if status == "failed" else 200,
                None if pending else b"upstream said no" if status == "failed" else b"ok",
                None if pending else 12_000_000,
                f"key_{n % 20}",
                body,
            )
        )
        if len(batch) == 100_000:
            db.executemany(_INSERT, batch)
            batch.clear()
    if batch:
        db.executemany(_INSERT, batch)
    db.commit()
    for _, sql in indexes:
        db.execute(sql)
    db.commit()
    db.execute("ANALYZE")
    db.commit()
    db.close()
    return middle


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        body: bytes = response.read()
        return body


def build(path: Path, rows: int) -> dict[str, object]:
    """Fill a new log at ``path`` once, for ``log --db`` to measure again and again; what the
    measurement needs to know about it goes beside it (``path`` + ``.json``)."""
    if path.exists():
        raise SystemExit(f"{path} exists: give a new file (or measure it with: log --db {path})")
    t = time.perf_counter()
    delivery_id, event_id = fill(path, rows)
    info = {"rows": rows, "delivery_id": delivery_id, "event_id": event_id, "fill_s": time.perf_counter() - t}
    Path(f"{path}.json").write_text(json.dumps(info))
    return info


def log_figures(rows: int, folder: str, runs: int = 3, db: str | None = None) -> list[Figure]:
    """Build a log of ``rows`` under ``folder``, measure it, delete it; or (``db``) measure a log
    made by :func:`build`, and keep it."""
    from hookmock.emulator import Emulator, EmulatorConfig

    out: list[Figure] = []
    tmp = tempfile.mkdtemp(prefix="hookmock-scale-", dir=folder) if db is None else None
    try:
        if db is None:
            assert tmp is not None
            path = Path(tmp) / "big.db"
            t = time.perf_counter()
            delivery_id, event_id = fill(path, rows)
            fill_s = time.perf_counter() - t
        else:
            path = Path(db)
            info = json.loads(Path(f"{db}.json").read_text())
            rows, delivery_id, event_id = int(info["rows"]), str(info["delivery_id"]), str(info["event_id"])
            fill_s = float(info["fill_s"])
            t = time.perf_counter()
            DeliveryLog(path).close()  # an index this version adds is created on the first open: timed
            out.append(
                Figure(
                    f"log {rows:,} rows: first open by this version",
                    (time.perf_counter() - t) * 1000,
                    "ms",
                    "report",
                    None,
                )
            )
        size = path.stat().st_size
        with sqlite3.connect(path) as db:
            body_bytes = db.execute("SELECT sum(length(body)) FROM deliveries").fetchone()[0]
        out.append(
            Figure(
                f"log {rows:,} rows: size on disk per row",
                size / rows,
                "B",
                "report",
                None,
                note=f"{size / 1e9:.2f} GB in all, bodies {body_bytes / rows:.0f} B of each row "
                f"(a real Moda body is about 1 KB: add that); written in {fill_s:.0f} s",
            )
        )
        with DeliveryLog(path) as log:
            for name, filters in {
                "no filter": {},
                "status=failed": {"status": "failed"},
                "event_type+status+api_key": {
                    "event_type": "task.failed",
                    "status": "failed",
                    "api_key_id": "key_3",
                },
            }.items():
                ms = median_of(lambda f=filters: log.list(limit=200, **f), 9)  # type: ignore[misc]
                out.append(
                    Figure(
                        f"log {rows:,} rows: DeliveryLog.list page of 200, {name}",
                        ms,
                        "ms",
                        "< 10 ms",
                        ms < 10,
                    )
                )
        port_ms = []
        for _ in range(runs):
            port = _free_port()
            cmd = [
                hookmock_cmd(),
                "serve",
                "--quiet",
                "--port",
                str(port),
                "--db",
                str(path),
                "--clock",
                "virtual",
            ]
            port_ms.append(spawn_to_ready_ms(cmd, port, "/_hookmock/ready"))
        out.append(
            Figure(
                f"log {rows:,} rows: hookmock serve --db spawn → ready",
                statistics.median(port_ms),
                "ms",
                "report",
                None,
                note=f"runs {', '.join(f'{x:.0f}' for x in port_ms)} ms",
            )
        )
        emulator = Emulator(EmulatorConfig(port=0, clock="virtual", db_path=str(path))).start()
        try:
            base = emulator.base_url + "/_hookmock/ui"
            out.extend(
                page_figures(base, rows, delivery_id, event_id, 9, label="history page", target_ms=PAGE_MS)
            )
        finally:
            emulator.stop()
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def _vm(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def pending_figures(n: int) -> list[Figure]:
    tmp = tempfile.mkdtemp(prefix="hookmock-scale-")
    try:
        path = Path(tmp) / "pending.db"
        state = Path(tmp) / "state.json"
        fill(path, n, pending_every=1, due_ns=None)  # every row pending, due a day after it was made
        port = _free_port()
        child = subprocess.Popen(
            [hookmock_cmd(), "serve", "--quiet", "--port", str(port), "--db", str(path), "--clock", "virtual",
             "--state-file", str(state), "--allow-http-callbacks"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while not state.exists():
                if child.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("serve did not start")
                time.sleep(0.05)
            info = json.loads(state.read_text())
            ready_kb = _vm(child.pid, "VmHWM")
            headers = {"Authorization": f"Bearer {info['api_key']}"}
            listed, cursor = 0, None
            while True:  # every page of the deliveries API
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                query = "?limit=100" + (f"&cursor={cursor}" if cursor else "")
                conn.request("GET", "/v1/webhook_deliveries" + query, headers=headers)
                page = json.loads(conn.getresponse().read())
                conn.close()
                listed += len(page.get("data", []))
                cursor = page.get("next_cursor")
                if not cursor:
                    break
            listed_kb = _vm(child.pid, "VmHWM")
            _get(f"http://127.0.0.1:{port}/_hookmock/ui?status=pending")
            page_kb = _vm(child.pid, "VmHWM")
        finally:
            child.terminate()
            child.wait(30)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    peak = max(ready_kb, listed_kb, page_kb) / 1024
    return [
        Figure(
            f"serve with {n:,} pending deliveries (virtual clock): peak RSS",
            peak,
            "MB",
            "< 300 MB",
            peak < 300,
            note=f"ready {ready_kb / 1024:.1f} MB, after listing all {listed:,} via the API "
            f"{listed_kb / 1024:.1f} MB, after the history page {page_kb / 1024:.1f} MB",
        )
    ]


STORM_CHILD = r"""
import json, sys, threading, time
import hookmock

def app(environ, start_response):
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]

def rss_kb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

samples = []
stop = threading.Event()
t0 = time.monotonic()
def sample():
    while not stop.is_set():
        samples.append((time.monotonic() - t0, rss_kb()))
        stop.wait(0.5)
threading.Thread(target=sample, daemon=True).start()
report = hookmock.run_storm(app, profile="moda", secret="whsec_bench_storm", count=int(sys.argv[1]), users=4,
                            mix="task.succeeded=1")
stop.set()
samples.append((time.monotonic() - t0, rss_kb()))
print(json.dumps({"seconds": report.seconds, "statuses": report.statuses, "samples": samples}))
"""


def storm_figures(counts: list[int]) -> list[Figure]:
    out = []
    for n in counts:
        run = subprocess.run(
            [sys.executable, "-c", STORM_CHILD, str(n)], capture_output=True, text=True, timeout=7200
        )
        if run.returncode != 0:
            raise RuntimeError(run.stderr[-3000:])
        r = json.loads(run.stdout.strip().splitlines()[-1])
        if r["statuses"] != {"200": n}:
            raise RuntimeError(f"storm of {n}: {r['statuses']}")
        samples = r["samples"]
        peak = max(kb for _, kb in samples) / 1024
        end = samples[-1][0]
        quarters = []
        for q in (0.25, 0.5, 0.75, 1.0):
            at = [kb for t, kb in samples if t <= q * end]
            quarters.append(at[-1] / 1024 if at else 0.0)
        growth = quarters[3] - quarters[1]  # the second half of the run, after warm-up
        per_event_kb = growth * 1024 / (n / 2)
        out.append(
            Figure(
                f"storm of {n:,} events (in-process receiver, 4 threads): peak RSS",
                peak,
                "MB",
                "< 300 MB, flat after warm-up",
                peak < 300 and growth < 10,
                note=f"RSS at 25/50/75/100 % of the run: {' / '.join(f'{x:.0f}' for x in quarters)} MB "
                f"(second half: +{growth:.0f} MB, {per_event_kb:.2f} KB per event); "
                f"{n / r['seconds']:,.0f} events/s over {r['seconds']:.0f} s",
            )
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("log")
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--dir", default=tempfile.gettempdir(), help="where the database goes (deleted after)")
    p.add_argument("--db", help="measure this log, made by `build` (kept), instead of building one")
    p = sub.add_parser("build")
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--db", required=True, help="the new log file (a .json beside it says what is in it)")
    p = sub.add_parser("pending")
    p.add_argument("--n", type=int, default=10_000)
    p = sub.add_parser("storm")
    p.add_argument("--events", type=int, nargs="+", default=[100_000, 300_000])
    args = parser.parse_args()
    if args.what == "build":
        print(json.dumps(build(Path(args.db), args.rows)))
        return 0
    if args.what == "log":
        figs = log_figures(args.rows, args.dir, db=args.db)
    elif args.what == "pending":
        figs = pending_figures(args.n)
    else:
        figs = storm_figures(args.events)
    print("| figure | value | baseline | ratio | target | met |\n|---|---|---|---|---|---|")
    for fig in figs:
        print(fig.row(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
