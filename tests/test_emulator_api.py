"""The emulator end to end over real sockets: Moda API → signed webhooks → deliveries API."""

from __future__ import annotations

import itertools
import json

import pytest

from emulator_support import running, stack
from hookmock import validate
from hookmock.clock import SECOND
from hookmock.profiles import get_profile
from hookmock.profiles.moda import API_VERSION
from hookmock.receiver.server import FakeReceiver

MODA = get_profile("moda")


def _task(api, receiver, prompt="A summer sale poster", **extra):
    return api.post("/v1/tasks", {"prompt": prompt, "callback_url": receiver.url, **extra})


def test_task_fires_a_signed_schema_valid_webhook():
    with stack("ok") as (_emu, api, receiver):
        task = _task(api, receiver)
        assert task["status"] == "queued"
        validate(task, "moda-task")
        api.advance(1)
        assert api.get(f"/v1/tasks/{task['id']}")["status"] == "running"
        assert receiver.requests == []
        api.advance(2)
        done = api.get(f"/v1/tasks/{task['id']}")
        assert done["status"] == "succeeded" and done["result"]["canvas_id"].startswith("cvs_")
        [req] = receiver.requests
        assert req.verdict is not None and req.verdict.ok, req.verdict
        envelope = json.loads(req.body)
        validate(envelope, "moda-envelope")
        assert envelope["type"] == "task.succeeded" and envelope["data"]["id"] == task["id"]
        assert envelope["data"]["status"] == "succeeded"


def test_failures_follow_the_retry_schedule_and_show_in_the_deliveries_api():
    with stack("500,500,ok") as (emu, api, receiver):
        task = _task(api, receiver)
        api.advance(120)
        rows = api.get("/v1/webhook_deliveries")["data"]
        assert len(rows) == 1
        row = rows[0]
        validate(row, "moda-delivery")
        assert (row["status"], row["attempts"], row["response_status_code"]) == ("succeeded", 3, 200)
        assert row["agent_job_id"] == task["id"] and row["api_key_id"] == emu.core.api_key_id
        detail = api.get(f"/v1/webhook_deliveries/{row['id']}")
        starts = [a["started_ns"] for a in detail["attempt_timeline"]]
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        assert gaps == list(MODA.retry_delays_ns[:2])
        assert [a["status_code"] for a in detail["attempt_timeline"]] == [500, 500, 200]
        ids = {json.loads(r.body)["id"] for r in receiver.requests}
        assert len(ids) == 1  # the event id is stable across retries
        stamps = [r.verdict.timestamp for r in receiver.requests]
        assert stamps == sorted(stamps) and stamps[-1] - stamps[0] == sum(MODA.retry_delays_ns[:2]) // SECOND


def test_all_attempts_failing_drops_the_delivery():
    with stack("500") as (_emu, api, receiver):
        _task(api, receiver)
        api.advance(600)
        [row] = api.get("/v1/webhook_deliveries?status=failed")["data"]
        assert row["attempts"] == MODA.max_attempts
        assert api.get("/v1/webhook_deliveries?status=succeeded")["data"] == []


def test_redeliver_makes_a_new_row_with_the_same_event():
    with stack("ok") as (_emu, api, receiver):
        _task(api, receiver)
        api.advance(5)
        [row] = api.get("/v1/webhook_deliveries")["data"]
        status, body, _ = api.call("POST", f"/v1/webhook_deliveries/{row['id']}/redeliver")
        assert status == 202 and body["replayed_from_id"] == row["id"] and body["status"] == "pending"
        api.advance(1)
        rows = api.get("/v1/webhook_deliveries")["data"]
        assert [r["id"] for r in rows] == [body["id"], row["id"]]
        assert rows[0]["status"] == "succeeded" and rows[0]["replayed_from_id"] == row["id"]
        first, second = receiver.requests
        assert first.body == second.body and all(r.verdict.ok for r in (first, second))


