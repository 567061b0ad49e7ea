"""hookmock side by side with its peers: each figure a ratio against a baseline measured in the same
run, interleaved (baseline and subject rounds alternate, medians of each and of the per-round
ratios are reported, with the ratio's spread).

* ``verify`` against stripe's ``WebhookSignature.verify_header``, the ``standardwebhooks`` package's
  ``Webhook.verify`` (same body), and a bare ``hmac`` + ``compare_digest`` (the floor);
* sending a generated event (``send(app, "task.succeeded")``, as the pytest fixtures do) against a
  bare werkzeug test-client POST of a body of the same size;
* ASGI in-process delivery against a bare ``httpx.ASGITransport`` POST of the same bytes;
* ``hookmock validate FILE`` (a whole process) against ``check-jsonschema`` on the bundled schema
  (``hookmock schema moda-envelope --bundle``);
* ``hookmock serve`` spawn → its ready route answers, against a bare werkzeug server spawn → ready;
* the example integrator suite (``conftest_plugin/``): wall time and its slowest test.

CPU-bound figures are CPU time of the measuring thread (a neighbour's load does not count); those
that cross a thread or a process are wall time.

    python bench/bench_peers.py [--only NAME] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hmac
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _harness import Figure, cpu_us_per_call, interleaved, process_ms, python

import hookmock
from hookmock import VirtualClock
from hookmock.sender import Sender

ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec_bench_peers"


def _spread(lo_hi: tuple[float, float]) -> str:
    return f"ratio spread {lo_hi[0]:.2f}–{lo_hi[1]:.2f}"


def _ok_app(environ, start_response):  # type: ignore[no-untyped-def]
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


async def _ok_asgi(scope, receive, send):  # type: ignore[no-untyped-def]
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


# -- verify -------------------------------------------------------------------------------------
def verify_figures(smoke: bool) -> list[Figure]:
    import stripe
    from standardwebhooks import Webhook

    body = hookmock.EventFactory("moda", seed=1).body("task.succeeded")
    text = body.decode()
    ts = int(time.time())
    moda_headers = hookmock.sign("moda", body, SECRET, timestamp=ts)
    # stripe: "t=<ts>,v1=<hex HMAC-SHA256 of '{ts}.{payload}'>", the same construction as Moda's
    stripe_sig = hmac.new(SECRET.encode(), f"{ts}.{text}".encode(), "sha256").hexdigest()
    stripe_header = f"t={ts},v1={stripe_sig}"
    # standardwebhooks: base64 secret, "v1,<base64 HMAC of '{id}.{ts}.{body}'>"
    sw_secret = "whsec_" + base64.b64encode(SECRET.encode()).decode()
    sw = Webhook(sw_secret)
    sw_headers = {"webhook-id": "msg_bench", "webhook-timestamp": str(ts)}
    sw_headers["webhook-signature"] = sw.sign("msg_bench", _dt(ts), text)
    profile = hookmock.get_profile("moda")
    key = SECRET.encode()
    expected_header = moda_headers["X-Webhook-Signature"][3:]

    def bare() -> None:  # the floor: one HMAC and a constant-time compare, nothing parsed or checked
        digest = hmac.digest(key, str(ts).encode() + b"." + body, "sha256").hex()
        if not hmac.compare_digest(digest, expected_header):
            raise AssertionError

    calls = {
        "hookmock.verify": lambda: hookmock.verify(profile, moda_headers, body, SECRET),
        "stripe verify_header": lambda: stripe.WebhookSignature.verify_header(
            text, stripe_header, SECRET, 300
        ),
        "standardwebhooks verify": lambda: sw.verify(body, sw_headers),
        "bare hmac + compare_digest": bare,
    }
    for fn in calls.values():
        fn()  # each must accept its request
    n, rounds = (2000, 3) if smoke else (20000, 9)
    per = {name: [] for name in calls}  # type: dict[str, list[float]]
    for _ in range(rounds):  # every side once per round, in turn
        for name, fn in calls.items():
            per[name].append(cpu_us_per_call(fn, n))
    import statistics

    med = {name: statistics.median(v) for name, v in per.items()}
    ours = med["hookmock.verify"]
    out = []
    for peer in ("stripe verify_header", "standardwebhooks verify", "bare hmac + compare_digest"):
        ratios = [a / b for a, b in zip(per["hookmock.verify"], per[peer])]
        ratio = statistics.median(ratios)
        if peer.startswith("bare"):
            target, met = "≤ 2× (within 2× of the floor)", ratio <= 2
        else:
            fastest = min(med["stripe verify_header"], med["standardwebhooks verify"])
            target, met = "≤ 1.0× the fastest peer", ours <= fastest * 1.0 and ratio <= 1.0
        out.append(
            Figure(
                f"verify vs {peer} (CPU µs per call, {len(body)} B body)",
                ours,
                "µs",
                target,
                met,
                med[peer],
                ratio,
                _spread((min(ratios), max(ratios))),
            )
        )
    return out


def _dt(ts: int):  # type: ignore[no-untyped-def]
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, tz=timezone.utc)


# -- in-process sends ----------------------------------------------------------------------------
def send_generated(smoke: bool) -> Figure:
    """``sender.send(app, "task.succeeded")``: a fresh event built, signed, delivered, logged."""
    from werkzeug.test import Client

    sender = Sender("moda", SECRET, clock=VirtualClock())
    body = sender.profile.serialize(sender._events().event("task.succeeded"))
    headers = sender.profile.delivery_headers(body, SECRET, 1_777_593_600)
    client = Client(_ok_app)
    n, rounds = (100, 3) if smoke else (1000, 9)
    for _ in range(20):
        sender.send(_ok_app, "task.succeeded")
        client.post("/hook", data=body, headers=headers)
    b, v, r, spread = interleaved(
        lambda: cpu_us_per_call(lambda: client.post("/hook", data=body, headers=headers), n),
        lambda: cpu_us_per_call(lambda: sender.send(_ok_app, "task.succeeded"), n),
        rounds,
    )
    sender.close()
    return Figure(
        'send(app, "task.succeeded"), a generated event',
        v,
        "µs",
        "≤ 1.5× baseline",
        r <= 1.5,
        b,
        r,
        f"CPU µs; baseline: bare werkzeug test-client POST of a body of the same size; {_spread(spread)}",
    )


def asgi_delivery(smoke: bool) -> list[Figure]:
    """Wall time per delivery (the target), and beside it the CPU time of the whole process per
    delivery (hookmock's includes its event loop thread; httpx's runs on the calling thread), which
    a loaded machine inflates far less than wall time crossing two threads."""
    import httpx

    sender = Sender("moda", SECRET, clock=VirtualClock())
    body = sender.profile.serialize(sender._events().event("task.succeeded"))
    headers = sender.profile.delivery_headers(body, SECRET, 1_777_593_600)
    n, rounds = (100, 3) if smoke else (1000, 15)
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=_ok_asgi), base_url="http://testserver")

    async def posts() -> None:
        for _ in range(n):
            response = await client.post("/hook", content=body, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(response.status_code)

    def deliveries() -> None:
        for _ in range(n):
            if sender.send(_ok_asgi, body=body).status != "succeeded":
                raise RuntimeError("an in-process ASGI delivery did not succeed")

    def timed(fn: Callable[[], object]) -> tuple[float, float]:
        t, c = time.perf_counter(), time.process_time()
        fn()
        return (time.perf_counter() - t) / n * 1e6, (time.process_time() - c) / n * 1e6

    def baseline() -> tuple[float, float]:
        return timed(lambda: loop.run_until_complete(posts()))

    def subject() -> tuple[float, float]:
        return timed(deliveries)

    baseline(), subject()  # warm both
    sides: dict[str, list[tuple[float, float]]] = {"baseline": [], "subject": []}
    for i in range(rounds):  # interleaved, alternating which side goes first
        for side in ("subject", "baseline") if i % 2 else ("baseline", "subject"):
            sides[side].append(baseline() if side == "baseline" else subject())
    loop.run_until_complete(client.aclose())
    loop.close()
    sender.close()
    figures = []
    for k, what in ((0, "wall"), (1, "CPU")):
        b = [x[k] for x in sides["baseline"]]
        v = [x[k] for x in sides["subject"]]
        ratios = [vi / bi for vi, bi in zip(v, b)]
        r = statistics.median(ratios)
        spread = f"{_spread((min(ratios), max(ratios)))}; {rounds} interleaved rounds of {n}"
        if what == "wall":
            figures.append(
                Figure(
                    "ASGI in-process delivery",
                    statistics.median(v),
                    "µs",
                    "≤ 1.3× baseline",
                    r <= 1.3,
                    statistics.median(b),
                    r,
                    f"wall µs; baseline: bare httpx.ASGITransport POST of the same bytes; {spread}",
                )
            )
        else:
            figures.append(
                Figure(
                    "ASGI in-process delivery, CPU of the whole process per delivery",
                    statistics.median(v),
                    "µs",
                    "informational (judge the wall ratio by it on a loaded machine)",
                    None,
                    statistics.median(b),
                    r,
                    f"CPU µs, every thread (hookmock's event loop thread included); {spread}",
                )
            )
    return figures


# -- whole processes -----------------------------------------------------------------------------
def validate_process(smoke: bool) -> Figure:
    hm = str(Path(python()).with_name("hookmock"))
    cj = str(Path(python()).with_name("check-jsonschema"))
    with tempfile.TemporaryDirectory() as tmp:
        event = Path(tmp, "event.json")
        event.write_bytes(hookmock.EventFactory("moda", seed=1).body("task.succeeded"))
        bundled = Path(tmp, "moda-envelope.json")
        bundled.write_text(
            subprocess.run([hm, "schema", "moda-envelope", "--bundle"], capture_output=True, text=True).stdout
        )
        ours = [hm, "validate", str(event)]
        peer = [cj, "--schemafile", str(bundled), str(event)]
        process_ms(ours), process_ms(peer)  # warm the file cache
        b, v, r, spread = interleaved(lambda: process_ms(peer), lambda: process_ms(ours), 5 if smoke else 21)
    return Figure(
        "hookmock validate FILE (whole process)",
        v,
        "ms",
        "≤ 1.0× baseline",
        r <= 1.0,
        b,
        r,
        f"baseline: check-jsonschema --schemafile on the bundled moda-envelope schema; {_spread(spread)}",
    )


_BARE_SERVER = r"""
import sys
from werkzeug.serving import WSGIRequestHandler, make_server

class Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"ready": true}']

make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True, request_handler=Quiet).serve_forever()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _await_ready(child: subprocess.Popen[bytes], cmd: list[str], port: int, path: str, start: float) -> float:
    """Wall ms since ``start`` once GET ``path`` on ``port`` answers 200 (polled every ms)."""
    while True:
        if child.poll() is not None:
            raise RuntimeError(f"{cmd[:3]} exited with {child.returncode} before it was ready")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return (time.perf_counter() - start) * 1000
        except OSError:
            pass
        if time.perf_counter() - start > 30:
            raise RuntimeError(f"{cmd[:3]} not ready in 30 s")
        time.sleep(0.001)


def spawn_to_ready_ms(cmd: list[str], port: int, path: str) -> float:
    """Wall ms from spawning ``cmd`` until GET ``path`` on ``port`` answers 200; then it is stopped
    with SIGTERM (it exits as it would for a user)."""
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return _await_ready(child, cmd, port, path, start)
    finally:
        child.terminate()
        child.wait(10)


def spawn_to_ready(cmd: list[str], port: int, path: str) -> tuple[float, float]:
    """``(wall ms, CPU ms)`` from spawning ``cmd`` until GET ``path`` on ``port`` answers 200.  The
    CPU figure is the child's own user + system time until then (it is killed at once and reaped
    with ``wait4``): a neighbour's load does not count in it.  The child gets a temp dir of its own
    (``TMPDIR``), removed afterwards: a killed ``serve`` leaves its throw-away database behind."""
    with tempfile.TemporaryDirectory(prefix="hookmock-bench-serve-") as tmp:
        start = time.perf_counter()
        child = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "TMPDIR": tmp}
        )
        try:
            wall = _await_ready(child, cmd, port, path, start)
        finally:
            child.kill()
            _pid, _status, usage = os.wait4(child.pid, 0)
            child.returncode = -9
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def serve_ready(smoke: bool) -> Figure:
    hm = str(Path(python()).with_name("hookmock"))
    env_cmd = [hm, "serve", "--quiet", "--port"]
    cpu: dict[str, list[float]] = {"ours": [], "bare": []}

    def ours() -> float:
        port = _free_port()
        wall, used = spawn_to_ready([*env_cmd, str(port)], port, "/_hookmock/ready")
        cpu["ours"].append(used)
        return wall

    def bare() -> float:
        port = _free_port()
        wall, used = spawn_to_ready([python(), "-c", _BARE_SERVER, str(port)], port, "/ready")
        cpu["bare"].append(used)
        return wall

    ours(), bare()  # warm the file cache
    del cpu["ours"][:], cpu["bare"][:]
    b, v, r, spread = interleaved(bare, ours, 5 if smoke else 21)
    cpu_ratios = [o / c for o, c in zip(cpu["ours"], cpu["bare"])]
    cpu_ours, cpu_bare = statistics.median(cpu["ours"]), statistics.median(cpu["bare"])
    return Figure(
        "hookmock serve: spawn → ready route answers",
        v,
        "ms",
        "≤ 1.5× baseline",
        r <= 1.5,
        b,
        r,
        f"baseline: a bare werkzeug server, spawn → its route answers; {_spread(spread)}; "
        f"CPU until ready {cpu_ours:.0f} ms vs {cpu_bare:.0f} ms, ratio "
        f"{statistics.median(cpu_ratios):.2f} ({_spread((min(cpu_ratios), max(cpu_ratios)))})",
    )


