"""The emulator with 1,000 deliveries in flight to loopback receivers that never answer.

The emulator runs in a child process (its peak RSS is its own) with a file log; this process holds
the receivers (listening sockets on 127.0.0.1 that accept, read and never answer, noting when each
connection opened and when the sender hung up) and fires ``n`` Moda events through the control API
from several client threads.  Meanwhile one thread samples ``GET /v1/webhook_deliveries`` (a page
of 50) every 20 ms until every first attempt has timed out.  Checked: every attempt ends within
the deadline + 250 ms (in the log, and as seen by the receiver), all ``n`` were in flight at
once, the API's p99 latency, and the emulator's peak RSS.

The full run uses Moda's own deadline (30 s); ``--smoke`` a 3 s one (the emulator's non-faithful
``deadline_s`` option) and 100 deliveries.  Loopback only, bounded in count and time.

    python bench/bench_emulator.py [--n 1000] [--deadline 3 | --faithful]
"""

from __future__ import annotations

import argparse
import http.client
import json
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _harness import Figure

SLACK_MS = 250
API_P99_MS = 50
RSS_MB = 200
FIRING_THREADS = 8
SAMPLE_EVERY_S = 0.02

CHILD = r"""
import json, sys
from hookmock.emulator import Emulator, EmulatorConfig

sys.path.insert(0, BENCH_DIR)
from _harness import peak_kb

db, deadline = sys.argv[1], sys.argv[2]
config = EmulatorConfig(port=0, db_path=db, allow_http_callbacks=True,
                        deadline_s=None if deadline == "profile" else float(deadline))
emulator = Emulator(config).start()
rss0 = peak_kb()
print(json.dumps({"port": emulator.port, "api_key": emulator.api_key}), flush=True)
sys.stdin.readline()  # the parent says stop
rss = peak_kb()
emulator.stop()
print(json.dumps({"rss0_kb": rss0, "rss_peak_kb": rss}), flush=True)
"""
CHILD = CHILD.replace("BENCH_DIR", repr(str(Path(__file__).resolve().parent)))


class TimingSink:
    """Listening sockets that accept, read and never answer; each connection's lifetime is noted."""

    def __init__(self, listeners: int = 4) -> None:
        self.selector = selectors.DefaultSelector()
        self.ports: list[int] = []
        self.lock = threading.Lock()
        self.opened: dict[int, int] = {}
        self.lifetimes_ns: list[int] = []
        self.open_now = 0
        self.peak_open = 0
        self.stop = threading.Event()
        for _ in range(listeners):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            s.listen(4096)
            s.setblocking(False)
            self.selector.register(s, selectors.EVENT_READ, "listen")
            self.ports.append(s.getsockname()[1])
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def closed(self) -> int:
        with self.lock:
            return len(self.lifetimes_ns)

    def _run(self) -> None:
        while not self.stop.is_set():
            for key, _ in self.selector.select(0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                now = time.monotonic_ns()
                if key.data == "listen":
                    try:
                        conn, _ = sock.accept()
                    except BlockingIOError:
                        continue
                    conn.setblocking(False)
                    self.selector.register(conn, selectors.EVENT_READ, "conn")
                    with self.lock:
                        self.opened[conn.fileno()] = now
                        self.open_now += 1
                        self.peak_open = max(self.peak_open, self.open_now)
                    continue
                try:
                    data = sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except ConnectionError:
                    data = b""
                if not data:  # the sender hung up
                    with self.lock:
                        self.lifetimes_ns.append(now - self.opened.pop(sock.fileno()))
                        self.open_now -= 1
                    self.selector.unregister(sock)
                    sock.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self.selector.close()


def _request(port: int, method: str, path: str, body: dict[str, Any] | None, key: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Authorization": f"Bearer {key}", "Connection": "close"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def measure(n: int, deadline: str) -> dict[str, Any]:
    sink = TimingSink()
    tmp = tempfile.TemporaryDirectory(prefix="hookmock-bench-")
    db = str(Path(tmp.name) / "emulator.db")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db, deadline],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        hello = json.loads(child.stdout.readline() or "{}")
        if "port" not in hello:
            raise RuntimeError(f"the emulator did not start: {child.stderr.read() if child.stderr else ''}")
        port, key = int(hello["port"]), str(hello["api_key"])
        latencies: list[float] = []
        failures: list[str] = []
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                t = time.perf_counter()
                status, _ = _request(port, "GET", "/v1/webhook_deliveries?limit=50", None, key)
                latencies.append((time.perf_counter() - t) * 1000)
                if status != 200:
                    failures.append(f"GET deliveries: {status}")
                done.wait(SAMPLE_EVERY_S)

        def fire(k: int) -> None:
            for i in range(k, n, FIRING_THREADS):
                url = f"http://127.0.0.1:{sink.ports[i % len(sink.ports)]}/hook"
                status, text = _request(
                    port,
                    "POST",
                    "/_hookmock/moda/events",
                    {"event_type": "task.succeeded", "callback_url": url},
                    key,
                )
                if status != 202:
                    failures.append(f"fire: {status} {text[:200]!r}")

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start = time.monotonic()
        firing = [threading.Thread(target=fire, args=(k,)) for k in range(FIRING_THREADS)]
        for t in firing:
            t.start()
        for t in firing:
            t.join()
        fired_s = time.monotonic() - start
        limit = start + (30 if deadline == "profile" else float(deadline)) + fired_s + 60
        while sink.closed() < n and time.monotonic() < limit and not failures:
            time.sleep(0.05)
        elapsed_s = time.monotonic() - start
        done.set()
        sampler.join(10)
        _request(port, "POST", "/_hookmock/reset", {}, key)  # no retries after this
        child.stdin.write("stop\n")
        child.stdin.flush()
        bye = json.loads(child.stdout.readline() or "{}")
        child.wait(30)
        from hookmock.delivery.log import DeliveryLog

        with DeliveryLog(db, create=False) as log:
            first_attempts = []
            cursor = None
            while True:
                page = log.list(limit=200, cursor=cursor)
                for record in page.records:
                    attempts = log.attempts(record.id)
                    if attempts:
                        first_attempts.append(attempts[0])
                cursor = page.next_cursor
                if cursor is None:
                    break
            deadline_ns = _deadline_ns(deadline)
        with sink.lock:
            lifetimes = list(sink.lifetimes_ns)
            peak_open = sink.peak_open
        return {
            "n": n,
            "rows": len(first_attempts),
            "deadline_ns": deadline_ns,
            "log_lateness_ns": [
                (a.duration_ns or 0) - deadline_ns for a in first_attempts if a.outcome == "timeout"
            ],
            "outcomes": sorted({a.outcome for a in first_attempts}),
            "receiver_lateness_ns": [x - deadline_ns for x in lifetimes],
            "peak_open": peak_open,
            "latencies_ms": latencies,
            "failures": failures,
            "fired_s": fired_s,
            "elapsed_s": elapsed_s,
            "rss_peak_kb": bye.get("rss_peak_kb"),
            "rss0_kb": bye.get("rss0_kb"),
        }
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        sink.close()
        tmp.cleanup()


def _deadline_ns(deadline: str) -> int:
    if deadline == "profile":
        from hookmock.profiles import get_profile

        return get_profile("moda").deadline_ns
    return round(float(deadline) * 1e9)


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * q + 0.5) - 1))]