@pytest.mark.parametrize(
    ("magic", "status", "event", "retryable"),
    [
        ("hookmock:fail", "failed", "task.failed", False),
        ("hookmock:fail-retryable", "failed", "task.failed", True),
        ("hookmock:cancel", "canceled", "task.canceled", None),
        ("hookmock:expire", "expired", None, None),
    ],
)
def test_magic_values_choose_the_outcome(magic, status, event, retryable):
    with stack("ok") as (_emu, api, receiver):
        task = _task(api, receiver, prompt=f"poster {magic}")
        api.advance(120)
        got = api.get(f"/v1/tasks/{task['id']}")
        assert got["status"] == status
        validate(got, "moda-task")
        events = [json.loads(r.body) for r in receiver.requests]
        assert [e["type"] for e in events] == ([event] if event else [])
        if retryable is not None:
            assert events[0]["data"]["error"]["retryable"] is retryable


def test_slow_task_can_be_canceled_and_cancel_twice_is_a_conflict():
    with stack("ok") as (_emu, api, receiver):
        task = _task(api, receiver, prompt="hookmock:slow")
        api.advance(10)
        assert api.get(f"/v1/tasks/{task['id']}")["status"] == "running"
        assert api.post(f"/v1/tasks/{task['id']}/cancel")["status"] == "canceled"
        status, body, _ = api.call("POST", f"/v1/tasks/{task['id']}/cancel")
        assert status == 409 and body["error"]["type"] == "conflict"
        api.advance(1)
        assert [json.loads(r.body)["type"] for r in receiver.requests] == ["task.canceled"]


def test_control_api_forces_an_outcome():
    with stack("ok") as (_emu, api, receiver):
        task = _task(api, receiver)
        assert api.post(f"/_hookmock/tasks/{task['id']}/complete", {"outcome": "fail"})["status"] == "failed"
        api.advance(0)
        assert json.loads(receiver.requests[0].body)["type"] == "task.failed"


def test_idempotency_key():
    with stack("ok") as (_emu, api, receiver):
        a = _task(api, receiver, idempotency_key="k1")
        b = _task(api, receiver, idempotency_key="k1")
        assert a["id"] == b["id"]
        status, body, _ = api.call("POST", "/v1/tasks", {"prompt": "other", "idempotency_key": "k1"})
        assert status == 409 and body["error"]["code"] == "idempotency_conflict"
        assert len(api.get("/v1/tasks")["data"]) == 1


def test_export_fires_export_events_and_has_a_status_route():
    with stack("ok") as (_emu, api, receiver):
        ok = api.post("/v1/canvases/cvs_A/export", {"format": "pdf", "callback_url": receiver.url})
        bad = api.post("/v1/canvases/cvs_hookmock:fail/export", {"callback_url": receiver.url})
        api.advance(10)
        status = api.get(f"/v1/canvases/cvs_A/export-status?task_id={ok['id']}")
        assert status["status"] == "succeeded" and status["result"]["format"] == "pdf"
        assert api.call("GET", f"/v1/canvases/cvs_B/export-status?task_id={ok['id']}")[0] == 404
        types = sorted(json.loads(r.body)["type"] for r in receiver.requests)
        assert types == ["export.failed", "export.succeeded"]
        assert api.get(f"/v1/tasks/{bad['id']}")["status"] == "failed"


def test_remix_and_task_list_cursors():
    with stack("ok") as (_emu, api, _receiver):
        ids = [api.post("/v1/remix", {"source_canvas_id": f"cvs_{i}"})["id"] for i in range(5)]
        page1 = api.get("/v1/tasks?limit=2")
        page2 = api.get(f"/v1/tasks?limit=2&cursor={page1['next_cursor']}")
        page3 = api.get(f"/v1/tasks?limit=2&cursor={page2['next_cursor']}")
        seen = [t["id"] for p in (page1, page2, page3) for t in p["data"]]
        assert seen == ids[::-1] and page3["next_cursor"] is None


def test_http_callback_needs_the_option_and_targets_are_loopback_only():
    with running() as (_emu, api):
        status, body, _ = api.call(
            "POST", "/v1/tasks", {"prompt": "x", "callback_url": "http://127.0.0.1:9/h"}
        )
        assert status == 400 and "--allow-http-callbacks" in body["error"]["message"]
        status, body, _ = api.call("POST", "/v1/tasks", {"prompt": "x", "callback_url": "https://10.1.2.3/h"})
        assert status == 400 and "--allow-target" in body["error"]["message"]
    with running(allow_http_callbacks=True) as (_emu, api):
        status, _, _ = api.call("POST", "/v1/tasks", {"prompt": "x", "callback_url": "http://127.0.0.1:9/h"})
        assert status == 202


