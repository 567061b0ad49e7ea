"""Crash windows of the emulator's two-step writes, each hit deterministically.

``hookmock serve`` runs with ``HOOKMOCK_CRASH_POINT=after_delivery_accepted``: it is SIGKILLed
right after it has committed a new delivery (a task's webhook, a fired Moda or mod.io event, a
redelivery) and before it does anything else.  A restart on the same ``--db`` must then send that
event exactly once: not twice (the task did not know its delivery), not never (a mod.io entry
without its game).  The recovery of rows left by an older emulator (a task marked fired with no
delivery id) is checked in-process on a real SQLite file.
"""

from __future__ import annotations

import contextlib
import http.client
import signal
import sqlite3
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from crash_support import Emu, LoopReceiver
from hookmock.profiles import get_profile

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

POINT = "after_delivery_accepted"


def _rows(db: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute(
            "SELECT id, profile, event_id, status, replayed_from_id, agent_job_id "
            "FROM deliveries ORDER BY seq"
        ).fetchall()
    finally:
        conn.close()


def _task_delivery(db: Path, task_id: str) -> str | None:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute("SELECT delivery_id FROM emu_tasks WHERE id = ?", (task_id,)).fetchone()[0]
    finally:
        conn.close()


def _dies(emu: Emu, action: Any) -> None:
    """Run ``action`` against an emulator armed to die in it; assert it died by SIGKILL."""
    with contextlib.suppress(OSError, http.client.HTTPException):
        action()
    assert emu.wait(15) == -signal.SIGKILL, "the crash point was not reached"


def _drain(serve: Any, db: Path, secret: str, seconds: int = 60) -> None:
    """Restart on ``db`` without a crash point, run the clock ``seconds`` on, stop cleanly."""
    emu = serve(db, secret, None)
    assert emu.api is not None
    try:
        emu.api.advance(seconds)
    finally:
        emu.proc.send_signal(signal.SIGTERM)
        assert emu.wait(15) == 0


@pytest.fixture
def serve(tmp_path):
    """Start ``hookmock serve`` processes; any still running at the end (a failed test) is killed."""
    started: list[Emu] = []

    def start(db: Path, secret: str, crash: str | None) -> Emu:
        emu = Emu(tmp_path, db, secret, crash)
        started.append(emu)
        return emu

    yield start
    for emu in started:
        if emu.proc.poll() is None:
            emu.kill()


@pytest.fixture
def receiver():
    with LoopReceiver(seed=0) as r:
        r.final = True  # every receipt is answered 200: one receipt per delivery
        yield r


@pytest.fixture
def secret() -> str:
    return get_profile("moda").generate_secret()


def test_a_crash_after_a_tasks_webhook_is_committed_sends_it_once(tmp_path, serve, receiver, secret):
    db = tmp_path / "emu.db"
    emu = serve(db, secret, f"{POINT}:1")
    assert emu.api is not None
    task = emu.api.post("/v1/tasks", {"prompt": "once", "callback_url": receiver.url})
    _dies(emu, lambda: emu.api.advance(4))  # the task ends at +3 s and fires its webhook
    [first] = _rows(db)  # committed before the kill, and the task knows it (same transaction)
    assert _task_delivery(db, task["id"]) == first[0]

    _drain(serve, db, secret)
    rows = _rows(db)
    assert len(rows) == 1, f"one task, one event, but {len(rows)} deliveries: {rows}"
    [(delivery_id, _, event_id, status, _, job)] = rows
    assert (delivery_id, status, job) == (first[0], "succeeded", task["id"])
    assert receiver.accepted == Counter({event_id: 1})


def test_a_crash_after_a_mod_io_entry_is_committed_sends_it_once(tmp_path, serve, receiver, secret):
    db = tmp_path / "emu.db"
    emu = serve(db, secret, f"{POINT}:1")
    assert emu.api is not None
    emu.api.put("/_hookmock/modio/games/42/webhook", {"url": receiver.url, "token": "tok-" + "x" * 30})
    _dies(emu, lambda: emu.api.post("/_hookmock/modio/games/42/events", {"event_name": "ADD_MOD"}))
    assert len(_rows(db)) == 1

    _drain(serve, db, secret)
    [(_, profile, _, status, _, _)] = _rows(db)
    # before the link to the game was committed with the entry, the restart found an entry with
    # no game (so no token to send it with) and canceled it: the event was lost
    assert (profile, status) == ("modio", "succeeded")
    assert sum(receiver.receipts.values()) == 1


def test_a_crash_after_a_fired_moda_event_is_committed_sends_it_once(tmp_path, serve, receiver, secret):
    db = tmp_path / "emu.db"
    emu = serve(db, secret, f"{POINT}:1")
    assert emu.api is not None
    event = {"event_type": "task.succeeded", "callback_url": receiver.url}
    _dies(emu, lambda: emu.api.post("/_hookmock/moda/events", event))

    _drain(serve, db, secret)
    [(_, _, event_id, status, _, _)] = _rows(db)
    assert status == "succeeded" and receiver.accepted == Counter({event_id: 1})


def test_a_crash_after_a_redelivery_is_committed_sends_it_once(tmp_path, serve, receiver, secret):
    db = tmp_path / "emu.db"
    emu = serve(db, secret, f"{POINT}:2")  # the first acceptance is the task's webhook
    assert emu.api is not None
    emu.api.post("/v1/tasks", {"prompt": "again", "callback_url": receiver.url})
    emu.api.advance(4)
    [original] = emu.api.get("/v1/webhook_deliveries")["data"]
    _dies(emu, lambda: emu.api.post(f"/v1/webhook_deliveries/{original['id']}/redeliver"))

    _drain(serve, db, secret)
    rows = _rows(db)
    assert [(r[3], r[4]) for r in rows] == [("succeeded", None), ("succeeded", original["id"])]
    assert len({r[2] for r in rows}) == 1  # the same event: its one delivery and one explicit replay
    assert receiver.accepted == Counter({rows[0][2]: 2})


def test_recovery_links_a_delivery_an_older_emulator_left_unrecorded(tmp_path, receiver, secret):
    """A database written before the task's state and its delivery were one transaction: the
    task says "fired", has no delivery id, and its delivery is in the log.  Start-up links it."""
    from hookmock.clock import VirtualClock
    from hookmock.emulator import EmulatorConfig
    from hookmock.emulator.core import EmulatorCore

    db = tmp_path / "old.db"

    def core() -> EmulatorCore:
        config = EmulatorConfig(db_path=str(db), allow_http_callbacks=True, signing_secret=secret)
        return EmulatorCore(config, clock=VirtualClock(start=1_800_000_000))

    first = core()
    first.start()
    task = first.engine.create(
        kind="design", input={"prompt": "x"}, callback_url=receiver.url, api_key_id="k", outcome="succeed"
    )
    first.advance(4_000_000_000)
    first.store.update_task(task.id, delivery_id=None)  # the old window: delivery never recorded
    other = first.engine.create(
        kind="design", input={"prompt": "y"}, callback_url=receiver.url, api_key_id="k", outcome="succeed"
    )
    now = first.clock.now_ns()  # and the older window: the task ended, its webhook never created
    first.store.update_task(
        other.id, status="succeeded", completed_ns=now, due_ns=None, event_id="evt_old", fired=1
    )
    first.close()

    second = core()
    try:
        assert second.engine.recover() == 2
        rows = _rows(db)
        assert [r[5] for r in rows] == [task.id, other.id]  # linked once, fired once: one each
        assert second.store.task(task.id).delivery_id == rows[0][0]  # type: ignore[union-attr]
        assert second.store.task(other.id).delivery_id == rows[1][0]  # type: ignore[union-attr]
        assert second.engine.recover() == 0
    finally:
        second.close()


# --- two writers: a cancel racing the clock ends a task once, with one webhook ----------------------------


def _core(tmp_path: Path) -> Any:
    from hookmock.clock import VirtualClock
    from hookmock.emulator import EmulatorConfig
    from hookmock.emulator.core import EmulatorCore

    config = EmulatorConfig(db_path=str(tmp_path / "race.db"), allow_http_callbacks=True)
    core = EmulatorCore(config, clock=VirtualClock(start=1_800_000_000))
    core.start()
    return core


def _running_task(core: Any) -> Any:
    from hookmock.clock import SECOND

    task = core.engine.create(
        kind="design",
        input={"prompt": "x"},
        callback_url="http://127.0.0.1:9/x",
        api_key_id="k",
        outcome="succeed",
    )
    core.clock.advance_to(core.clock.now_ns() + 3 * SECOND)
    core.engine.tick()  # running
    core.clock.advance_to(core.clock.now_ns() + 2 * SECOND)  # and due to succeed
    return core.store.task(task.id)


def _deliveries_of(core: Any, task_id: str) -> list[str]:
    rows = core.store._db.execute("SELECT event_type FROM deliveries WHERE agent_job_id = ?", (task_id,))
    return [r[0] for r in rows.fetchall()]


def test_the_clock_finding_a_task_canceled_meanwhile_fires_nothing_more(tmp_path):
    """The interleaving, step by step: the clock read the task running, a cancel ended it, then the
    clock's transition is applied to what it read.  It must find the task moved and write nothing."""
    from hookmock.emulator.store import TaskMoved

    core = _core(tmp_path)
    try:
        stale = _running_task(core)
        core.engine.cancel(stale.id)
        with pytest.raises(TaskMoved):
            core.engine._step(stale)  # the succeeded webhook is rolled back with the transition
        assert core.engine.tick() == 0
        assert _deliveries_of(core, stale.id) == ["task.canceled"]
        assert core.store.task(stale.id).status == "canceled"
    finally:
        core.close()


def _race(core: Any, task_id: str) -> list[str]:
    """Cancel ``task_id`` while the clock ends it, from two threads released together."""
    import threading

    from hookmock.emulator.errors import ApiError

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def cancel() -> None:
        barrier.wait()
        try:
            core.engine.cancel(task_id)
            outcomes.append("canceled")
        except ApiError as exc:
            outcomes.append(exc.code)

    def clock() -> None:
        barrier.wait()
        core.engine.tick()

    threads = [threading.Thread(target=f) for f in (cancel, clock)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return outcomes


def test_a_cancel_racing_the_clock_ends_the_task_once(tmp_path):
    core = _core(tmp_path)
    try:
        for _ in range(15):
            task = _running_task(core)
            outcomes = _race(core, task.id)
            events = _deliveries_of(core, task.id)
            assert len(events) == 1, f"task {task.id} fired {events}"
            final = core.store.task(task.id)
            assert events == [f"task.{final.status}"]
            assert outcomes == (["canceled"] if final.status == "canceled" else ["task_not_cancelable"])
    finally:
        core.close()
