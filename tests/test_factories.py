from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest

import hookmock
from hookmock import ABSENT, EventFactory
from hookmock.clock import VirtualClock
from hookmock.errors import UnknownEventType, UsageError
from hookmock.ids import CROCKFORD, is_crockford_id
from hookmock.profiles import moda as moda_profile
from hookmock.profiles.moda import API_VERSION
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
    children = {
        "ADD_MOD_COMMENT",
        "EDIT_MOD_COMMENT",
        "ADD_MODFILE",
        "ADD_GUIDE_COMMENT",
        "EDIT_GUIDE_COMMENT",
    }
    for event_type in factory.event_types:
        if event_type == "PING":
            continue
        event = factory.event(event_type)
        parent = event["request_secondary_resource"]
        if event_type in children:
            assert event["request_resource"]["resource_url"].startswith(parent["resource_url"]), event_type
        else:
            assert parent is None, event_type
    comment = factory.event("ADD_MOD_COMMENT")
    assert comment["request_secondary_resource"]["resource_type"] == "mod"


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
    """The bytes sent are compact JSON (no blanks between tokens) with non-ASCII text as UTF-8, not
    \\u escapes: what json.dumps(..., ensure_ascii=False, separators=(",", ":")) gives."""
    factory = EventFactory("moda", seed=4)
    body = factory.body("task.succeeded", data__input={"prompt": "Café ☃ 🚀, «poster»: now"})
    value = json.loads(body)
    assert value["type"] == "task.succeeded"
    assert body == json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert "Café ☃ 🚀, «poster»: now".encode() in body and b"\\u" not in body
    assert b'"input":{"prompt":' in body


def test_ids_formats():
    event = EventFactory("moda", seed=11).event("export.succeeded")
    assert re.fullmatch(r"evt_[0-9A-HJKMNP-TV-Z]{26}", event["id"])
    assert re.fullmatch(r"task_[0-9A-HJKMNP-TV-Z]{26}", event["data"]["id"])


# -- Moda payloads: what each field promises ---------------------------------------------------------

NOW = 1_765_432_109  # an odd "now", so a time derived from anything else shows
TASK_FIELDS = {
    "id", "kind", "status", "created_at", "started_at", "completed_at", "progress", "attempt",
    "max_attempts", "input", "result", "error", "credits", "links", "retry_after_ms",
}  # fmt: skip


def _at_now(profile: str, seed: int = 0) -> EventFactory:
    return EventFactory(profile, seed=seed, clock=VirtualClock(start=NOW))


def _id_time_ms(value: str) -> int:
    """The time part of a ULID-like Moda id: its first 10 Crockford digits, in ms."""
    n = 0
    for digit in value.split("_", 1)[1][:10]:
        n = n * 32 + CROCKFORD.index(digit)
    return n


def _unix(iso: str) -> int:
    moment = datetime.fromisoformat(iso)
    assert moment.utcoffset() == timedelta(0), iso
    return int(moment.timestamp())


def _moda_sample(event_type: str, n: int = 120, **overrides) -> list[dict]:
    factory = _at_now("moda", seed=n)
    return [factory.event(event_type, **overrides) for _ in range(n)]


@pytest.mark.parametrize("event_type", sorted(AGREES))
def test_moda_envelope_is_the_documented_one_made_now(event_type: str) -> None:
    """id, type, created (now, ISO 8601 +00:00), api_version and the Task: nothing else."""
    event = _at_now("moda").event(event_type)
    assert set(event) == {"id", "type", "created", "api_version", "data"}
    assert event["type"] == event_type and event["api_version"] == API_VERSION == "2026-05-01"
    assert event["created"] == "2025-12-11T05:48:29+00:00" and _unix(event["created"]) == NOW
    assert _id_time_ms(event["id"]) == NOW * 1000  # ULID-like: the id sorts by when it was made
    assert set(event["data"]) == TASK_FIELDS