def test_responses_carry_version_and_request_id():
    with running() as (_emu, api):
        status, _, headers = api.call("GET", "/v1/tasks", headers={"Moda-Version": "2026-04-12"})
        assert status == 200 and headers["Moda-Version"] == "2026-04-12"
        assert headers["X-Request-ID"].startswith("req_")
        _, _, headers = api.call("GET", "/v1/tasks")
        assert headers["Moda-Version"] == API_VERSION


def test_modio_webhook_test_button_history_and_retry():
    token = get_profile("modio").generate_secret()
    receiver = FakeReceiver("modio", token)
    receiver.script("500,ok")
    receiver.start()
    try:
        with running() as (emu, api):
            game = api.put("/_hookmock/modio/games/my-game/webhook", {"url": receiver.url, "token": token})
            assert "token" not in game
            status, entry, _ = api.call(
                "POST", "/_hookmock/modio/games/my-game/events", {"event_name": "ADD_MOD_COMMENT"}
            )
            assert status == 202
            api.advance(1)
            history = api.get("/_hookmock/modio/history")["data"]
            assert [(h["name"], h["http_status"], h["attempts"]) for h in history] == [
                ("ADD_MOD_COMMENT", 500, 1)
            ]
            validate(history[0], "modio-history-entry")
            retried = api.post(f"/_hookmock/modio/history/{entry['id']}/retry")
            api.advance(1)
            again = api.get(f"/_hookmock/modio/history/{retried['id']}")
            assert (again["http_status"], again["attempts"]) == (200, 2)
            api.post("/_hookmock/modio/games/my-game/test")
            api.advance(1)
            ping = json.loads(receiver.requests[-1].body)
            assert ping["event"] == "PING"
            validate(ping, "modio-ping")
            assert all(r.verdict.ok for r in receiver.requests)
            assert len({json.loads(r.body)["event_uuid"] for r in receiver.requests[:2]}) == 1
            page = api.call("GET", "/_hookmock/ui")[1]
            assert token not in page and emu.signing_secret not in page
    finally:
        receiver.stop()


def test_trigger_any_moda_event_and_drills():
    with stack("ok") as (_emu, api, receiver):
        row = api.post(
            "/_hookmock/moda/events",
            {
                "event_type": "task.failed",
                "callback_url": receiver.url,
                "overrides": {"data": {"error": {"retryable": True}}},
            },
        )
        api.advance(1)
        assert json.loads(receiver.requests[0].body)["data"]["error"]["retryable"] is True
        n = len(receiver.requests)
        api.post("/_hookmock/drills", {"mode": "duplicate", "delivery_id": row["id"]})
        api.post("/_hookmock/drills", {"mode": "concurrent", "delivery_id": row["id"], "copies": 4})
        stale = api.post("/_hookmock/drills", {"mode": "stale", "delivery_id": row["id"]})["sent"]
        bad = api.post("/_hookmock/drills", {"mode": "bad_signature", "delivery_id": row["id"]})["sent"]
        extra = receiver.requests[n:]
        assert len(extra) == 2 + 4 + 1 + 1
        assert all(r.verdict.ok for r in extra[:6])
        assert extra[6].verdict.reason == "timestamp_too_old" and stale[0]["status_code"] == 200
        assert extra[7].verdict.reason == "bad_signature" and bad[0]["outcome"] == "response"


def test_reset_forgets_everything():
    with stack("ok") as (_emu, api, receiver):
        _task(api, receiver)
        api.advance(5)
        assert api.get("/v1/webhook_deliveries")["data"]
        api.post("/_hookmock/reset")
        assert api.get("/v1/webhook_deliveries")["data"] == []
        assert api.get("/v1/tasks")["data"] == []


def test_health_ready_and_real_clock_refuses_advance():
    with running(clock="real") as (_emu, api):
        assert api.get("/_hookmock/health") == {"status": "ok"}
        assert api.get("/_hookmock/ready")["ready"] is True
        status, body, _ = api.call("POST", "/_hookmock/clock/advance", {"seconds": 1})
        assert status == 409 and "--clock virtual" in body["error"]["message"]
