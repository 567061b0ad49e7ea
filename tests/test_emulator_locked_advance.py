"""Advancing the virtual clock while another process holds the emulator's ``--db`` file.

A task's webhook whose first attempt failed has a retry due; another process takes the file's
write lock (``BEGIN EXCLUSIVE``) and a client advances the clock past the retry.  The delivery
driver's worker met the lock when it recorded the attempt, dropped the delivery (still pending in
the log, due now, with no driver left to send it), and the advance then waited for it to be sent,
five seconds at a time, for ever: no answer, every later advance queued behind it, ``settle`` said
``settled: false`` and the retry was never sent until a reset or a restart.  A 503 advance also
moved the clock (a client retrying per Retry-After advanced twice).

Now an advance that meets the lock answers 503 ``database_locked`` within the busy wait, leaves
the clock where it was, and once the lock is gone the next advance sends the due retry as usual.
Real HTTP over loopback, a real ``--db`` file, the lock from a second real ``sqlite3`` connection.
"""

from __future__ import annotations

import http.client
import json
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator_support import running
from hookmock._util.sqlite import BUSY_TIMEOUT_ENV
from locking_support import Held

#: the busy wait in these tests (seconds): an answer must come well within a few of these
BUSY_S = 0.2


@pytest.fixture(autouse=True)
def short_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BUSY_TIMEOUT_ENV, str(BUSY_S))


