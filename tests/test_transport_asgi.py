"""ASGITransport: in-process delivery to ASGI apps with the WSGI transport's semantics."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from typing import Any

import pytest
from fastapi import FastAPI, Request
from flask import Flask

from hookmock import Sender, UsageError, VirtualClock
from hookmock.clock import MS, SECOND
from hookmock.receiver.proxy import FaultProxy
from hookmock.transport.apps import AppTarget, as_target, is_asgi
from hookmock.transport.asgi import ASGITransport
from hookmock.transport.inprocess import InProcessTransport

DEADLINE = 30 * SECOND


class Recorder:
    """A bare ASGI app: keeps the scope and the body it got, answers with a script."""

    def __init__(self, status: int = 200, chunks: tuple[bytes, ...] = (b"ok",)) -> None:
        self.status, self.chunks = status, chunks
        self.scopes: list[dict[str, Any]] = []
        self.bodies: list[bytes] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scopes.append(scope)
        message = await receive()
        self.bodies.append(message["body"])
        await send({"type": "http.response.start", "status": self.status, "headers": [(b"x-r", b"1")]})
        for i, chunk in enumerate(self.chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": i < len(self.chunks) - 1})


def _send(app: Any, body: bytes = b"{}", headers: dict[str, str] | None = None, **kw: Any) -> Any:
    kw.setdefault("deadline_ns", DEADLINE)
    kw.setdefault("clock", VirtualClock())
    return ASGITransport().send(app, headers or {}, body, **kw)


def test_the_app_gets_the_exact_bytes_headers_and_path() -> None:
    app = Recorder(status=201)
    body = b'{"a":"\xc3\xa9"}\xff raw'
    result = _send((app, "/webhooks/moda?x=1&y=%20"), body, {"X-Webhook-Signature": "v1=ab", "Host": "evil"})
    assert result.outcome == "response" and result.status == 201 and result.excerpt == b"ok"
    assert ("x-r", "1") in result.headers and result.peer == "asgi"
    scope = app.scopes[0]
    assert app.bodies == [body]
    assert scope["type"] == "http" and scope["method"] == "POST" and scope["asgi"]["version"] == "3.0"
    assert scope["path"] == "/webhooks/moda" and scope["raw_path"] == b"/webhooks/moda"
    assert scope["query_string"] == b"x=1&y=%20"
    headers = scope["headers"]
    assert (b"x-webhook-signature", b"v1=ab") in headers
    assert (b"host", b"localhost") in headers and (b"host", b"evil") not in headers
    assert (b"content-length", str(len(body)).encode()) in headers
    assert all(name == name.lower() for name, _ in headers)


def test_the_read_is_bounded_and_the_rest_counted() -> None:
    app = Recorder(chunks=(b"a" * 1500, b"b" * 1500, b"c" * 7000))
    result = _send(app)
    assert result.excerpt == b"a" * 1500 + b"b" * 548
    assert result.extra["body_bytes"] == 10_000


@pytest.mark.realtime
def test_an_endless_body_is_cut_off_at_the_deadline_and_the_app_told() -> None:
    told = threading.Event()

    async def endless(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            while True:
                await send({"type": "http.response.body", "body": b"x" * 65536, "more_body": True})
        except OSError:
            told.set()

    clock = VirtualClock()
    start, real = clock.now_ns(), time.monotonic()
    result = _send(endless, deadline_ns=300 * MS, clock=clock)
    assert result.outcome == "timeout" and result.duration_ns == 300 * MS
    assert clock.now_ns() == start + 300 * MS
    assert time.monotonic() - real < 5
    assert told.wait(5), "the app was not told the sender went away"


def test_an_exception_before_the_response_is_an_error_with_the_exception() -> None:
    async def boom(scope: Any, receive: Any, send: Any) -> None:
        raise KeyError("no such event")

    result = _send(boom)
    assert result.outcome == "error" and "KeyError" in result.detail
    assert isinstance(result.extra["exception"], KeyError)


@pytest.mark.parametrize(
    ("messages", "detail"),
    [
        ([{"type": "http.response.body", "body": b"x"}], "before http.response.start"),
        ([], "returned without sending a response"),
        ([{"type": "http.response.start", "status": 200}], "before its response body was complete"),
        ([{"type": "http.response.start", "status": "200"}], "bad ASGI status '200'"),
        ([{"type": "websocket.accept"}], "not an HTTP response message"),
    ],
)
def test_responses_that_break_the_spec_are_malformed(messages: list[dict[str, Any]], detail: str) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        for message in messages:
            await send(message)

    result = _send(app)
    assert result.outcome == "malformed" and detail in result.detail, result


def test_virtual_time_the_app_spends_counts_and_past_the_deadline_is_a_timeout() -> None:
    clock = VirtualClock()

    def app_moving(seconds: float) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            await receive()
            clock.advance(seconds)
            await send({"type": "http.response.start", "status": 200})
            await send({"type": "http.response.body", "body": b"late"})

        return app

    ok = _send(app_moving(2.5), clock=clock)
    assert ok.outcome == "response" and ok.duration_ns == 2500 * MS
    late = _send(app_moving(31), clock=clock)
    assert late.outcome == "timeout" and late.duration_ns == DEADLINE


def test_another_thread_moving_the_clock_past_the_deadline_aborts_at_once() -> None:
    clock = VirtualClock()

    entered = threading.Event()

    async def hangs(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        entered.set()
        await asyncio.sleep(3600)  # never ends by itself: only the deadline stops the attempt

    def move() -> None:  # once the attempt is in the app (no guess at how long that takes)
        assert entered.wait(10)
        clock.advance(31)

    mover = threading.Thread(target=move)
    mover.start()
    real = time.monotonic()
    result = _send(hangs, clock=clock)
    mover.join()
    assert result.outcome == "timeout" and result.duration_ns == DEADLINE
    assert time.monotonic() - real < 10


def test_work_after_the_response_goes_on_while_the_sender_moves_on() -> None:
    done = threading.Event()
    release = threading.Event()

    async def acks_then_works(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 202})
        await send({"type": "http.response.body", "body": b""})
        # background work, like FastAPI BackgroundTasks: it ends when the test releases it
        await asyncio.to_thread(release.wait, 10)
        done.set()

    result = _send(acks_then_works)
    assert result.outcome == "response" and result.status == 202
    assert not done.is_set()  # the attempt ended with the response
    release.set()
    assert done.wait(5)


def test_fastapi_through_sender_and_fault_proxy_with_a_path() -> None:
    app = FastAPI()
    got: list[tuple[str, bytes]] = []

    @app.post("/webhooks/moda")
    async def hook(request: Request) -> dict[str, bool]:
        got.append((request.url.path, await request.body()))
        return {"ok": True}

    clock = VirtualClock()
    sender = Sender("moda", clock=clock)
    delivery = sender.send((app, "/webhooks/moda"), "task.succeeded")
    assert (
        delivery.status == "succeeded"
        and delivery.target == "asgi://fastapi.applications.FastAPI/webhooks/moda"
    )
    assert got[0][1] == delivery.body
    proxy = FaultProxy((app, "/webhooks/moda"), "moda", clock=clock)
    proxy.lose_ack(503)
    through = sender.send(proxy, "task.succeeded")
    assert [a.status for a in through.attempts] == [503, 200]
    assert [path for path, _ in got] == ["/webhooks/moda"] * 3
    assert "ASGI app fastapi.applications.FastAPI at /webhooks/moda" in repr(proxy)


def test_asgi_apps_are_recognised() -> None:
    async def bare(scope: Any, receive: Any, send: Any) -> None: ...

    assert is_asgi(FastAPI()) and is_asgi(bare) and is_asgi(Recorder())
    assert not is_asgi(Flask("x")) and not is_asgi(lambda environ, start_response: [])
    assert as_target((bare, "/x")) == AppTarget(bare, "http://localhost/x", "asgi")

    class Legacy:  # ASGI 2: a class called with the scope, then an async instance
        def __init__(self, scope: Any) -> None:
            self.scope = scope

        async def __call__(self, receive: Any, send: Any) -> None:
            await Recorder(status=204, chunks=(b"",))(self.scope, receive, send)

    result = InProcessTransport().send(
        AppTarget(Legacy, "/hook", interface="asgi"), {}, b"{}", deadline_ns=DEADLINE, clock=VirtualClock()
    )
    assert result.status == 204


def test_a_sync_wrapper_taking_scope_receive_send_is_asgi() -> None:
    class Wrapped:  # a sync __call__ returning the app's coroutine (some middleware does this)
        def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
            return Recorder(status=202)(scope, receive, send)

    assert is_asgi(Wrapped())
    result = InProcessTransport().send(Wrapped(), {}, b"{}", deadline_ns=DEADLINE, clock=VirtualClock())
    assert result.status == 202


def test_an_unrecognised_asgi_app_given_as_wsgi_says_what_to_do() -> None:
    class Opaque:  # *args: nothing tells it is ASGI, until it returns a coroutine
        def __call__(self, *args: Any) -> Any:
            async def later() -> None: ...

            return later()

    assert not is_asgi(Opaque())
    result = InProcessTransport().send(Opaque(), {}, b"{}", deadline_ns=DEADLINE, clock=VirtualClock())
    assert result.outcome == "malformed" and "interface='asgi'" in result.detail


def test_without_asgiref_an_asgi_target_is_refused_with_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "asgiref.compatibility", None)
    with pytest.raises(UsageError, match=r"pip install 'hookmock\[asgi\]'"):
        _send(Recorder())


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("/webhooks", "a path without an application"),
        (42, "a target is a URL string, a WSGI or ASGI application"),
        ((Recorder(), "webhooks"), "must start with '/'"),
        ((Recorder(), 7), "must be a string like '/webhooks'"),
    ],
)
def test_bad_targets_are_named_with_what_to_give(target: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        as_target(target)


@pytest.mark.realtime
def test_an_async_handler_s_real_time_counts_and_moves_the_virtual_clock() -> None:
    async def slow(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await asyncio.sleep(0.2)
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"ok"})

    clock = VirtualClock()
    start = clock.now_ns()
    result = _send(slow, clock=clock)
    assert result.outcome == "response" and 200 * MS <= result.duration_ns < 5 * SECOND
    assert clock.now_ns() - start == result.duration_ns
    late = _send(slow, clock=clock, deadline_ns=100 * MS)  # past a (shortened) deadline
    assert late.outcome == "timeout" and late.duration_ns == 100 * MS


def test_without_asgiref_an_asgi_target_is_refused_before_anything_is_logged(monkeypatch) -> None:
    """A lean install has no asgiref: sending to an ASGI app says which extra to install, at once,
    instead of logging a delivery whose every attempt fails with that hint in its detail."""
    import importlib.util

    import hookmock
    from hookmock.clock import VirtualClock
    from hookmock.errors import UsageError

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a, **k: None if name.split(".")[0] == "asgiref" else real(name, *a, **k),
    )

    async def app(scope, receive, send):  # pragma: no cover - never called
        raise AssertionError

    sender = hookmock.Sender("moda", "whsec_lean_install_0123456789", clock=VirtualClock())
    with pytest.raises(UsageError, match=r"hookmock\[asgi\]"):
        sender.send(app, "task.succeeded")
    assert sender.log.list().records == []