@pytest.mark.parametrize("event_type", sorted(AGREES))
def test_moda_task_times_are_ordered_and_it_completes_when_the_event_fires(event_type: str) -> None:
    for event in _moda_sample(event_type, 40):
        task = event["data"]
        created, started, completed = (_unix(task[k]) for k in ("created_at", "started_at", "completed_at"))
        assert completed == NOW  # every webhook is for a terminal status: it completed just now
        assert created < NOW and created <= started <= created + 10
        assert _id_time_ms(task["id"]) == created * 1000


def test_moda_progress_attempts_credits_and_retry_after_agree_with_the_status() -> None:
    for event_type in AGREES:
        for event in _moda_sample(event_type, 30):
            task = event["data"]
            status = task["status"]
            assert task["max_attempts"] == 3 and task["retry_after_ms"] is None  # null once terminal
            if status == "succeeded":
                assert task["progress"] == {"percent": 100, "step": "done", "message": "Completed"}
                assert task["attempt"] == 1
                credits = task["credits"]
                assert set(credits) == {"credits_used", "credits_remaining"}
                assert credits["credits_used"] >= 1 and credits["credits_remaining"] >= 0
            elif status == "failed":
                progress = task["progress"]
                assert progress["step"] == "rendering" and progress["message"] == "Failed"
                assert 0 <= progress["percent"] < 100  # it did not finish
                assert 1 <= task["attempt"] <= task["max_attempts"] and task["credits"] is None
            else:
                assert task["progress"] is None and task["attempt"] == 1 and task["credits"] is None


def test_moda_failed_attempts_and_progress_cover_their_whole_range() -> None:
    """A receiver sees a failure on any attempt up to max_attempts, at any progress short of 100."""
    tasks = [e["data"] for e in _moda_sample("task.failed", 300)]
    assert {t["attempt"] for t in tasks} == {1, 2, 3}
    percents = {t["progress"]["percent"] for t in tasks}
    assert min(percents) == 0 and max(percents) == 99


def test_moda_failure_messages_agree_with_retryable_and_both_kinds_occur() -> None:
    """retryable tells a transient failure from a dead-lettered one; the message says the same."""
    errors = [e["data"]["error"] for e in _moda_sample("export.failed", 80)]
    transient = dict(moda_profile._FAIL_MESSAGES)
    for error in errors:
        assert set(error) == {"message", "retryable"}
        assert error["retryable"] is transient[error["message"]]
    assert {e["retryable"] for e in errors} == {True, False}
    assert {e["message"] for e in errors} == set(transient)
    for forced in (True, False):  # overridden, the message is one of that kind too
        overridden = [
            e["data"]["error"] for e in _moda_sample("task.failed", 20, data__error__retryable=forced)
        ]
        assert {e["retryable"] for e in overridden} == {forced}
        assert {transient[e["message"]] for e in overridden} == {forced}
        nested = _at_now("moda").event("task.failed", data__error={"retryable": forced})["data"]["error"]
        assert nested == {"retryable": forced}  # a dict replaces the whole error, as given


@pytest.mark.parametrize("event_type", ["task.succeeded", "task.failed", "task.canceled"])
def test_moda_task_events_come_from_every_task_kind(event_type: str) -> None:
    assert {e["data"]["kind"] for e in _moda_sample(event_type, 40)} == {
        "design",
        "remix",
        "brand_kit_extract",
    }


def _only(kind: str, event_type: str = "task.succeeded", n: int = 15) -> list[dict]:
    return [e["data"] for e in _moda_sample(event_type, n, data__kind=kind)]


def test_moda_design_and_remix_results_name_a_canvas_made_now() -> None:
    for kind in ("design", "remix"):
        for task in _only(kind):
            result, canvas = task["result"], task["result"]["canvas_id"]
            assert is_crockford_id(canvas, "cvs") and _id_time_ms(canvas) == NOW * 1000
            url = urlsplit(result["canvas_url"])
            assert (url.scheme, url.netloc, url.path) == ("https", "moda.app", f"/canvas/{canvas}")
            assert task["links"]["canvas"] == f"/v1/canvases/{canvas}"
    for task in _only("design"):
        conversation = task["result"]["conversation_id"]
        assert is_crockford_id(conversation, "conv") and _id_time_ms(conversation) == NOW * 1000
        assert set(task["input"]) == {"prompt", "format"} and task["input"]["prompt"]
        assert task["input"]["format"] in ("instagram_post", "poster", "slide")


