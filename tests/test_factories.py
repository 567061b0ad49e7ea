from __future__ import annotations

import json
import re
import uuid

import pytest

import hookmock
from hookmock import ABSENT, EventFactory
from hookmock.errors import UnknownEventType, UsageError
from hookmock.ids import is_crockford_id
from hookmock.validation import violations

AGREES = {
    "task.succeeded": ("succeeded", {"design", "remix", "brand_kit_extract"}),
    "task.failed": ("failed", {"design", "remix", "brand_kit_extract"}),
    "task.canceled": ("canceled", {"design", "remix", "brand_kit_extract"}),
    "export.succeeded": ("succeeded", {"export"}),
    "export.failed": ("failed", {"export"}),
}
RESULT_KEYS = {
    "design": {"canvas_id", "canvas_url", "conversation_id"},
    "remix": {"canvas_id", "canvas_url", "source_canvas_id"},
    "export": {"export_url", "format", "expires_at"},
    "brand_kit_extract": {"brand_kit_id"},
}


def test_moda_catalogue_is_the_closed_set():
    assert set(hookmock.get_profile("moda").event_types) == set(AGREES)


@pytest.mark.parametrize("seed", range(25))
def test_every_moda_event_is_valid_and_consistent(seed: int):
    factory = EventFactory("moda", seed=seed)
    for event in factory.every_event():
        assert violations(event, "moda-envelope") == []
        task = event["data"]
        status, kinds = AGREES[event["type"]]
        assert task["status"] == status
        assert task["kind"] in kinds
        assert is_crockford_id(event["id"], "evt")
        assert is_crockford_id(task["id"], "task")
        assert event["api_version"] == "2026-05-01"
        assert event["created"].endswith("+00:00")
        if status == "succeeded":
            assert set(task["result"]) == RESULT_KEYS[task["kind"]] and task["error"] is None
        elif status == "failed":
            assert task["result"] is None and isinstance(task["error"]["retryable"], bool)
        else:
            assert task["result"] is None and task["error"] is None
        assert task["retry_after_ms"] is None


@pytest.mark.parametrize("seed", range(10))
def test_every_modio_event_is_valid(seed: int):
    factory = EventFactory("modio", seed=seed)
    names = []
    for event in factory.every_event():
        assert violations(event) == [], event
        assert uuid.UUID(event["event_uuid"]).version == 4
        names.append(event.get("event_name", event.get("event")))
        if "event_name" in event:
            assert event["request_resource"]["resource_url"].startswith("https://mod.io/")
            assert isinstance(event["request_resource"]["resource_id"], int)
    assert "PING" in names and "ADD_MOD_COMMENT" in names


def test_child_resources_have_a_secondary_resource_top_level_ones_none():
    factory = EventFactory("modio", seed=3)
    comment = factory.event("ADD_MOD_COMMENT")
    assert comment["request_secondary_resource"]["resource_type"] == "mod"
    assert comment["request_resource"]["resource_url"].startswith(
        comment["request_secondary_resource"]["resource_url"]
    )
    assert factory.event("ADD_MOD")["request_secondary_resource"] is None


def test_ping_payload_shape():
    ping = EventFactory("modio", seed=1).event("PING")
    assert set(ping) == {"event", "event_timestamp", "event_uuid", "message"}
    assert ping["message"] == "If you received this then everything looks good!"


def test_deterministic_under_a_seed():
    a = [EventFactory("moda", seed=99).event() for _ in range(3)]
    b = [EventFactory("moda", seed=99).event() for _ in range(3)]
    assert a == b
    assert EventFactory("moda", seed=1).event("task.succeeded") != EventFactory("moda", seed=2).event(
        "task.succeeded"
    )
    assert EventFactory("modio", seed=5).body("ADD_MOD") == EventFactory("modio", seed=5).body("ADD_MOD")


def test_overrides_top_level_nested_and_absent():
    factory = EventFactory("moda", seed=1)
    event = factory.event("task.failed", id="evt_01HZX3V9K7QW8E2R5T6Y4U1I0P", data__error__retryable=False)
    assert event["id"] == "evt_01HZX3V9K7QW8E2R5T6Y4U1I0P"
    assert event["data"]["error"]["retryable"] is False
    remix = factory.event("task.succeeded", data__kind="remix")
    assert set(remix["data"]["result"]) == RESULT_KEYS["remix"]
    trimmed = factory.event("task.succeeded", data__progress=ABSENT, data__credits=None)
    assert "progress" not in trimmed["data"] and trimmed["data"]["credits"] is None
    assert violations(trimmed) == []
    comment = EventFactory("modio", seed=1).event(
        "ADD_MOD_COMMENT", event_body={"content": "I am a bad apple!"}
    )
    assert comment["event_body"] == {"content": "I am a bad apple!"}


def test_unknown_event_names_are_clear_errors():
    with pytest.raises(UnknownEventType, match="closed"):
        EventFactory("moda").event("task.running")
    with pytest.raises(UnknownEventType, match="register_event"):
        EventFactory("modio").event("DELETE_EVERYTHING")


def test_users_can_register_modio_event_names():
    from hookmock.profiles import modio

    modio.register_event("ADD_MOD_RATING", resource_type="mod", description="a rating")
    event = EventFactory("modio", seed=1).event("ADD_MOD_RATING")
    assert event["event_name"] == "ADD_MOD_RATING" and violations(event) == []
    assert "ADD_MOD_RATING" in hookmock.get_profile("modio").event_types
    with pytest.raises(UsageError):
        modio.register_event("not-a-name")


def test_body_is_compact_utf8_json():
    body = EventFactory("moda", seed=4).body("task.succeeded")
    assert json.loads(body)["type"] == "task.succeeded"
    assert b", " not in body and b": " not in body


def test_ids_formats():
    event = EventFactory("moda", seed=11).event("export.succeeded")
    assert re.fullmatch(r"evt_[0-9A-HJKMNP-TV-Z]{26}", event["id"])
    assert re.fullmatch(r"task_[0-9A-HJKMNP-TV-Z]{26}", event["data"]["id"])
