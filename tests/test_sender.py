"""The Sender against real loopback receivers (pytest-httpserver, threaded) on the virtual clock."""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from hookmock import Sender, TargetNotAllowed, UsageError, VirtualClock
from hookmock.clock import SECOND, RealClock
from hookmock.delivery.log import DeliveryLog
from hookmock.profiles import get_profile
from hookmock.validation import validate

MODA = get_profile("moda")
MODIO = get_profile("modio")
DEADLINE_S = MODA.deadline_ns // SECOND
DELAYS_S = [d // SECOND for d in MODA.retry_delays_ns]


@dataclass
class Seen:
    body: bytes
    headers: dict[str, str]
    at: int  # virtual unix seconds when the request arrived


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    yield srv
    srv.clear()
    srv.stop()


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


class Receiver:
    """A scripted handler: ``answers`` yields a callable per request (Request -> Response)."""

    def __init__(
        self, server: HTTPServer, clock: VirtualClock, answers: Iterator[Callable[[Request], Response]]
    ):
        self.clock = clock
        self.seen: list[Seen] = []
        self._answers = answers
        self._lock = threading.Lock()
        server.clear()
        server.expect_request("/hook", method="POST").respond_with_handler(self)
        self.url = server.url_for("/hook")

    def __call__(self, request: Request) -> Response:
        with self._lock:
            self.seen.append(Seen(request.get_data(), dict(request.headers), self.clock.time()))
            answer = next(self._answers)
        return answer(request)


def status(code: int, **headers: str) -> Callable[[Request], Response]:
    return lambda _r: Response(f"answer {code}", status=code, headers=headers)


def slow(clock: VirtualClock, seconds: float, code: int = 200) -> Callable[[Request], Response]:
    def answer(_r: Request) -> Response:
        clock.advance(seconds)
        return Response("late", status=code)

    return answer


def dribble(clock: VirtualClock, nbytes: int) -> Callable[[Request], Response]:
    """Sends one byte per virtual second: each byte is quick, the whole is too slow."""

    def answer(_r: Request) -> Response:
        def body() -> Iterator[bytes]:
            for _ in range(nbytes):
                clock.advance(1)
                yield b"x"

        return Response(body(), status=200, headers={"Content-Length": str(nbytes)}, direct_passthrough=True)

    return answer


def starts_s(delivery) -> list[float]:  # type: ignore[no-untyped-def]
    return [t / SECOND for t in delivery.attempt_times()]


def check_signatures(receiver: Receiver, sender: Sender, delivery) -> None:  # type: ignore[no-untyped-def]
    """Identical bytes on every attempt; each signature valid at its attempt's time."""
    assert {s.body for s in receiver.seen} == {delivery.body}, delivery.timeline()
    for seen, attempt in zip(receiver.seen, delivery.attempts):
        sender.profile.verify(seen.headers, seen.body, sender.secret, now=seen.at, tolerance=0)
        if sender.profile.has_timestamp:
            assert attempt.timestamp == attempt.started_ns // SECOND
    event_ids = {sender.profile.event_id(json.loads(s.body)) for s in receiver.seen}
    assert event_ids == {delivery.event_id}


def test_fail_fail_fail_ok_exact_times(server: HTTPServer, clock: VirtualClock):
    rx = Receiver(server, clock, iter([status(500), status(502), status(503), status(200)]))
    sender = Sender("moda", clock=clock)
    delivery = sender.send(rx.url, "task.succeeded")
    assert delivery.status == "succeeded", delivery.timeline()
    assert starts_s(delivery) == [0, DELAYS_S[0], DELAYS_S[0] + DELAYS_S[1], sum(DELAYS_S)]
    assert [a.status for a in delivery.attempts] == [500, 502, 503, 200]
    assert delivery.attempts[0].excerpt_text == "answer 500"
    check_signatures(rx, sender, delivery)
    # fresh timestamp per attempt: the timestamps differ
    assert len({s.headers[MODA.timestamp_header] for s in rx.seen}) == 4  # type: ignore[attr-defined]
    row = delivery.row()
    validate(row, "moda-delivery")
    assert row["attempts"] == 4 and row["response_status_code"] == 200


def test_all_timeout_is_156_s_of_provider_time_in_milliseconds(server: HTTPServer, clock: VirtualClock):
    rx = Receiver(server, clock, itertools.repeat(slow(clock, DEADLINE_S + 0.001)))
    sender = Sender("moda", clock=clock)
    t = time.perf_counter()
    delivery = sender.send(rx.url, "task.failed")
    real = time.perf_counter() - t
    assert delivery.status == "failed" and len(delivery.attempts) == 4, delivery.timeline()
    assert {a.outcome for a in delivery.attempts} == {"timeout"}
    assert {a.duration_ns for a in delivery.attempts} == {MODA.deadline_ns}
    expected, t0 = [], 0
    for delay in [*DELAYS_S, None]:
        expected.append(t0)
        if delay is not None:
            t0 += DEADLINE_S + delay
    assert starts_s(delivery) == expected
    end = delivery.attempts[-1].ended_ns
    assert end is not None and (end - delivery.created_ns) == 4 * MODA.deadline_ns + sum(MODA.retry_delays_ns)
    assert real < 5, f"virtual worst case took {real:.2f} s of real time"
    check_signatures(rx, sender, delivery)


def test_redirects_are_failures_and_never_followed(server: HTTPServer, clock: VirtualClock):
    rx = Receiver(server, clock, itertools.repeat(status(301, Location="/elsewhere")))
    delivery = Sender("moda", clock=clock).send(rx.url, "export.succeeded")
    assert delivery.status == "failed" and [a.status for a in delivery.attempts] == [301] * 4
    assert len(rx.seen) == 4 and all(r[0].path == "/hook" for r in server.log)


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_connection_refused(clock: VirtualClock):
    delivery = Sender("moda", clock=clock).send(f"http://127.0.0.1:{_closed_port()}/hook", "task.canceled")
    assert delivery.status == "failed", delivery.timeline()
    assert [a.outcome for a in delivery.attempts] == ["refused"] * 4
    assert starts_s(delivery) == [0, DELAYS_S[0], DELAYS_S[0] + DELAYS_S[1], sum(DELAYS_S)]


def test_dribbling_receiver_cannot_stretch_the_deadline(server: HTTPServer, clock: VirtualClock):
    rx = Receiver(server, clock, iter([dribble(clock, DEADLINE_S + 10), status(200)]))
    delivery = Sender("moda", clock=clock).send(rx.url, "task.succeeded")
    first, second = delivery.attempts
    assert (first.outcome, first.duration_ns) == ("timeout", MODA.deadline_ns), delivery.timeline()
    assert second.status == 200 and delivery.status == "succeeded"
    assert starts_s(delivery)[1] == DEADLINE_S + DELAYS_S[0]


def test_modio_one_attempt_then_manual_retry_on_the_same_entry(server: HTTPServer, clock: VirtualClock):
    rx = Receiver(server, clock, iter([status(500), status(200)]))
    sender = Sender("modio", clock=clock)
    delivery = sender.send(rx.url, "ADD_MOD_COMMENT")
    assert delivery.status == "failed" and len(delivery.attempts) == 1
    clock.advance(60)
    again = sender.redeliver(delivery.id)
    assert again.id == delivery.id and again.status == "succeeded" and len(again.attempts) == 2
    check_signatures(rx, sender, again)
    entry = again.row()
    validate(entry, "modio-history-entry")
    assert entry["attempts"] == 2 and entry["http_status"] == 200


def test_modio_slow_receiver_times_out_at_its_deadline(server: HTTPServer, clock: VirtualClock):
    rx = Receiver(server, clock, iter([slow(clock, MODIO.deadline_ns / SECOND + 0.5)]))
    delivery = Sender("modio", clock=clock).send(rx.url, "ADD_MOD")
    assert [(a.outcome, a.duration_ns) for a in delivery.attempts] == [("timeout", MODIO.deadline_ns)]


def test_moda_redelivery_is_a_new_row_with_the_same_body_resigned(server: HTTPServer, clock: VirtualClock):
    rx = Receiver(server, clock, iter([status(500)] * 4 + [status(200)]))
    sender = Sender("moda", clock=clock, api_key_id="key_test")
    original = sender.send(rx.url, "task.failed", data__error__retryable=False)
    assert original.status == "failed"
    clock.advance(3600)
    replay = sender.redeliver(original.id)
    assert replay.id != original.id and replay.replayed_from_id == original.id
    assert replay.body == original.body and replay.event_id == original.event_id
    assert replay.status == "succeeded" and replay.api_key_id == "key_test"
    last = rx.seen[-1]
    MODA.verify(
        last.headers, last.body, sender.secret, now=clock.time(), tolerance=0
    )  # fresh, not an hour old
    validate(replay.row(), "moda-delivery")
    assert sender.log.get(original.id).status == "failed"  # the original row is untouched


def test_redeliver_in_the_background_returns_pending_at_once(server: HTTPServer, clock: VirtualClock):
    rx = Receiver(server, clock, itertools.repeat(status(200)))
    with Sender("moda", clock=clock) as sender:
        first = sender.send(rx.url, "task.succeeded")
        pending = sender.redeliver(first.id, wait=False)
        assert pending.status in ("pending", "succeeded")
        assert sender.wait(pending, timeout=10).status == "succeeded"
        assert sender.pool is not None and sender.pool.errors == []


def test_wsgi_app_in_process(clock: VirtualClock):
    calls: list[tuple[bytes, dict[str, str]]] = []
    sender = Sender("moda", clock=clock)

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        request = Request(environ)
        calls.append((request.get_data(), dict(request.headers)))
        ok = sender.profile.check(request.headers, request.get_data(), sender.secret, now=clock.time()).ok
        code = "200 OK" if ok and len(calls) >= 3 else "500 Internal Server Error"
        start_response(code, [("Content-Type", "text/plain")])
        return [b"done" if ok else b"bad signature"]

    delivery = sender.send(app, "export.failed")
    assert delivery.status == "succeeded" and [a.status for a in delivery.attempts] == [500, 500, 200]
    assert delivery.target.startswith("wsgi://") and len({body for body, _ in calls}) == 1
    # each retry comes the delay after the previous attempt ended (the app's real time counts)
    first, second, third = delivery.attempts
    assert second.started_ns == first.started_ns + first.duration_ns + DELAYS_S[0] * SECOND
    assert third.started_ns == second.started_ns + second.duration_ns + DELAYS_S[1] * SECOND


def test_payload_and_body_are_sent_byte_for_byte(server: HTTPServer, clock: VirtualClock):
    rx = Receiver(server, clock, itertools.repeat(status(200)))
    sender = Sender("moda", clock=clock)
    payload = {
        "id": "evt_01KQGDBJ00BZTEZ088ZEMVMTHC",
        "type": "task.succeeded",
        "data": {"x": "\u00e9\u2028"},
    }
    by_payload = sender.send(rx.url, payload=payload)
    assert rx.seen[-1].body == MODA.serialize(payload) and by_payload.event_id == payload["id"]
    raw = b'{"type":"task.succeeded",  "id":"evt_X", "n": 1.10}\n'
    by_body = sender.send(rx.url, body=raw)
    assert rx.seen[-1].body == raw and by_body.event_type == "task.succeeded" and by_body.event_id == "evt_X"


def test_outbound_safety_refuses_before_accepting(clock: VirtualClock):
    sender = Sender("moda", clock=clock)
    with pytest.raises(TargetNotAllowed):
        sender.send("http://10.1.2.3/hook", "task.succeeded")
    with pytest.raises(UsageError, match=r"scheme|http"):
        sender.send("ftp://127.0.0.1/hook", "task.succeeded")
    assert sender.log.count() == 0


def test_bad_arguments_are_usage_errors(clock: VirtualClock):
    sender = Sender("moda", clock=clock)
    with pytest.raises(UsageError, match="not both"):
        sender.send("http://127.0.0.1:9/", payload={}, body=b"{}")
    with pytest.raises(UsageError, match="overrides"):
        sender.send("http://127.0.0.1:9/", payload={"type": "task.succeeded"}, data__status="x")
    with pytest.raises(UsageError, match="event type"):
        sender.send("http://127.0.0.1:9/", body=b"not json")
    with pytest.raises(UsageError, match="deadline_s"):
        Sender("moda", deadline_s=0)
    with pytest.raises(UsageError, match="no delivery"):
        sender.redeliver("whd_missing")


def test_secrets_and_signatures_are_never_stored(server: HTTPServer, clock: VirtualClock, tmp_path: Path):
    rx = Receiver(server, clock, iter([status(500), status(200)]))
    path = tmp_path / "log.db"
    sender = Sender("moda", "whsec_" + "S" * 32, clock=clock, log=path)
    delivery = sender.send(rx.url, "task.succeeded")
    assert delivery.status == "succeeded"
    assert "whsec_" not in repr(sender) and "whsec_" not in repr(sender.engine)
    sender.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"S" * 32 not in stored
    for seen in rx.seen:
        signature = seen.headers[MODA.signature_header].split("=", 1)[1]  # type: ignore[attr-defined]
        assert signature.encode() not in stored


def test_deliveries_survive_in_the_log_file(server: HTTPServer, clock: VirtualClock, tmp_path: Path):
    rx = Receiver(server, clock, itertools.repeat(status(204)))
    path = tmp_path / "log.db"
    with Sender("moda", clock=clock, log=path) as sender:
        ids = [sender.send(rx.url, t).id for t in ("task.succeeded", "task.failed", "export.failed")]
    with DeliveryLog(path) as log:
        page = log.list(limit=2)
        assert [r.id for r in page.records] == ids[::-1][:2] and page.next_cursor
        assert [r.id for r in log.list(limit=2, cursor=page.next_cursor).records] == [ids[0]]


@pytest.mark.realtime
def test_pool_driver_on_the_real_clock(server: HTTPServer):
    clock = RealClock()
    counts: dict[bytes, int] = {}
    lock = threading.Lock()

    def handler(request: Request) -> Response:
        with lock:
            counts[request.get_data()] = counts.get(request.get_data(), 0) + 1
            first = counts[request.get_data()] == 1
        return Response("no", status=503) if first else Response("ok")

    server.clear()
    server.expect_request("/pool", method="POST").respond_with_handler(handler)
    with Sender(
        "moda", clock=clock, deadline_s=2, retry_delays_s=(0.05, 0.05, 0.05), max_workers=8
    ) as sender:
        submitted = [sender.submit(server.url_for("/pool"), "task.succeeded") for _ in range(20)]
        assert sender.wait_all(timeout=20)
        done = [sender.get(d.id) for d in submitted]
        assert sender.pool is not None and sender.pool.errors == []
    assert {d.status for d in done} == {"succeeded"}
    assert {len(d.attempts) for d in done} == {2} and set(counts.values()) == {2}
    for d in done:
        gap = d.attempts[1].started_ns - (d.attempts[0].ended_ns or 0)
        assert 50_000_000 <= gap < 1_000_000_000, d.timeline()


def test_seed_makes_generated_events_reproducible(clock: VirtualClock):
    bodies: list[list[bytes]] = []
    for seed in (7, 7, 8):
        got: list[bytes] = []

        def app(environ, start_response, got=got):  # type: ignore[no-untyped-def]
            got.append(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
            start_response("204 No Content", [])
            return [b""]

        with Sender("moda", clock=VirtualClock(start=1_700_000_000), seed=seed) as sender:
            sender.send(app, "task.succeeded")
            sender.send(app, "task.failed")
        bodies.append(got)
    assert bodies[0] == bodies[1]  # same seed, same clock: the same bytes
    assert bodies[0] != bodies[2]
    with pytest.raises(UsageError, match="seed='7'"):
        Sender("moda", clock=clock, seed="7")  # type: ignore[arg-type]