def test_moda_remix_result_is_a_remix_of_the_input_canvas() -> None:
    for task in _only("remix"):
        source = task["input"]["source_canvas_id"]
        assert set(task["input"]) == {"source_canvas_id", "prompt"} and task["input"]["prompt"]
        assert task["result"]["source_canvas_id"] == source and is_crockford_id(source, "cvs")
        assert _id_time_ms(source) < _unix(task["created_at"]) * 1000  # the source existed before
        assert source != task["result"]["canvas_id"]


def test_moda_export_result_is_the_requested_format_and_expires_a_day_after_completion() -> None:
    tasks = [e["data"] for e in _moda_sample("export.succeeded", 60)]
    assert {t["result"]["format"] for t in tasks} == set(moda_profile._EXPORT_FORMATS)
    for task in tasks:
        result, requested = task["result"], task["input"]
        assert set(requested) == {"canvas_id", "format"} and is_crockford_id(requested["canvas_id"], "cvs")
        assert result["format"] == requested["format"]
        assert _id_time_ms(requested["canvas_id"]) < _unix(task["created_at"]) * 1000  # an existing canvas
        assert result["export_url"] == f"https://exports.moda.app/{task['id']}.{result['format']}"
        assert _unix(result["expires_at"]) == _unix(task["completed_at"]) + 86400
        assert task["links"]["canvas"] is None  # an export's result names no canvas


def test_moda_brand_kit_result_and_input() -> None:
    for task in _only("brand_kit_extract"):
        assert set(task["result"]) == {"brand_kit_id"}
        assert is_crockford_id(task["result"]["brand_kit_id"], "bk")
        assert _id_time_ms(task["result"]["brand_kit_id"]) == NOW * 1000
        assert set(task["input"]) == {"url"} and urlsplit(task["input"]["url"]).scheme in ("http", "https")


def test_moda_links_are_the_task_endpoints() -> None:
    for event_type in AGREES:
        task = _at_now("moda").event(event_type)["data"]
        links = task["links"]
        assert set(links) == {"self", "events", "cancel", "canvas"}
        assert links["self"] == f"/v1/tasks/{task['id']}"
        assert links["events"] == f"/v1/tasks/{task['id']}/events"
        assert links["cancel"] == f"/v1/tasks/{task['id']}/cancel"
        if task["result"] is None:
            assert links["canvas"] is None


# -- mod.io payloads ---------------------------------------------------------------------------------

#: event -> (request_method, resource type, parent type or None, event_body keys): the published
#: ADD_MOD_COMMENT example, and the rule actions as docs/providers.md settles them
MODIO_SHAPES = {
    "ADD_MOD_COMMENT": ("POST", "comment", "mod", {"content"}),
    "EDIT_MOD_COMMENT": ("PUT", "comment", "mod", {"content"}),
    "ADD_MOD": ("POST", "mod", None, {"name", "summary"}),
    "EDIT_MOD": ("POST", "mod", None, {"name", "summary"}),
    "ADD_MOD_MEDIA": ("POST", "mod", None, {"images"}),
    "ADD_MOD_TAGS": ("POST", "mod", None, {"tags"}),
    "ADD_MOD_KVP_METADATA": ("POST", "mod", None, {"metadata_kvp"}),
    "ADD_MOD_DEPENDENCIES": ("POST", "mod", None, {"dependencies"}),
    "ADD_MODFILE": ("POST", "modfile", "mod", {"version", "filename", "changelog"}),
    "ADD_GUIDE": ("POST", "guide", None, {"name", "summary"}),
    "EDIT_GUIDE": ("POST", "guide", None, {"name", "summary"}),
    "ADD_GUIDE_COMMENT": ("POST", "comment", "guide", {"content"}),
    "EDIT_GUIDE_COMMENT": ("PUT", "comment", "guide", {"content"}),
}
MODIO_KEYS = {
    "event_name", "event_timestamp", "event_uuid", "request_method", "request_resource",
    "request_secondary_resource", "request_user", "event_body",
}  # fmt: skip
SLUG = r"[a-z]+-[a-z]+"


