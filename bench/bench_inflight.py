"""1,000 deliveries in flight at once to loopback receivers that never answer (real clock).

Every attempt must time out within its deadline + 250 ms; memory must stay bounded.  The
receivers (listening sockets on 127.0.0.1 that accept, read and never answer) run in this
process; the sender runs in a child process so its peak RSS is its own.  The deadline is a
short non-faithful ``deadline_s`` by default so the benchmark takes seconds; ``--faithful``
uses the profile's real deadline.  Loopback only, bounded in count and time, stops by itself.

    python bench/bench_inflight.py [--n 1000] [--deadline 3] [--faithful] [--db PATH|:memory:]
"""

from __future__ import annotations

import argparse
import json
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _harness import Figure

SLACK_MS = 250
#: threads submitting at once (API request threads in a real sender process)
PRODUCERS = 8

CHILD = r"""
import json, sys, threading, time
from hookmock import Sender
from hookmock.clock import SECOND, RealClock
from hookmock.transport.http import HTTPTransport

sys.path.insert(0, BENCH_DIR)
from _harness import peak_kb

ports, n, deadline, db = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
PRODUCERS = int(sys.argv[5])
deadline_s = None if deadline == "profile" else float(deadline)

class Measuring:
    def __init__(self):
        self.inner = HTTPTransport()
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.samples = []

    def send(self, target, headers, body, *, deadline_ns, clock):
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        t0 = time.monotonic_ns()
        result = self.inner.send(target, headers, body, deadline_ns=deadline_ns, clock=clock)
        t1 = time.monotonic_ns()
        with self.lock:
            self.in_flight -= 1
            self.samples.append((t1 - t0 - deadline_ns, result.outcome))
        return result

rss0 = peak_kb()
transport = Measuring()
sender = Sender("moda", clock=RealClock(), log=db, transport=transport, deadline_s=deadline_s,
                retry_delays_s=(), max_workers=n + 8, recover=False)
start = time.monotonic()

def submit_some(k):  # several producers, as API request threads would be: their commits are grouped
    for i in range(k, n, PRODUCERS):
        sender.submit(f"http://127.0.0.1:{ports[i % len(ports)]}/hook", "task.succeeded")

producers = [threading.Thread(target=submit_some, args=(k,)) for k in range(PRODUCERS)]
for t in producers:
    t.start()
for t in producers:
    t.join()
submitted = time.monotonic() - start
ok = sender.wait_all(timeout=sender.rules.deadline_ns / SECOND + 60)
elapsed = time.monotonic() - start
rows = sender.log.count(status="failed")
errors = len(sender.pool.errors)
sender.close()
print(json.dumps({
    "finished": ok, "elapsed_s": elapsed, "submit_s": submitted, "peak_in_flight": transport.peak,
    "lateness_ns": [s[0] for s in transport.samples], "outcomes": sorted({s[1] for s in transport.samples}),
    "failed_rows": rows, "pool_errors": errors, "deadline_ns": sender.rules.deadline_ns,
    "rss0_kb": rss0, "rss_peak_kb": peak_kb(),
}))
"""
CHILD = CHILD.replace("BENCH_DIR", repr(str(Path(__file__).resolve().parent)))


class Sink:
    """Listening sockets that accept every connection, read and discard, and never answer."""

    def __init__(self, listeners: int = 4) -> None:
        self.selector = selectors.DefaultSelector()
        self.ports: list[int] = []
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

    def _run(self) -> None:
        while not self.stop.is_set():
            for key, _ in self.selector.select(0.1):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if key.data == "listen":
                    try:
                        conn, _ = sock.accept()
                    except BlockingIOError:
                        continue
                    conn.setblocking(False)
                    self.selector.register(conn, selectors.EVENT_READ, "conn")
                    continue
                try:
                    data = sock.recv(65536)
                except (BlockingIOError, ConnectionError):
                    data = b"x"
                if not data:
                    self.selector.unregister(sock)
                    sock.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self.selector.close()


def measure(n: int, deadline: str, db: str, producers: int = 1) -> dict[str, object]:
    sink = Sink()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = db if db == ":memory:" else str(Path(tmp) / "inflight.db") if db == "tmp" else db
            out = subprocess.run(
                [sys.executable, "-c", CHILD, json.dumps(sink.ports), str(n), deadline, path, str(producers)],
                capture_output=True,
                text=True,
                timeout=600,
            )
    finally:
        sink.close()
    if out.returncode != 0:
        raise RuntimeError(f"child failed: {out.stderr[-2000:]}")
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def figures(n: int, deadline: str, db: str, producers: int = PRODUCERS) -> list[Figure]:
    r = measure(n, deadline, db, producers)
    late = sorted(int(x) for x in r["lateness_ns"])  # type: ignore[union-attr]
    within = sum(1 for x in late if x <= SLACK_MS * 1_000_000)
    worst_ms = late[-1] / 1e6 if late else None
    p99_ms = late[int(len(late) * 0.99) - 1] / 1e6 if late else None
    rss_mb = (int(r["rss_peak_kb"]) - int(r["rss0_kb"])) / 1024  # type: ignore[call-overload]
    label = f"{n} in flight, deadline {int(r['deadline_ns']) / 1e9:g} s"  # type: ignore[call-overload]
    note = (
        f"peak in flight {r['peak_in_flight']}, outcomes {r['outcomes']}, rows failed {r['failed_rows']}, "
        f"submit {float(r['submit_s']):.2f} s ({producers} threads), "  # type: ignore[arg-type]
        f"total {float(r['elapsed_s']):.2f} s, log {db}"  # type: ignore[arg-type]
    )
    return [
        Figure(
            f"{label}: timed out within deadline + {SLACK_MS} ms",
            within,
            f"of {n}",
            f"{n} of {n}",
            within == n and r["finished"] is True and r["peak_in_flight"] == n,
            note=note,
        ),
        Figure(
            f"{label}: worst lateness",
            worst_ms,
            "ms",
            f"<= {SLACK_MS} ms",
            bool(late) and late[-1] <= SLACK_MS * 1e6,
        ),
        Figure(
            f"{label}: p99 lateness",
            p99_ms,
            "ms",
            f"<= {SLACK_MS} ms",
            p99_ms is not None and p99_ms <= SLACK_MS,
        ),
        Figure(f"{label}: sender peak RSS growth", rss_mb, "MB", "< 256 MB", rss_mb < 256),
    ]


def inflight(smoke: bool) -> list[Figure]:
    return figures(100 if smoke else 1000, "3", "tmp")


FIGURES = [inflight]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--deadline", type=float, default=3.0, help="non-faithful deadline in seconds")
    parser.add_argument("--faithful", action="store_true", help="use the profile's own deadline")
    parser.add_argument("--db", default="tmp", help="'tmp' (a file in a temp dir), ':memory:' or a path")
    parser.add_argument("--producers", type=int, default=PRODUCERS, help="threads calling submit")
    args = parser.parse_args()
    if not 1 <= args.n <= 5000:
        parser.error("--n must be 1..5000")
    for fig in figures(args.n, "profile" if args.faithful else str(args.deadline), args.db, args.producers):
        print(fig.row(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
