"""The fake receiver's requests per second against plain pytest-httpserver answering 200.

Both servers run in this process on 127.0.0.1; the same client loop (``http.client``, the same
signed Moda bytes, one connection per request as a webhook sender makes them) posts ``n`` requests
to each, interleaved over several rounds; the median rate of each is reported, and the ratio.

    python bench/bench_receiver.py [--n 1500] [--rounds 5]
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _harness import Figure, interleaved

TARGET_RATIO = 0.95


def _post_loop(
    port: int, path: str, body: bytes, headers: dict[str, str], n: int, server_cpu: list[float] | None = None
) -> float:
    """Requests per second of ``n`` POSTs, one connection each; every answer must be a 200.
    ``server_cpu``: gets the CPU µs per request this process spent outside this (the client's)
    thread: the server's threads, as both servers run here."""
    hdrs = {**headers, "Connection": "close"}
    process, client = time.process_time(), time.thread_time()
    start = time.perf_counter()
    for _ in range(n):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", path, body=body, headers=hdrs)
        response = conn.getresponse()
        response.read()
        conn.close()
        if response.status != 200:
            raise RuntimeError(f"expected 200, got {response.status}")
    rate = n / (time.perf_counter() - start)
    if server_cpu is not None:
        server_cpu.append(((time.process_time() - process) - (time.thread_time() - client)) / n * 1e6)
    return rate


def figures(n: int, rounds: int) -> list[Figure]:
    from pytest_httpserver import HTTPServer

    from hookmock import FakeReceiver
    from hookmock.factories import EventFactory
    from hookmock.profiles import get_profile

    profile = get_profile("moda")
    secret = profile.generate_secret()
    body = EventFactory(profile, seed=1).body("task.succeeded")
    headers = dict(profile.delivery_headers(body, secret, int(time.time())))

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log from either server
    plain = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    plain.expect_request("/webhook", method="POST").respond_with_data("ok")
    plain.start()
    receiver = FakeReceiver("moda", secret)
    receiver.start()
    try:
        cpu: dict[str, list[float]] = {"plain": [], "ours": []}

        def ours() -> float:
            receiver.clear()
            return _post_loop(receiver.port, "/webhook", body, headers, n, cpu["ours"])

        # interleaved, so drift on a noisy machine hits both alike
        b, v, r, spread = interleaved(
            lambda: _post_loop(plain.port, "/webhook", body, headers, n, cpu["plain"]), ours, rounds
        )
        received = len(receiver.requests)
        authentic = sum(1 for r in receiver.requests if r.verdict is not None and r.verdict.ok)
        receiver.check()
        plain.check_assertions()
    finally:
        receiver.stop()
        plain.stop()
    cpu_ratio = statistics.median(o / p for o, p in zip(cpu["ours"], cpu["plain"], strict=True))
    if received != n or authentic != n:
        raise RuntimeError(f"the receiver recorded {received} requests, {authentic} authentic, of {n}")
    return [
        Figure(
            "fake receiver requests/s (one connection each)",
            v,
            "/s",
            f"≥ {TARGET_RATIO}× baseline",
            r >= TARGET_RATIO,
            b,
            r,
            "baseline: plain pytest-httpserver answering 200, same client loop; "
            f"ratio spread {spread[0]:.2f}–{spread[1]:.2f}; the server's CPU per request (its threads): "
            f"fake receiver {statistics.median(cpu['ours']):.0f} µs, pytest-httpserver "
            f"{statistics.median(cpu['plain']):.0f} µs (per-round ratio {cpu_ratio:.2f}); "
            f"load average {os.getloadavg()[0]:.1f}",
        )
    ]


def receiver_throughput(smoke: bool) -> list[Figure]:
    return figures(150 if smoke else 500, 3 if smoke else 9)


FIGURES = [receiver_throughput]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1500, help="requests per round and server")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for fig in figures(args.n, args.rounds):
        print(fig.row(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