def integrator_suite(smoke: bool) -> Figure:
    """``python -m pytest`` in conftest_plugin/ (the example integrator suite): wall time, and every
    test's own duration (setup + call + teardown, the median over the runs) under 100 ms unless it
    is marked realtime.  Each test's median goes to stderr, slowest first."""
    folder = ROOT / "conftest_plugin"
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp, "durations.jsonl")
        plugin = Path(tmp, "bench_durations.py")
        plugin.write_text(_DURATIONS_PLUGIN)
        env = {**os.environ, "PYTHONPATH": tmp, "BENCH_DURATIONS": str(report)}
        cmd = [python(), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "bench_durations"]
        walls = []
        for _ in range(1 if smoke else 3):
            walls.append(process_ms(cmd, cwd=str(folder), env=env))
        runs = [json.loads(line) for line in report.read_text().splitlines()]
    rows = []
    for first in runs[0]:
        seconds = sorted(r["seconds"] for run in runs for r in run if r["nodeid"] == first["nodeid"])
        rows.append({**first, "seconds": seconds[len(seconds) // 2]})
    for r in sorted(rows, key=lambda r: -r["seconds"]):
        mark = "  (realtime)" if r["realtime"] else ""
        print(f"  {r['seconds'] * 1000:8.1f} ms  {r['nodeid']}{mark}", file=sys.stderr)
    slow = [r for r in rows if r["seconds"] >= 0.1 and not r["realtime"]]
    worst = max(rows, key=lambda r: r["seconds"] if not r["realtime"] else 0)
    walls.sort()
    return Figure(
        f"example integrator suite (conftest_plugin/, {len(rows)} tests): wall",
        walls[len(walls) // 2] / 1000,
        "s",
        "report; every test < 100 ms unless realtime",
        not slow,
        note=(
            f"slowest non-realtime test {worst['seconds'] * 1000:.1f} ms ({worst['nodeid']}); "
            f"{sum(r['realtime'] for r in rows)} realtime; "
            f"runs {', '.join(f'{w / 1000:.2f}' for w in walls)} s"
            + (f"; over 100 ms: {[r['nodeid'] for r in slow]}" if slow else "")
        ),
    )


_DURATIONS_PLUGIN = """
import json, os

_rows = {}

def pytest_runtest_logreport(report):
    row = _rows.setdefault(report.nodeid, {"nodeid": report.nodeid, "seconds": 0.0, "realtime": False})
    row["seconds"] += report.duration  # setup + call + teardown: what the test costs its author
    row["realtime"] = row["realtime"] or "realtime" in report.keywords

def pytest_sessionfinish(session):
    with open(os.environ["BENCH_DURATIONS"], "a") as fh:  # one line per run
        fh.write(json.dumps(list(_rows.values())) + "\\n")
"""


FIGURES = [verify_figures, send_generated, asgi_delivery, validate_process, serve_ready, integrator_suite]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--only", action="append", default=[])
    args = parser.parse_args()
    print("| figure | value | baseline | ratio | target | met |\n|---|---|---|---|---|---|")
    for fn in FIGURES:
        if args.only and not any(o in fn.__name__ for o in args.only):
            continue
        result = fn(args.smoke)
        for fig in result if isinstance(result, list) else [result]:
            print(fig.row(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