def _modio_sample(event_type: str, n: int = 40, **overrides) -> list[dict]:
    factory = _at_now("modio", seed=n)
    return [factory.event(event_type, **overrides) for _ in range(n)]


def test_modio_catalogue_is_the_published_event_the_inferred_ones_and_ping() -> None:
    modio = hookmock.get_profile("modio")
    assert modio.event_types == (*MODIO_SHAPES, "PING")
    for name in MODIO_SHAPES:
        spec = modio.event_spec(name)
        assert spec.name == name and spec.inferred is (name != "ADD_MOD_COMMENT")
        assert ("inferred from the Rules Engine actions" in spec.description) is spec.inferred
    assert modio.event_spec("EDIT_GUIDE").description.startswith("edit guide ")
    assert modio.event_spec("PING").inferred is False


@pytest.mark.parametrize("event_type", sorted(MODIO_SHAPES))
def test_modio_event_has_the_documented_shape_for_its_resource(event_type: str) -> None:
    method, kind, parent_kind, body_keys = MODIO_SHAPES[event_type]
    uuids = set()
    for event in _modio_sample(event_type, 12):
        assert set(event) == MODIO_KEYS and event["event_name"] == event_type
        assert event["event_timestamp"] == NOW and event["request_method"] == method
        assert uuid.UUID(event["event_uuid"]).version == 4
        uuids.add(event["event_uuid"])
        resource, parent = event["request_resource"], event["request_secondary_resource"]
        assert set(resource) == {"resource_type", "resource_id", "resource_url"}
        assert resource["resource_type"] == kind and resource["resource_id"] >= 1
        if parent_kind is None:
            assert parent is None
        else:
            assert parent["resource_type"] == parent_kind and parent["resource_id"] >= 1
            section = "m" if parent_kind == "mod" else "r"
            assert re.fullmatch(rf"https://mod\.io/g/{SLUG}/{section}/{SLUG}", parent["resource_url"])
        rid = resource["resource_id"]
        if kind == "comment":  # as in the published example: the parent's page, anchored at the comment
            assert resource["resource_url"] == f"{parent['resource_url']}#{rid}"
        elif kind == "modfile":
            assert resource["resource_url"] == f"{parent['resource_url']}/files/{rid}"
        else:
            section = "m" if kind == "mod" else "r"
            assert re.fullmatch(rf"https://mod\.io/g/{SLUG}/{section}/{SLUG}", resource["resource_url"])
        user = event["request_user"]
        assert set(user) == {"user_id", "username", "profile_url"} and user["user_id"] >= 1
        assert user["profile_url"] == f"https://mod.io/u/{user['username'].lower()}"  # Admin -> /u/admin
        assert set(event["event_body"]) == body_keys
    assert len(uuids) == 12  # every event is a new one


def test_modio_event_bodies_hold_what_their_action_made() -> None:
    def bodies(event_type: str, n: int = 40) -> list[dict]:
        return [e["event_body"] for e in _modio_sample(event_type, n)]

    for event_type in ("ADD_MOD_COMMENT", "EDIT_GUIDE_COMMENT"):
        assert all(isinstance(b["content"], str) and b["content"] for b in bodies(event_type))
    for event_type in ("ADD_MOD", "EDIT_GUIDE"):
        assert all(b["name"] and b["summary"] for b in bodies(event_type))
    images = [b["images"] for b in bodies("ADD_MOD_MEDIA")]
    assert {len(i) for i in images} == {1, 2, 3}
    assert all(re.fullmatch(r"\w+\.png", name) for i in images for name in i)
    for tags in (b["tags"] for b in bodies("ADD_MOD_TAGS")):
        assert 1 <= len(tags) <= 4 and tags == sorted(set(tags))
        assert all(tag[:1].isupper() and tag == tag.capitalize() for tag in tags)
    assert {1, 4} <= {len(b["tags"]) for b in bodies("ADD_MOD_TAGS", 80)}  # one tag happens too
    for body in bodies("ADD_MOD_KVP_METADATA"):
        (pair,) = body["metadata_kvp"]
        assert set(pair) == {"metakey", "metavalue"} and pair["metakey"] and pair["metavalue"]
    dependencies = [b["dependencies"] for b in bodies("ADD_MOD_DEPENDENCIES")]
    assert {len(d) for d in dependencies} == {1, 2, 3}
    assert all(isinstance(m, int) and m >= 1 for d in dependencies for m in d)  # mod ids
    for body in bodies("ADD_MODFILE"):
        assert re.fullmatch(r"\d+\.\d+\.\d+", body["version"]) and re.fullmatch(r"\w+\.zip", body["filename"])
        assert isinstance(body["changelog"], str) and body["changelog"]


