"""WSGITransport: in-process delivery to WSGI apps (plain callables and Flask), no socket."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, redirect, request

from hookmock.clock import MS, SECOND, RealClock, VirtualClock
from hookmock.errors import UsageError
from hookmock.transport import EXCERPT_BYTES, Transport
from hookmock.transport.wsgi import WSGITarget, WSGITransport

DEADLINE = 30 * SECOND
BODY = b'{"id": "evt_1", "type": "task.succeeded", "data": {"name": "caf\xc3\xa9"}}'


def flask_app() -> Flask:
    app = Flask("receiver")
    app.config["TESTING"] = True  # exceptions propagate instead of becoming a 500
    app.received = []  # type: ignore[attr-defined]

    @app.post("/hooks/moda")
    def hook() -> Any:
        app.received.append(  # type: ignore[attr-defined]
            {
                "body": request.get_data(),
                "headers": dict(request.headers),
                "args": dict(request.args),
                "remote": request.remote_addr,
                "host": request.host,
                "scheme": request.scheme,
            }
        )
        return {"ok": True}, 202

    @app.post("/moved")
    def moved() -> Any:
        return redirect("/hooks/moda", code=307)

    @app.post("/boom")
    def boom() -> Any:
        raise RuntimeError("handler exploded")

    return app


def send(target: object, *, transport: WSGITransport | None = None, clock=None, deadline=DEADLINE, **kw):
    transport = transport or WSGITransport()
    headers = kw.pop("headers", {"Content-Type": "application/json", "X-Webhook-Signature": "v1=00"})
    return transport.send(
        target, headers, kw.pop("body", BODY), deadline_ns=deadline, clock=clock or VirtualClock()
    )


def test_is_a_transport():
    assert isinstance(WSGITransport(), Transport)


def test_flask_app_gets_the_exact_bytes_and_headers(monkeypatch):
    def no_sockets(*args: object, **kwargs: object) -> None:
        raise AssertionError("the WSGI transport must not open a socket")

    monkeypatch.setattr(socket, "socket", no_sockets)
    monkeypatch.setattr(socket, "create_connection", no_sockets)
    app = flask_app()
    result = send(WSGITarget(app, "https://receiver.test/hooks/moda?tenant=7"))
    assert (result.outcome, result.status) == ("response", 202)
    assert result.excerpt == b'{"ok":true}\n'
    assert ("Content-Type", "application/json") in result.headers
    seen = app.received[0]  # type: ignore[attr-defined]
    assert seen["body"] == BODY
    assert seen["headers"]["X-Webhook-Signature"] == "v1=00"
    assert seen["headers"]["Content-Type"] == "application/json"
    assert seen["headers"]["Content-Length"] == str(len(BODY))
    assert seen["args"] == {"tenant": "7"}
    assert (seen["remote"], seen["host"], seen["scheme"]) == ("127.0.0.1", "receiver.test", "https")


def test_target_forms():
    app = flask_app()
    assert send((app, "/hooks/moda")).status == 202
    assert send(app).status == 404  # the default URL is http://localhost/
    assert send(app, transport=WSGITransport(default_url="http://localhost/hooks/moda")).status == 202
    bound = WSGITransport(app)
    assert send("/hooks/moda", transport=bound).status == 202
    assert send("http://other.test/hooks/moda", transport=bound).status == 202
    assert len(app.received) == 4  # type: ignore[attr-defined]
    assert app.received[-1]["host"] == "other.test"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("target", "fragment"),
    [
        ("http://localhost/hooks", "no application"),
        (42, "cannot deliver to 42"),
        (None, "cannot deliver"),
    ],
)
def test_bad_targets_are_usage_errors(target, fragment):
    with pytest.raises(UsageError, match=fragment):
        send(target)


def test_bad_paths_and_urls():
    app = flask_app()
    with pytest.raises(UsageError, match="must start with '/'"):
        send((app, "hooks"))
    with pytest.raises(UsageError, match="absolute http"):
        WSGITransport(default_url="ftp://x/")
    with pytest.raises(UsageError, match="callable"):
        WSGITarget("not an app")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="line break"):
        send((app, "/hooks/moda"), headers={"X-A": "1\r\nX-B: 2"})
    with pytest.raises(UsageError, match="deadline_ns"):
        send(app, deadline=0)


def test_redirect_is_not_followed():
    app = flask_app()
    result = send((app, "/moved"))
    assert (result.outcome, result.status) == ("response", 307)
    assert ("Location", "/hooks/moda") in result.headers
    assert app.received == []  # type: ignore[attr-defined]


def test_app_exception_is_an_error_outcome_that_can_be_reraised():
    result = send((flask_app(), "/boom"))
    assert result.outcome == "error"
    assert result.detail == "the app raised RuntimeError: handler exploded"
    exc = result.extra["exception"]
    assert isinstance(exc, RuntimeError)
    with pytest.raises(RuntimeError, match="handler exploded"):
        raise exc


def test_exception_while_streaming_the_body():
    def app(environ, start_response) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"part"
        raise ValueError("broken stream")

    result = send(app)
    assert result.outcome == "error" and isinstance(result.extra["exception"], ValueError)


def test_big_streamed_body_keeps_only_the_excerpt():
    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            for _ in range(160):  # 10 MiB
                yield b"b" * 65536

        def close(self) -> None:
            closed.append(True)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Body()

    result = send(app)
    assert result.outcome == "response" and result.status == 200
    assert result.excerpt == b"b" * EXCERPT_BYTES
    assert result.extra["body_bytes"] == 160 * 65536
    assert closed == [True]


def test_write_callable_apps_are_supported():
    def app(environ, start_response):
        write = start_response("201 Created", [])
        write(b"written ")
        return [b"and returned"]

    result = send(app)
    assert (result.status, result.excerpt, result.detail) == (201, b"written and returned", "Created")


def test_app_that_never_starts_a_response_is_malformed():
    assert send(lambda environ, start_response: [b"x"]).outcome == "malformed"


@pytest.mark.parametrize("status", ["OK", "20 OK", "2000 Big"])
def test_bad_status_is_malformed(status):
    def app(environ, start_response):
        start_response(status, [])
        return [b""]

    result = send(app)
    assert result.outcome == "malformed" and status in result.detail


def test_non_bytes_body_is_malformed():
    def app(environ, start_response):
        start_response("200 OK", [])
        return ["text, not bytes"]

    assert send(app).outcome == "malformed"


# --- the deadline, judged on the clock -----------------------------------------------------


def delaying(app, clock: VirtualClock, seconds: float):
    """What a fault proxy does on the virtual clock: hold the request, then pass it on."""

    def wrapped(environ, start_response):
        clock.advance(seconds)
        return app(environ, start_response)

    return wrapped


def test_duration_is_measured_on_the_virtual_clock():
    clock = VirtualClock()
    app = flask_app()
    result = send((delaying(app, clock, 2.5), "/hooks/moda"), clock=clock)
    assert result.outcome == "response" and result.duration_ns == 2500 * MS
    assert len(app.received) == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("delay", [30, 31, 600])
def test_delay_to_or_past_the_deadline_is_a_timeout_of_exactly_the_deadline(delay):
    clock = VirtualClock()
    result = send((delaying(flask_app(), clock, delay), "/hooks/moda"), clock=clock)
    assert result.outcome == "timeout" and result.duration_ns == DEADLINE
    assert "30 s" in result.detail


def test_just_inside_the_deadline_counts():
    clock = VirtualClock()
    result = send((delaying(flask_app(), clock, 29.999), "/hooks/moda"), clock=clock)
    assert result.outcome == "response" and result.duration_ns == 29_999 * MS


def test_dribbling_app_times_out_at_the_deadline():
    clock = VirtualClock()
    produced: list[int] = []

    def app(environ, start_response):
        start_response("200 OK", [])
        for i in range(100):
            produced.append(i)
            clock.advance(1)
            yield b"d"

    result = send(app, clock=clock, deadline=5 * SECOND)
    assert result.outcome == "timeout" and result.duration_ns == 5 * SECOND
    assert len(produced) == 5


def test_exception_after_the_deadline_is_a_timeout_that_keeps_the_exception():
    clock = VirtualClock()

    def app(environ, start_response):
        clock.advance(40)
        raise ConnectionAbortedError("proxy dropped the request")

    result = send(app, clock=clock)
    assert result.outcome == "timeout" and result.duration_ns == DEADLINE
    assert isinstance(result.extra["exception"], ConnectionAbortedError)


def test_real_clock_duration():
    result = send((flask_app(), "/hooks/moda"), clock=RealClock())
    assert result.outcome == "response" and 0 < result.duration_ns < SECOND


@pytest.mark.realtime
def test_endless_body_on_a_virtual_clock_stops_at_the_real_time_backstop():
    def app(environ, start_response):
        start_response("200 OK", [])
        while True:
            yield b"e" * 1024

    real = RealClock()
    t0 = real.monotonic_ns()
    result = send(app, clock=VirtualClock(), deadline=300 * MS)
    assert result.outcome == "timeout" and result.duration_ns == 300 * MS
    assert real.monotonic_ns() - t0 < 600 * MS