def refused_url() -> str:
    """A loopback URL nobody listens on (a port bound, then closed): every attempt is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def call(
    emu: Any, method: str, path: str, body: Any = None, *, timeout: float = 20
) -> tuple[int, Any, float]:
    """One request; its status, decoded JSON body and how long the answer took (real seconds)."""
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=timeout)
    started = time.monotonic()
    try:
        headers = {"Authorization": f"Bearer {emu.api_key}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read()), time.monotonic() - started
    finally:
        conn.close()


def advance(emu: Any, seconds: float) -> tuple[int, Any, float]:
    return call(emu, "POST", "/_hookmock/clock/advance", {"seconds": seconds})


def now_ns(emu: Any) -> int:
    status, body, _ = call(emu, "GET", "/_hookmock/clock")
    assert status == 200, body
    return int(body["now_ns"])


def the_delivery(emu: Any) -> dict[str, Any]:
    status, body, _ = call(emu, "GET", "/v1/webhook_deliveries")
    assert status == 200, body
    (row,) = body["data"]
    return dict(row)


def assert_locked(status: int, body: Any, took: float, db: Path) -> None:
    assert status == 503, body
    assert body["error"]["code"] == "database_locked", body
    assert str(db) in body["error"]["message"]
    assert took < 10 * BUSY_S + 3, f"the 503 took {took:.1f} s"


@pytest.fixture
def retry_due(tmp_path: Path) -> Iterator[tuple[Any, Path]]:
    """An emulator on a ``--db`` file whose one delivery failed its first attempt and has its
    first retry due one second later."""
    db = tmp_path / "emu.db"
    with running(db_path=str(db), allow_http_callbacks=True) as (emu, _api):
        status, body, _ = call(
            emu, "POST", "/v1/tasks", {"prompt": "a poster", "callback_url": refused_url()}
        )
        assert status == 202, body
        status, body, _ = advance(emu, 3)  # queued 1 s, running 2 s: the webhook, refused
        assert status == 200, body
        row = the_delivery(emu)
        assert (row["status"], row["attempts"]) == ("pending", 1), row
        assert body["pending"]["next_attempt_at"] is not None
        yield emu, db


def test_an_advance_over_a_due_retry_while_the_file_is_locked_is_503_and_the_retry_is_sent_after(
    retry_due: tuple[Any, Path],
) -> None:
    emu, db = retry_due
    before = now_ns(emu)
    held = Held(db)
    try:
        assert_locked(*advance(emu, 1), db)
        assert now_ns(emu) == before  # a refused advance leaves the clock where it was
        assert_locked(*advance(emu, 1), db)  # and so does the client's retry of it
        assert now_ns(emu) == before
    finally:
        held.release()
    status, body, took = advance(emu, 1)  # the lock gone: the retry is sent, as on any advance
    assert status == 200, body
    assert took < 5, f"the advance after the lock took {took:.1f} s"
    assert body["now_ns"] == before + 1_000_000_000
    row = the_delivery(emu)
    assert (row["status"], row["attempts"]) == ("pending", 2), row
    status, body, _ = call(emu, "POST", "/_hookmock/settle?timeout=3")
    assert status == 200 and body["settled"] is True, body
    status, body, _ = advance(emu, 40)  # the later retries (5 s, 30 s) run their course too
    assert status == 200, body
    row = the_delivery(emu)
    assert (row["status"], row["attempts"]) == ("failed", 4), row


def test_a_lock_taken_while_the_retry_is_being_recorded_does_not_wedge_the_clock(
    retry_due: tuple[Any, Path],
) -> None:
    """The lock is taken after the advance checked it, as the driver records the attempt: the
    advance answers 503 within the busy wait (the clock stands at the retry it reached, said in the
    answer), and once the lock is gone the retry due then is sent by the next advance."""
    emu, db = retry_due
    before = now_ns(emu)
    log = emu.core.gateway.log
    other = sqlite3.connect(str(db), isolation_level=None, timeout=5, check_same_thread=False)
    held: list[bool] = []
    start_attempt = log.start_attempt

    def lock_first(*args: Any, **kwargs: Any) -> Any:  # another process takes the lock right here
        if not held:
            other.execute("BEGIN EXCLUSIVE")
            held.append(True)
        return start_attempt(*args, **kwargs)

    log.start_attempt = lock_first  # type: ignore[method-assign]
    try:
        status, body, took = advance(emu, 1)
        assert_locked(status, body, took, db)
        clock = body["error"]["details"]["clock"]
        assert clock["now_ns"] == now_ns(emu)  # the answer says where the clock stands
        assert before < clock["now_ns"] <= before + 1_000_000_000
        # still locked: a settle and another advance answer too, at once, and move nothing more
        stood = now_ns(emu)
        status, body, took = call(emu, "POST", "/_hookmock/settle?timeout=3")
        assert status in (200, 503) and took < 10 * BUSY_S + 3, (status, body, took)
        assert_locked(*advance(emu, 1), db)
        assert now_ns(emu) == stood
    finally:
        log.start_attempt = start_attempt  # type: ignore[method-assign]
        if held:
            other.execute("ROLLBACK")
        other.close()
    status, body, took = advance(emu, 1)
    assert status == 200 and took < 5, (status, body, took)
    row = the_delivery(emu)
    assert (row["status"], row["attempts"]) == ("pending", 2), row
    status, body, _ = call(emu, "POST", "/_hookmock/settle?timeout=3")
    assert status == 200 and body["settled"] is True, body
    assert emu.core.gateway.moda.pool is None or emu.core.gateway.moda.pool.errors == []


def test_a_refused_advance_with_a_task_step_on_the_way_moves_neither_clock_nor_task(tmp_path: Path) -> None:
    """The advance used to move the clock to the task's step, meet the lock there and answer 503:
    a client retrying per Retry-After then advanced twice."""
    db = tmp_path / "emu.db"
    with running(db_path=str(db), allow_http_callbacks=True) as (emu, _api):
        status, task, _ = call(
            emu, "POST", "/v1/tasks", {"prompt": "a poster", "callback_url": refused_url()}
        )
        assert status == 202, task
        before = now_ns(emu)
        held = Held(db)
        try:
            assert_locked(*advance(emu, 5), db)  # the task's first step is due after 1 s
            assert now_ns(emu) == before
            assert emu.core.store.task(task["id"]).status == "queued"
        finally:
            held.release()
        status, body, _ = advance(emu, 5)
        assert status == 200 and body["now_ns"] == before + 5_000_000_000, body
        assert emu.core.store.task(task["id"]).status != "queued"