def test_modio_ping_is_the_test_button_payload_sent_now() -> None:
    ping = _at_now("modio").event("PING")
    assert ping["event"] == "PING" and ping["event_timestamp"] == NOW
    assert uuid.UUID(ping["event_uuid"]).version == 4
    overridden = _at_now("modio").event("PING", message="hello", event_timestamp=ABSENT)
    assert overridden["message"] == "hello" and "event_timestamp" not in overridden


def test_registered_modio_events_follow_their_declared_resources() -> None:
    from hookmock.profiles import modio

    modio.register_event("ADD_MOD_RATING", resource_type="rating", secondary_type="mod")
    modio.register_event("ADD_GAME_NOTE", resource_type="note", description="a note on the game")
    profile = hookmock.get_profile("modio")
    assert profile.event_spec("ADD_MOD_RATING").description == "ADD_MOD_RATING (registered by the user)"
    assert profile.event_spec("ADD_GAME_NOTE").description == "a note on the game"
    assert profile.event_spec("ADD_GAME_NOTE").inferred is True
    rating, note = _at_now("modio").event("ADD_MOD_RATING"), _at_now("modio").event("ADD_GAME_NOTE")
    assert rating["request_method"] == "POST" and rating["event_body"] == {}
    parent, resource = rating["request_secondary_resource"], rating["request_resource"]
    assert parent["resource_type"] == "mod" and resource["resource_type"] == "rating"
    game = parent["resource_url"].split("/")[4]  # one game: the parent's and the resource's
    assert resource["resource_url"] == f"https://mod.io/g/{game}/rating/{resource['resource_id']}"
    assert note["request_secondary_resource"] is None
    assert re.fullmatch(rf"https://mod\.io/g/{SLUG}/note/{note['request_resource']['resource_id']}",
                        note["request_resource"]["resource_url"])  # fmt: skip
    with pytest.raises(UsageError, match="upper-case words joined by '_'; 'Add_Rating' is not"):
        modio.register_event("Add_Rating")
    with pytest.raises(UsageError, match=r"^PING is the test button's payload and is built in$"):
        modio.register_event("PING")


def test_every_event_of_every_kind_is_reproducible_under_a_seed() -> None:
    """With a seed the same calls give the same payloads, ids included: every id and uuid comes from
    the factory's seeded generator, never the system's."""
    calls = [("moda", t, {}) for t in AGREES]
    calls += [("moda", "task.succeeded", {"data__kind": k}) for k in ("design", "remix", "brand_kit_extract")]
    calls += [("modio", t, {}) for t in (*MODIO_SHAPES, "PING")]
    for profile, event_type, overrides in calls:
        first, again, other = (_at_now(profile, seed).event(event_type, **overrides) for seed in (7, 7, 8))
        assert first == again, (event_type, overrides)
        assert first != other, (event_type, overrides)


def test_registered_modio_event_defaults() -> None:
    from hookmock.profiles import modio

    modio.register_event("ADD_MOD_RATING")
    spec = hookmock.get_profile("modio").event_spec("ADD_MOD_RATING")
    assert (spec.name, spec.description, spec.inferred) == (
        "ADD_MOD_RATING",
        "ADD_MOD_RATING (registered by the user)",
        True,
    )
    event = _at_now("modio").event("ADD_MOD_RATING")
    assert event["request_resource"]["resource_type"] == "mod" and event["request_secondary_resource"] is None
    assert re.fullmatch(rf"https://mod\.io/g/{SLUG}/m/{SLUG}", event["request_resource"]["resource_url"])
