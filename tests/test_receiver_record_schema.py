"""The record checks a body against its schema on first read, not while answering the request."""

from __future__ import annotations

import json

from hookmock import VirtualClock
from hookmock.factories import EventFactory
from hookmock.profiles import get_profile
from hookmock.receiver.record import Record


def _record() -> tuple[Record, EventFactory]:
    profile = get_profile("moda")
    return Record(profile, "whsec_test", VirtualClock()), EventFactory(profile, seed=3)


def test_violations_are_found_on_first_read() -> None:
    record, events = _record()
    payload = events.event("task.failed")
    payload["data"]["status"] = "succeeded"  # contradicts the event type
    del payload["created"]
    item = record.receive("POST", "/h", (), json.dumps(payload).encode(), 0)
    assert item._violations is None  # nothing checked while the request was being answered
    assert not item.schema_valid
    assert any("created" in v for v in item.violations)
    assert any("status" in v for v in item.violations)
    assert item.violations is item.violations  # checked once
    assert "schema INVALID" in record.timeline()
    assert item.to_json()["violations"] == list(item.violations)


def test_valid_body_and_non_json_body() -> None:
    record, events = _record()
    good = record.receive("POST", "/h", (), events.body("export.succeeded"), 0)
    assert good.schema_valid and good.violations == ()
    array = record.receive("POST", "/h", (), b"[1, 2]", 0)
    assert array.schema is None and array.violations == () and not array.schema_valid
    assert array.json_error is not None
