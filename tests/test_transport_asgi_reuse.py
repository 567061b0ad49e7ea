"""In-process ASGI delivery, delivery after delivery: what the adapter remembers between them (per
app: whether it is ASGI 2; per URL: the scope's URL parts) never leaks from one target to
another, and what it now makes only when needed (the ``http.disconnect`` event, the extra loop
turn of a streamed body) still works when an app needs it (issue 18: the ASGI ratio)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from hookmock.clock import MS, SECOND, VirtualClock
from hookmock.transport.apps import AppTarget
from hookmock.transport.asgi import ASGITransport

DEADLINE = 30 * SECOND


def _send(target: Any, body: bytes = b"{}", **kw: Any) -> Any:
    kw.setdefault("deadline_ns", DEADLINE)
    kw.setdefault("clock", VirtualClock())
    return ASGITransport().send(target, {"X-Seq": kw.pop("seq", "0")}, body, **kw)


def test_one_app_at_many_urls_gets_each_url_s_own_scope() -> None:
    scopes: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scopes.append(scope)
        await receive()
        scope["path"] = "/changed-by-the-app"  # a scope is the app's: the next one is untouched
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"ok"})

    urls = ["/a?x=1", "https://shop.test:8443/b%20c", "/a?x=1", "http://other.test/"]
    for i, url in enumerate(urls):
        assert _send((app, url), seq=str(i)).status == 200
    got = [(s["scheme"], s["path"], s["raw_path"], s["query_string"], s["server"]) for s in scopes]
    assert got[1] == ("https", "/changed-by-the-app", b"/b%20c", b"", ("shop.test", 8443))
    assert [s["raw_path"] for s in scopes] == [b"/a", b"/b%20c", b"/a", b"/"]
    assert [s["query_string"] for s in scopes] == [b"x=1", b"", b"x=1", b""]
    assert [s["server"] for s in scopes] == [
        ("localhost", 80),
        ("shop.test", 8443),
        ("localhost", 80),
        ("other.test", 80),
    ]
    hosts = [dict(s["headers"])[b"host"] for s in scopes]
    assert hosts == [b"localhost", b"shop.test:8443", b"localhost", b"other.test"]
    assert [dict(s["headers"])[b"x-seq"] for s in scopes] == [b"0", b"1", b"2", b"3"]
    assert all(s["state"] == {} for s in scopes[1:]) and scopes[0] is not scopes[2]


def test_an_asgi_2_class_and_an_asgi_3_app_keep_their_kind_delivery_after_delivery() -> None:
    class Legacy:  # ASGI 2: called with the scope, then an async instance
        made = 0

        def __init__(self, scope: Any) -> None:
            Legacy.made += 1

        async def __call__(self, receive: Any, send: Any) -> None:
            await receive()
            await send({"type": "http.response.start", "status": 204})
            await send({"type": "http.response.body", "body": b""})

    async def modern(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 201})
        await send({"type": "http.response.body", "body": b""})

    for _ in range(3):
        assert _send(AppTarget(Legacy, "/l", interface="asgi")).status == 204
        assert _send(modern).status == 201
    assert Legacy.made == 3


def test_receive_after_the_response_answers_disconnect_at_once_and_a_waiter_is_woken() -> None:
    """A server's client hangs up once the response is complete: ``receive()`` then answers
    ``http.disconnect``, whether the app asks after the response or was already waiting."""
    seen: list[str] = []
    done = threading.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()

        async def watch() -> None:  # waits for the disconnect before the response is complete
            seen.append((await receive())["type"])

        watcher = asyncio.ensure_future(watch())
        await asyncio.sleep(0)
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await send({"type": "http.response.body", "body": b"b"})
        await asyncio.wait_for(watcher, 5)
        seen.append((await asyncio.wait_for(receive(), 5))["type"])  # asked after the response
        done.set()

    result = _send(app)
    assert result.status == 200 and result.excerpt == b"ab"
    assert done.wait(5)
    assert seen == ["http.disconnect", "http.disconnect"]


def test_a_streamed_body_does_not_starve_other_deliveries_on_the_loop() -> None:
    """Each chunk with more to come still yields the loop: while an app streams a body, a second
    delivery runs on the same loop (without the yield it would wait for the stream to end)."""
    other = threading.Event()
    started = threading.Event()
    interleaved: list[bool] = []

    async def streams(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200})
        started.set()
        give_up = asyncio.get_running_loop().time() + 10
        while not other.is_set() and asyncio.get_running_loop().time() < give_up:
            await send({"type": "http.response.body", "body": b"x", "more_body": True})
        interleaved.append(other.is_set())
        await send({"type": "http.response.body", "body": b"end"})

    async def quick(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        other.set()
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"q"})

    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(_send(streams)))
    worker.start()
    assert started.wait(5)
    assert _send(quick).status == 200
    worker.join(15)
    assert interleaved == [True] and results[0].status == 200


def test_many_deliveries_with_a_clock_moved_by_another_thread_all_end() -> None:
    """The caller's wait is released by the response or by the virtual clock passing the
    deadline, whichever comes first, from two threads at once; every attempt ends with one
    outcome, none waits for the real deadline."""
    clock = VirtualClock()
    stop = threading.Event()

    def mover() -> None:
        while not stop.is_set():
            clock.advance(ns=100 * MS)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await asyncio.sleep(0)
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"ok"})

    thread = threading.Thread(target=mover, daemon=True)
    thread.start()
    try:
        outcomes = [_send(app, clock=clock, deadline_ns=SECOND).outcome for _ in range(200)]
    finally:
        stop.set()
        thread.join(5)
    assert set(outcomes) <= {"response", "timeout"} and len(outcomes) == 200
