"""An ASGI app that blocks the shared event loop's thread past its deadline must not make the next,
unrelated delivery time out too: the blocked loop is retired and later deliveries get a fresh one,
while a loop that is merely waiting on a slow app is kept (with the state apps bound to it)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import hookmock
from hookmock.transport import asgi


async def _answer(send: Any, body: bytes = b"ok") -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def _blocking_app(seconds: float) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        time.sleep(seconds)  # the mistake under test: blocks the loop's thread
        await _answer(send)

    return app


async def _healthy_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    await _answer(send)


def _send(app: Any, deadline_s: float) -> Any:
    sender = hookmock.Sender(
        "moda", "whsec_x" * 3, clock=hookmock.RealClock(), deadline_s=deadline_s, retry_delays_s=[]
    )
    return sender.send((app, "/hook"), "task.succeeded").attempts[0]


@pytest.mark.realtime
def test_an_app_blocking_the_loop_does_not_time_out_the_next_delivery_to_another_app() -> None:
    started = time.monotonic()
    blocked = _send(_blocking_app(0.6), deadline_s=0.2)
    assert blocked.outcome == "timeout"
    assert time.monotonic() - started < 0.5  # the sender did not wait for the blocking app
    # a new sender, another app, while the first one still holds its loop's thread
    healthy = _send(_healthy_app, deadline_s=0.2)
    assert time.monotonic() - started < 0.55, "the check ran after the blocking app let go"
    assert (healthy.outcome, healthy.status) == ("response", 200), healthy.detail


@pytest.mark.realtime
def test_a_loop_merely_waiting_on_a_slow_app_is_kept_with_the_state_bound_to_it() -> None:
    state: dict[str, Any] = {}

    async def stateful(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        lock = state.setdefault("lock", asyncio.Lock())  # bound to the loop on first use
        async with lock:
            if scope["path"] == "/slow":
                await asyncio.sleep(0.6)  # awaits: the loop stays free
            await _answer(send, str(id(asyncio.get_running_loop())).encode())

    first = _send(stateful, 0.5)
    sender = hookmock.Sender(
        "moda", "whsec_x" * 3, clock=hookmock.RealClock(), deadline_s=0.2, retry_delays_s=[]
    )
    slow = sender.send((stateful, "/slow"), "task.succeeded").attempts[0]
    assert slow.outcome == "timeout"
    time.sleep(0.5)  # the slow one lets go of the lock
    again = _send(stateful, 0.5)
    assert (first.status, again.status) == (200, 200), again.detail
    assert first.excerpt == again.excerpt  # the same loop: the lock made on it still works


@pytest.mark.realtime
def test_a_retired_loop_stops_once_its_app_is_done() -> None:
    asgi._loop()
    old = asgi._LOOP
    assert old is not None
    assert _send(_blocking_app(0.3), deadline_s=0.1).outcome == "timeout"
    assert _send(_healthy_app, deadline_s=0.5).status == 200
    assert asgi._LOOP is not old  # later deliveries run on a fresh loop
    old.thread.join(0.3 + asgi.RETIRED_POLL_S + 2)
    assert not old.thread.is_alive()  # the retired one stopped once the app let go
    assert old.loop.is_closed()
