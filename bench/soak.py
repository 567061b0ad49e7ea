"""A bounded soak on loopback: a steady rate of deliveries to fast, slow, failing and never-answering
receivers, on the real clock, with the concurrent driver (``Sender.submit``) and a file log.

Checked and printed: no stuck deliveries (every one finished after the drain, no attempt in flight),
no memory growth after warm-up (RSS sampled every second), deadlines honoured (the longest attempt to a
receiver that never answers), and slow targets do not starve fast ones (submit-to-success latency
percentiles of the fast target while the slow and silent ones hold workers).

Not faithful, on purpose and stated in the output: the deadline is ``--deadline`` seconds (default 2)
and the retry waits are 0.5, 1, 2 s, so a failing delivery runs its whole schedule in seconds rather
than minutes.  The receivers run in a child process (so RSS is the sender's own), on 127.0.0.1 only;
everything stops by itself.

    python bench/soak.py [--seconds 60] [--rate 40] [--deadline 2] [--smoke] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _harness import Figure

#: target -> share of the traffic
MIX = {"fast": 0.6, "slow": 0.15, "fail": 0.15, "hang": 0.1}
#: the slow target answers after this share of the deadline (always within it)
SLOW_SHARE = (0.15, 0.6)
HANG_HOLD_S = 8.0
RETRY_DELAYS_S = (0.5, 1.0, 2.0)
DEADLINE_SLACK_MS = 250
#: warm-up: the first half of the run (SQLite's page cache fills, the worker pool reaches the
#: concurrency the silent receivers force); growth is measured from there to the end of the drain
WARM_UP_SHARE = 0.5
#: allowed RSS growth from the end of warm-up to the end of the run
MAX_GROWTH_MB = 4.0


# -- the receivers (child process) -----------------------------------------------------------
def serve_receivers(deadline_s: float) -> None:
    stop = threading.Event()
    slow = (SLOW_SHARE[0] * deadline_s, SLOW_SHARE[1] * deadline_s)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            kind = self.path.strip("/")
            if kind == "hang":  # never answers: holds the connection, then drops it
                stop.wait(HANG_HOLD_S)
                self.close_connection = True
                return
            if kind == "slow":
                time.sleep(random.uniform(*slow))
            status = 500 if kind == "fail" else 200
            try:
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:  # the sender gave up (its deadline) and closed the connection
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_port, flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()  # the parent closes stdin (or dies) → stop
    stop.set()
    server.shutdown()


# -- the sender (this process) ----------------------------------------------------------------
def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def soak(
    seconds: float,
    rate: float,
    deadline_s: float,
    *,
    retry_delays_s: tuple[float, ...] = RETRY_DELAYS_S,
    seed: int = 7,
) -> dict[str, Any]:
    from hookmock import Sender
    from hookmock.clock import MS, RealClock

    rng = random.Random(seed)
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve-receivers", "--deadline", str(deadline_s)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    port = int(child.stdout.readline())
    base = f"http://127.0.0.1:{port}/"
    kinds = list(MIX)
    weights = [MIX[k] for k in kinds]
    submitted: dict[str, tuple[str, float]] = {}  # delivery id -> (kind, submit time)
    fast_latency_ms: list[float] = []
    lock = threading.Lock()

    def on_attempt(event: Any) -> None:
        done = time.perf_counter()
        with lock:
            kind, t0 = submitted.get(event.delivery_id, ("?", done))
        if kind == "fast" and event.state.status == "succeeded":
            with lock:
                fast_latency_ms.append((done - t0) * 1000)

    with tempfile.TemporaryDirectory(prefix="hookmock-soak-") as tmp:
        sender = Sender(
            "moda",
            clock=RealClock(),
            log=Path(tmp) / "soak.db",
            deadline_s=deadline_s,
            retry_delays_s=retry_delays_s,
            on_attempt=on_attempt,
        )
        rss: list[tuple[float, float]] = []
        start = time.perf_counter()
        next_sample = start
        n = 0
        try:
            while (now := time.perf_counter()) - start < seconds:
                if now >= next_sample:
                    rss.append((now - start, rss_mb()))
                    next_sample += 1.0
                due = start + n / rate
                if now < due:
                    time.sleep(min(due - now, 0.05))
                    continue
                kind = rng.choices(kinds, weights)[0]
                t0 = time.perf_counter()
                with lock:  # held so the first attempt's listener finds the delivery registered
                    delivery = sender.submit(base + kind, "task.succeeded")
                    submitted[delivery.id] = (kind, t0)
                n += 1
            # drain: every schedule ends within 4 deadlines + the waits; give it that plus slack
            drain_limit = 4 * deadline_s + sum(retry_delays_s) + 5
            drained_at = time.perf_counter()
            finished = sender.wait_all(timeout=drain_limit)
            drain_s = time.perf_counter() - drained_at
            rss.append((time.perf_counter() - start, rss_mb()))
            log = sender.log
            pending = log.count(status="pending")
            in_flight = log.in_flight_attempts()
            statuses = {s: log.count(status=s) for s in ("succeeded", "failed")}
            worst_hang_over_ms = 0.0
            attempts = 0
            by_kind: dict[str, dict[str, int]] = {k: {} for k in kinds}
            for delivery_id, (kind, _) in submitted.items():
                d = sender.get(delivery_id)
                by_kind[kind][d.status] = by_kind[kind].get(d.status, 0) + 1
                attempts += len(d.attempts)
                if kind == "hang":
                    for a in d.attempts:
                        over = (a.duration_ns or 0) / MS - deadline_s * 1000
                        worst_hang_over_ms = max(worst_hang_over_ms, over)
            errors = len(sender.pool.errors) if sender.pool else 0
            workers = len(sender.pool._workers) if sender.pool else 0
        finally:
            sender.close()
            child.stdin.close()
            child.wait(15)
    warm = [m for t, m in rss if t >= seconds * WARM_UP_SHARE]
    return {
        "seconds": seconds,
        "rate": rate,
        "deadline_s": deadline_s,
        "retry_delays_s": retry_delays_s,
        "submitted": n,
        "attempts": attempts,
        "by_kind": by_kind,
        "statuses": statuses,
        "finished": finished,
        "drain_s": drain_s,
        "pending_after_drain": pending,
        "in_flight_after_drain": in_flight,
        "pool_errors": errors,
        "workers": workers,
        "worst_hang_over_deadline_ms": worst_hang_over_ms,
        "fast_p50_ms": pct(fast_latency_ms, 50),
        "fast_p95_ms": pct(fast_latency_ms, 95),
        "fast_p99_ms": pct(fast_latency_ms, 99),
        "fast_max_ms": max(fast_latency_ms, default=float("nan")),
        "fast_median_ms": statistics.median(fast_latency_ms) if fast_latency_ms else float("nan"),
        "rss_warm_mb": warm[0] if warm else float("nan"),
        "rss_end_mb": warm[-1] if warm else float("nan"),
        "rss_peak_mb": max(m for _, m in rss),
        "rss_growth_mb": (warm[-1] - warm[0]) if len(warm) > 1 else 0.0,
        "rss_series_mb": [round(m, 1) for _, m in rss],
    }


def figures(r: dict[str, Any]) -> list[Figure]:
    note = (
        f"{r['seconds']:g} s at {r['rate']:g}/s, deadline {r['deadline_s']:g} s and retry waits "
        f"{r['retry_delays_s']} s (not faithful)"
    )
    stuck = r["pending_after_drain"] + r["in_flight_after_drain"] + (0 if r["finished"] else 1)
    expected = {
        "fast": {"succeeded"},
        "slow": {"succeeded"},
        "fail": {"failed"},
        "hang": {"failed"},
    }
    right = all(set(r["by_kind"][k]) <= v for k, v in expected.items())
    return [
        Figure(
            "soak deliveries", r["submitted"], "deliveries", "-", None,
            note=f"{r['attempts']} attempts; {note}",
        ),
        Figure(
            "soak stuck deliveries", stuck, "", "0 pending or in flight after the drain",
            stuck == 0 and right and r["pool_errors"] == 0,
            note=f"by target: {r['by_kind']}; drained in {r['drain_s']:.1f} s; "
            f"pool errors {r['pool_errors']}",
        ),
        Figure(
            "soak deadline overrun (never-answering)", r["worst_hang_over_deadline_ms"], "ms",
            f"<= {DEADLINE_SLACK_MS} ms past the deadline",
            r["worst_hang_over_deadline_ms"] <= DEADLINE_SLACK_MS,
        ),
        Figure(
            "soak fast-target latency p50/p95/p99", r["fast_p95_ms"], "ms (p95)",
            "p95 < 250 ms while slow/silent targets hold workers", r["fast_p95_ms"] < 250,
            note=f"p50 {r['fast_p50_ms']:.1f}, p99 {r['fast_p99_ms']:.1f}, max {r['fast_max_ms']:.1f} ms",
        ),
        Figure(
            "soak RSS growth after warm-up", r["rss_growth_mb"], "MB", f"< {MAX_GROWTH_MB:g} MB",
            r["rss_growth_mb"] < MAX_GROWTH_MB,
            note=f"{r['rss_warm_mb']:.1f} MB at {r['seconds'] * WARM_UP_SHARE:g} s -> "
            f"{r['rss_end_mb']:.1f} MB after the drain; peak {r['rss_peak_mb']:.1f} MB; "
            f"{r['workers']} worker threads",
        ),
    ]  # fmt: skip


#: --smoke: 5 s of traffic and a shorter schedule so the drain takes about 3 s more
SMOKE = {"seconds": 5.0, "deadline_s": 0.5, "retry_delays_s": (0.1, 0.2, 0.4)}


def bench_soak(smoke: bool) -> list[Figure]:
    if smoke:
        return figures(soak(rate=40.0, **SMOKE))  # type: ignore[arg-type]
    return figures(soak(60.0, 40.0, 2.0))


FIGURES = [bench_soak]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to submit (default 60)")
    parser.add_argument("--rate", type=float, default=40.0, help="deliveries per second (default 40)")
    parser.add_argument(
        "--deadline", type=float, default=2.0, help="NOT FAITHFUL attempt deadline (default 2)"
    )
    parser.add_argument("--smoke", action="store_true", help="5 s of traffic, short schedule (~9 s)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve-receivers", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_receivers:
        serve_receivers(args.deadline)
        return 0
    if not 0 < args.seconds <= 3600 or not 0 < args.rate <= 500 or not 0 < args.deadline <= 60:
        parser.error("--seconds 0-3600, --rate 0-500 and --deadline 0-60 keep the soak bounded")
    smoke = soak(rate=args.rate, **SMOKE) if args.smoke else None  # type: ignore[arg-type]
    result = smoke or soak(args.seconds, args.rate, args.deadline)
    figs = figures(result)
    if args.json:
        print(json.dumps({"result": result, "figures": [f.as_dict() for f in figs]}, indent=2, default=str))
    else:
        print("| figure | value | baseline | ratio | target | met |\n|---|---|---|---|---|---|")
        for f in figs:
            print(f.row())
    return 0 if all(f.met is not False for f in figs) else 1


if __name__ == "__main__":
    sys.exit(main())
