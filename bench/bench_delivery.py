"""Delivery costs: in-process to a WSGI app, over loopback, and Moda's worst case on the virtual clock.

The in-process figure is CPU time of the sending thread (nothing else runs; wall time on a shared
machine mostly measures the neighbours).  The loopback figures alternate small chunks of baseline
and hookmock requests to one receiver in another process, so drift in the machine's load hits both
alike, and compare the totals.
"""

from __future__ import annotations

import http.client
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from _harness import Figure, cpu_us_per_call, interleaved

from hookmock import VirtualClock
from hookmock.profiles.moda import sign_request
from hookmock.sender import Sender


def _ok_app(environ, start_response):  # type: ignore[no-untyped-def]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


def in_process_delivery(smoke: bool) -> Figure:
    """The same signed bytes: ``sender.send(app, body=...)`` (sign, deliver, log in memory) against a
    bare werkzeug test-client POST; rounds interleaved, CPU time of this thread."""
    from werkzeug.test import Client

    n, rounds = (200, 3) if smoke else (2000, 9)
    sender = Sender("moda", "whsec_bench", clock=VirtualClock())
    body = sender.profile.serialize(sender._events().event("task.succeeded"))
    headers = sender.profile.delivery_headers(body, "whsec_bench", 1_777_593_600)
    client = Client(_ok_app)
    for _ in range(20):
        client.post("/hook", data=body, headers=headers)
        sender.send(_ok_app, body=body)
    b, v, r, spread = interleaved(
        lambda: cpu_us_per_call(lambda: client.post("/hook", data=body, headers=headers), n),
        lambda: cpu_us_per_call(lambda: sender.send(_ok_app, body=body), n),
        rounds,
    )
    sender.close()
    return Figure(
        "in-process delivery to a WSGI app",
        v,
        "µs",
        "≤ 1.2× baseline",
        r <= 1.2,
        b,
        r,
        "CPU µs per delivery; baseline: bare werkzeug test-client POST; "
        f"ratio spread {spread[0]:.2f}–{spread[1]:.2f}",
    )


_SERVER = r"""
from werkzeug.serving import WSGIRequestHandler, make_server

class Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass

def app(environ, start_response):
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]

server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
print(server.server_port, flush=True)
server.serve_forever()
"""


@contextmanager
def _fast_server() -> Iterator[int]:
    """A fast receiver (werkzeug, threaded, answers 200) in its own process, as a real one would be:
    in this process its threads would compete with the sender for the GIL."""
    child = subprocess.Popen([sys.executable, "-c", _SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        yield int(child.stdout.readline())
    finally:
        child.kill()
        child.wait(10)


def loopback_throughput(smoke: bool) -> Figure:
    chunk, rounds = 25, (4 if smoke else 21)
    with _fast_server() as port:
        url = f"http://127.0.0.1:{port}/hook"
        sender = Sender("moda", "whsec_bench")
        body = sender.profile.serialize(sender._events().event("task.succeeded"))

        cpu: dict[str, list[float]] = {"baseline": [], "hookmock": []}  # sending thread, µs each

        def baseline() -> float:  # signs each request, as any sender must
            t, c = time.perf_counter(), time.thread_time()
            for _ in range(chunk):
                signed = sign_request(body, "whsec_bench", int(time.time()))
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                hdrs = {"Content-Type": "application/json", **signed, "Connection": "close"}
                conn.request("POST", "/hook", body=body, headers=hdrs)
                conn.getresponse().read()
                conn.close()
            cpu["baseline"].append((time.thread_time() - c) / chunk * 1e6)
            return time.perf_counter() - t

        def hookmock_run() -> float:
            t, c = time.perf_counter(), time.thread_time()
            for _ in range(chunk):
                delivery = sender.send(url, body=body)
                if not delivery.succeeded:
                    raise RuntimeError(delivery.timeline())
            cpu["hookmock"].append((time.thread_time() - c) / chunk * 1e6)
            return time.perf_counter() - t

        baseline(), hookmock_run()  # warm both
        cpu = {"baseline": [], "hookmock": []}
        b, v, r, spread = interleaved(lambda: chunk / baseline(), lambda: chunk / hookmock_run(), rounds)
        sender.close()
    cpu_ratios = [h / b for h, b in zip(cpu["hookmock"], cpu["baseline"], strict=True)]
    return Figure(
        "deliveries/s over loopback",
        v,
        "/s",
        "≥ 0.9× baseline",
        r >= 0.9,
        b,
        r,
        "baseline: bare http.client loop, a new connection and a fresh signature per request, same body; "
        f"ratio spread {spread[0]:.2f}–{spread[1]:.2f}; sending thread's CPU per delivery: "
        f"hookmock {statistics.median(cpu['hookmock']):.0f} µs, "
        f"baseline {statistics.median(cpu['baseline']):.0f} µs, "
        f"ratio {statistics.median(cpu_ratios):.2f} ({min(cpu_ratios):.2f}–{max(cpu_ratios):.2f})",
    )


def worst_case_virtual(smoke: bool) -> Figure:
    """Moda's worst case: four attempts that each time out, 156 s of provider time."""
    n = 20 if smoke else 200

    def hang_app(environ, start_response):  # type: ignore[no-untyped-def]
        clock.advance(31)  # past the 30 s deadline on the shared virtual clock
        start_response("200 OK", [])
        return [b""]

    clock = VirtualClock()
    sender = Sender("moda", "whsec_bench", clock=clock)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        d = sender.send(hang_app, "task.succeeded")
        times.append((time.perf_counter() - t) * 1000)
        assert d.status == "failed" and len(d.attempts) == 4, d.timeline()
    sender.close()
    v = statistics.median(times)
    return Figure("Moda worst case (4 timeouts, 156 s virtual)", v, "ms/delivery", "< 10 ms", v < 10)


FIGURES = [in_process_delivery, loopback_throughput, worst_case_virtual]