def figures(n: int, deadline: str) -> list[Figure]:
    r = measure(n, deadline)
    if r["failures"]:
        raise RuntimeError(f"{len(r['failures'])} API failures, e.g. {r['failures'][:3]}")
    label = f"emulator, {n} in flight, deadline {r['deadline_ns'] / 1e9:g} s"
    if deadline != "profile":
        label += " (non-faithful)"
    slack_ns = SLACK_MS * 1_000_000
    log_late: list[int] = r["log_lateness_ns"]
    rcv_late: list[int] = r["receiver_lateness_ns"]
    within = sum(1 for x in log_late if x <= slack_ns)
    worst_ms = max([*log_late, *rcv_late], default=0) / 1e6
    lat: list[float] = r["latencies_ms"]
    p99 = _p(lat, 0.99) if lat else float("nan")
    rss_mb = (r["rss_peak_kb"] or 0) / 1024
    growth_mb = ((r["rss_peak_kb"] or 0) - (r["rss0_kb"] or 0)) / 1024
    return [
        Figure(
            f"{label}: attempts timed out within deadline + {SLACK_MS} ms",
            within,
            f"of {n}",
            f"{n} of {n}, all at once",
            within == n and r["peak_open"] >= n and all(x <= slack_ns for x in rcv_late),
            note=(
                f"worst lateness {worst_ms:.1f} ms (log and receiver), peak open connections "
                f"{r['peak_open']}, outcomes {r['outcomes']}, fired in {r['fired_s']:.2f} s "
                f"({FIRING_THREADS} clients), total {r['elapsed_s']:.1f} s"
            ),
        ),
        Figure(
            f"{label}: GET /v1/webhook_deliveries p99 meanwhile",
            p99,
            "ms",
            f"< {API_P99_MS} ms",
            p99 < API_P99_MS,
            note=f"{len(lat)} samples, p50 {statistics.median(lat):.1f} ms, max {max(lat):.1f} ms",
        ),
        Figure(
            f"{label}: emulator peak RSS",
            rss_mb,
            "MB",
            f"< {RSS_MB} MB",
            rss_mb < RSS_MB,
            note=f"growth after start-up {growth_mb:.1f} MB",
        ),
    ]


def emulator_inflight(smoke: bool) -> list[Figure]:
    return figures(100, "3") if smoke else figures(1000, "profile")


FIGURES = [emulator_inflight]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--deadline", type=float, default=3.0, help="non-faithful deadline in seconds")
    parser.add_argument("--faithful", action="store_true", help="Moda's own deadline (30 s)")
    args = parser.parse_args()
    if not 1 <= args.n <= 2000:
        parser.error("--n must be 1..2000")
    for fig in figures(args.n, "profile" if args.faithful else str(args.deadline)):
        print(fig.row(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
