"""The emulator's reset cancels pending deliveries (none is sent again) and hides older rows; a
mod.io entry whose game lost its webhook (nothing can send it) is canceled, so it never stalls time."""

from __future__ import annotations

from pathlib import Path

from emulator_support import running, stack
from hookmock.clock import SECOND, RealClock, VirtualClock
from hookmock.delivery.log import DeliveryLog
from hookmock.emulator.store import Store
from hookmock.profiles import get_profile

MODA = get_profile("moda")
FIRST_DELAY_S = MODA.retry_delays_ns[0] // SECOND
SCHEDULE_S = sum(MODA.retry_delays_ns) // SECOND + 4 * MODA.deadline_ns // SECOND


def test_a_delivery_pending_with_a_retry_at_reset_is_never_sent_again():
    with stack("500") as (emu, api, receiver):
        api.post("/v1/tasks", {"prompt": "a poster", "callback_url": receiver.url})
        api.advance(3)  # the task ends and the first attempt fails: a retry is due in FIRST_DELAY_S
        [row] = api.get("/v1/webhook_deliveries")["data"]
        assert (row["status"], row["attempts"]) == ("pending", 1)
        assert len(receiver.requests) == 1
        api.post("/_hookmock/reset")
        api.advance(FIRST_DELAY_S + SCHEDULE_S)  # past every retry the schedule had left
        assert len(receiver.requests) == 1, receiver.timeline()
        assert api.get("/v1/webhook_deliveries")["data"] == []  # hidden after the reset
        detail = api.get(f"/v1/webhook_deliveries/{row['id']}")  # kept: the log is append-only
        assert (detail["status"], detail["attempts"]) == ("failed", 1)
        assert len(detail["attempt_timeline"]) == 1
        pool = emu.core.gateway.moda.pool
        assert pool is not None and row["id"] not in pool and pool.errors == []
        # after the reset everything works as before: new deliveries are listed and sent
        receiver.script("ok")
        api.post("/v1/tasks", {"prompt": "another", "callback_url": receiver.url})
        api.advance(3)
        [fresh] = api.get("/v1/webhook_deliveries")["data"]
        assert fresh["id"] != row["id"] and (fresh["status"], fresh["attempts"]) == ("succeeded", 1)
        assert len(receiver.requests) == 2


def test_reset_does_not_move_the_virtual_clock():
    with running() as (_emu, api):
        before = api.get("/_hookmock/clock")["now_ns"]
        api.post("/_hookmock/reset")
        assert api.get("/_hookmock/clock")["now_ns"] == before


def test_a_mod_io_entry_whose_game_lost_its_webhook_is_canceled_at_start(tmp_path: Path):
    db = str(tmp_path / "emulator.db")
    clock = VirtualClock(start=RealClock().time())
    with running(clock, db_path=db):
        pass  # creates the tables
    with DeliveryLog(db) as log:
        log.create(
            delivery_id="whd_orphan",
            profile="modio",
            event_id="evt_orphan",
            event_type="PING",
            target_url="http://127.0.0.1:9/hook",
            body=b'{"event":"PING"}',
            created_ns=clock.now_ns(),
        )
    store = Store(db)
    store.set_delivery_game("whd_orphan", "a-game-without-webhook")
    store.close()
    with running(clock, db_path=db) as (emu, api):
        entry = api.get("/_hookmock/modio/history/whd_orphan")
        assert (entry["status"], entry["attempts"]) == ("failed", 0)
        assert emu.core.gateway.settle(timeout_s=0.05) is True  # nothing pending: no wait
        assert emu.core.gateway.next_due_ns() is None
        api.advance(1)
        assert emu.core.gateway.log.get("whd_orphan").state.phase.value == "canceled"
