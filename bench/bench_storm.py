"""Webhook storm throughput: ``hookmock.run_storm`` against a bare ``http.client`` loop.

Both send to the same fast receiver in another process, with the same number of threads, one
connection per request (``Connection: close``, as the provider's sender does) and the same signed
bytes; the storm also builds a fresh payload and signature per event.  Chunks alternate so the
machine's drift hits both alike.  ``python bench/bench_storm.py [--smoke] [--users N]``.
"""

from __future__ import annotations

import argparse
import http.client
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _harness import Figure
from bench_delivery import _fast_server

import hookmock

SECRET = "whsec_bench_storm"


def _bare(port: int, body: bytes, headers: dict[str, str], n: int, users: int) -> float:
    """Seconds for ``n`` POSTs from ``users`` threads, each a fresh connection."""
    left = [n]
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("POST", "/hook", body=body, headers={**headers, "Connection": "close"})
            conn.getresponse().read()
            conn.close()

    t = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(users)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return time.perf_counter() - t


def storm_throughput(smoke: bool, users: int = 4) -> Figure:
    chunk, rounds = (100, 3) if smoke else (400, 10)
    with _fast_server() as port:
        url = f"http://127.0.0.1:{port}/hook"
        factory = hookmock.EventFactory("moda", seed=1)
        body = factory.body("task.succeeded")
        headers = factory.profile.delivery_headers(body, SECRET, time.time())
        base_s = value_s = 0.0
        for _ in range(rounds):
            base_s += _bare(port, body, headers, chunk, users)
            report = hookmock.run_storm(
                url, profile="moda", secret=SECRET, count=chunk, users=users, mix="task.succeeded=1"
            )
            if report.statuses != {"200": chunk}:
                raise RuntimeError(report.text())
            value_s += report.seconds
    b, v = rounds * chunk / base_s, rounds * chunk / value_s
    return Figure(
        f"storm deliveries/s over loopback ({users} threads)",
        v,
        "/s",
        "≥ 0.7× baseline",
        v / b >= 0.7,
        b,
        v / b,
        "baseline: bare http.client loop, same threads, same signed bytes",
    )


_PLAIN = """import os
from locust import HttpUser, constant, task

BODY = open(os.environ["BENCH_BODY"], "rb").read()
HEADERS = {"Content-Type": "application/json", "User-Agent": "hookmock/bench"}


class Plain(HttpUser):
    wait_time = constant(0)

    @task
    def post(self):
        self.client.post("/hook", data=BODY, headers=HEADERS)
"""
_HOOKMOCK = """from hookmock.locust import ModaWebhookUser


class Hooks(ModaWebhookUser):
    path = "/hook"
    mix = "task.succeeded=1"
"""


def _locust_rate(locustfile: str, port: int, seconds: int, env: dict[str, str], folder: str) -> float:
    """Locust's own requests/s (over the time it really ran) for one headless run."""
    import csv
    import os
    import subprocess

    prefix = os.path.join(folder, "stats")
    subprocess.run(
        [sys.executable, "-m", "locust", "-f", locustfile, "--headless", "-u", "4", "-r", "4",
         "-t", f"{seconds}s", "--host", f"http://127.0.0.1:{port}", "--csv", prefix, "--only-summary"],
        env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=seconds + 120,
    )  # fmt: skip
    with open(prefix + "_stats.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["Name"] == "Aggregated"]
    return float(rows[0]["Requests/s"])


def locust_user_throughput(smoke: bool) -> Figure:
    """The hookmock Locust user's requests against a plain HttpUser posting the same bytes (one
    Locust process each, 4 users, the same run time)."""
    import importlib.util
    import os
    import tempfile

    if importlib.util.find_spec("locust") is None:
        missing = "locust not installed"
        return Figure("Locust user deliveries/s", None, "", "≥ 0.8× baseline", None, note=missing)
    seconds, rounds = (4, 1) if smoke else (10, 3)
    with _fast_server() as port, tempfile.TemporaryDirectory() as folder:
        body = hookmock.EventFactory("moda", seed=1).body("task.succeeded")
        with open(os.path.join(folder, "body.json"), "wb") as fh:
            fh.write(body)
        for name, text in (("plain.py", _PLAIN), ("hooks.py", _HOOKMOCK)):
            with open(os.path.join(folder, name), "w") as fh:
                fh.write(text)
        env = dict(os.environ, BENCH_BODY=os.path.join(folder, "body.json"), HOOKMOCK_SECRET=SECRET)
        base = value = 0.0
        for _ in range(rounds):
            base += _locust_rate(os.path.join(folder, "plain.py"), port, seconds, env, folder)
            value += _locust_rate(os.path.join(folder, "hooks.py"), port, seconds, env, folder)
    b, v = base / rounds, value / rounds
    if b == 0:  # the plain user made no request in the run (a machine too loaded to start it)
        return Figure(
            "Locust user deliveries/s (one process, 4 users)",
            v,
            "/s",
            "≥ 0.8× baseline",
            None,
            note=f"not judged: the baseline Locust run made no request in {seconds} s; "
            "run again on a quieter machine",
        )
    return Figure(
        "Locust user deliveries/s (one process, 4 users)",
        v,
        "/s",
        "≥ 0.8× baseline",
        v / b >= 0.8,
        b,
        v / b,
        "baseline: a plain Locust HttpUser posting the same bytes",
    )


FIGURES = [storm_throughput, locust_user_throughput]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--users", type=int, default=4)
    args = parser.parse_args()
    print(storm_throughput(args.smoke, args.users).row())
    print(locust_user_throughput(args.smoke).row())
