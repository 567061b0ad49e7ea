from __future__ import annotations

import copy
import json
import random
import re
import textwrap
from pathlib import Path

import pytest

import hookmock
import hookmock.profiles as profiles_pkg
from hookmock.clock import SECOND, format_iso
from hookmock.errors import (
    BadSignature,
    BadToken,
    MalformedHeader,
    MissingHeader,
    TimestampTooNew,
    TimestampTooOld,
    UnknownEventType,
    UnknownProfile,
    UsageError,
)
from hookmock.profiles import EventSpec, Profile, Verdict
from hookmock.profiles.moda import build_task, event_for_task
from hookmock.validation import violations

SRC = Path(hookmock.__file__).parent
NOW = 1_765_432_109
RESULT_KEYS = {
    "design": {"canvas_id", "canvas_url", "conversation_id"},
    "remix": {"canvas_id", "canvas_url", "source_canvas_id"},
    "export": {"export_url", "format", "expires_at"},
    "brand_kit_extract": {"brand_kit_id"},
}


def test_registry_finds_builtin_profiles():
    assert {"moda", "modio"} <= set(hookmock.available_profiles())
    moda = hookmock.get_profile("moda")
    assert hookmock.get_profile(moda) is moda
    with pytest.raises(UnknownProfile, match=r"choose one of: .*moda.*modio"):
        hookmock.get_profile("stripe")


def test_moda_rules():
    moda = hookmock.get_profile("moda")
    assert moda.deadline_ns == 30 * SECOND
    assert moda.retry_delays_ns == (1 * SECOND, 5 * SECOND, 30 * SECOND)
    assert moda.max_attempts == 4
    assert moda.manual_retry == "new_delivery"
    assert [s for s in (199, 200, 204, 299, 300, 301, 302, 304, 400, 500) if moda.is_success(s)] == [
        200,
        204,
        299,
    ]


def test_modio_rules():
    modio = hookmock.get_profile("modio")
    assert modio.deadline_ns == 5 * SECOND
    assert modio.retry_delays_ns == ()
    assert modio.max_attempts == 1
    assert modio.manual_retry == "same_entry"
    assert modio.is_success(200) and modio.is_success(299) and not modio.is_success(302)


def test_a_third_provider_is_one_new_module(tmp_path, monkeypatch):
    module = tmp_path / "acme.py"
    module.write_text(
        textwrap.dedent(
            """
        from hookmock.profiles.modio import ModioProfile

        class AcmeProfile(ModioProfile):
            name = "acme"
            title = "Acme"

        PROFILE = AcmeProfile()
        """
        )
    )
    monkeypatch.setattr(profiles_pkg, "__path__", [*profiles_pkg.__path__, str(tmp_path)])
    assert "acme" in hookmock.available_profiles()
    assert hookmock.get_profile("acme").title == "Acme"
    profiles_pkg._registry.pop("acme", None)


def test_a_profile_whose_sign_predates_message_id_still_sends_and_verifies():
    """A third-party profile written against the older ``sign(body, secret, timestamp)`` (no
    ``message_id`` keyword) keeps working: the engine's message id is dropped for it."""
    from hookmock.profiles.moda import ModaProfile, sign_request

    class OldStyle(ModaProfile):
        name = "old-style"

        def sign(self, body, secret, timestamp):  # type: ignore[override]
            return sign_request(body, secret, timestamp)

    old = OldStyle()
    body = b'{"id":"evt_1"}'
    headers = old.sign(body, "whsec_x", 1_700_000_000, message_id="msg_ignored")
    assert headers == sign_request(body, "whsec_x", 1_700_000_000)
    sent = hookmock.sign(old, body, "whsec_x", timestamp=1_700_000_000)
    hookmock.verify(old, sent, body, "whsec_x", now=1_700_000_000)  # raises if not authentic


def _sources_outside(folder: str) -> list[Path]:
    return [p for p in SRC.rglob("*.py") if folder not in p.relative_to(SRC).parts]


def test_no_provider_header_names_outside_profiles():
    pattern = re.compile(r"X-Webhook-|X-Modio-|Moda-Version", re.IGNORECASE)
    offenders = [str(p) for p in _sources_outside("profiles") if pattern.search(p.read_text())]
    assert offenders == []


def test_only_the_clock_reads_system_time():
    pattern = re.compile(
        r"\btime\.(time|time_ns|monotonic|monotonic_ns|perf_counter)\(|datetime\.(now|utcnow)\("
    )
    offenders = [str(p) for p in SRC.rglob("*.py") if p.name != "clock.py" and pattern.search(p.read_text())]
    assert offenders == []


@pytest.mark.parametrize("name", ["moda", "modio"])
def test_serialize_sends_utf8_not_ascii_escapes(name: str) -> None:
    """Providers send non-ASCII text as UTF-8 bytes; an escaped body would sign other bytes."""
    body = hookmock.get_profile(name).serialize({"title": "ünïcødé ☃ 🚀", "n": 1})
    assert body == '{"title":"ünïcødé ☃ 🚀","n":1}'.encode()


def test_delivery_headers_floor_a_float_clock_and_sign_that_second() -> None:
    from hookmock.profiles.moda import TIMESTAMP_HEADER

    moda, secret, body = hookmock.get_profile("moda"), "whsec_floor", b'{"id":"evt_1"}'
    headers = moda.delivery_headers(body, secret, 1_700_000_000.9)
    assert headers[TIMESTAMP_HEADER] == "1700000000"
    assert headers["Content-Type"] == "application/json" and headers["User-Agent"].startswith("hookmock/")
    assert moda.verify(headers, body, secret, now=1_700_000_000) == 1_700_000_000


def test_check_uses_the_tolerance_given_and_reads_the_timestamp_back() -> None:
    moda, secret, body = hookmock.get_profile("moda"), "whsec_tol", b"{}"
    headers = moda.sign(body, secret, 1_700_000_000)
    assert moda.check(headers, body, secret, now=1_700_000_020, tolerance=10).fresh is False
    passed = moda.check(headers, body, secret, now=1_700_000_020, tolerance=30)
    assert passed.ok is True and passed.timestamp == 1_700_000_000


# -- what every profile declares about its payloads ------------------------------------------------


def _payloads(name: str):
    factory = hookmock.EventFactory(name, seed=5)
    return [(event_type, factory.event(event_type)) for event_type in factory.event_types]


@pytest.mark.parametrize("name", ["moda", "modio"])
def test_each_payload_names_its_schema_id_and_event_type(name: str) -> None:
    profile = hookmock.get_profile(name)
    for event_type, payload in _payloads(name):
        schema = profile.schema_for(payload)
        assert schema in profile.schemas and violations(payload, schema) == []
        assert profile.event_type_of(payload) == event_type
        key = "id" if name == "moda" else "event_uuid"
        assert profile.event_id(payload) == payload[key]
    expected = {"moda": ["moda-envelope"] * 5, "modio": ["modio-event"] * 13 + ["modio-ping"]}[name]
    assert [profile.schema_for(p) for _, p in _payloads(name)] == expected


@pytest.mark.parametrize("name", ["moda", "modio"])
def test_ids_and_event_types_are_none_unless_the_payload_holds_a_string(name: str) -> None:
    profile = hookmock.get_profile(name)
    for junk in (
        None,
        [],
        "evt_1",
        7,
        {},
        {"id": 7, "type": 7, "event_uuid": 7, "event_name": 7, "event": 7},
    ):
        assert profile.event_id(junk) is None and profile.event_type_of(junk) is None  # type: ignore[arg-type]


def test_modio_event_name_wins_over_event_and_ping_is_read_from_event() -> None:
    modio = hookmock.get_profile("modio")
    assert modio.event_type_of({"event": "PING"}) == "PING"
    assert modio.event_type_of({"event_name": "ADD_MOD", "event": "PING"}) == "ADD_MOD"
    assert modio.schema_for({"event_name": "ADD_MOD", "event": "PING"}) == "modio-event"
    assert modio.schema_for({"event": "PING"}) == "modio-ping"
    assert modio.schema_for([]) == "modio-event"  # type: ignore[arg-type]
    assert hookmock.get_profile("moda").schema_for({}) == "moda-envelope"


def _at(payload, path):
    for key in path:
        payload = payload[key]
    return payload


def _with(payload, path, value):
    doc = copy.deepcopy(payload)
    node = _at(doc, path[:-1])
    if value is _GONE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


_GONE = object()


@pytest.mark.parametrize("name", ["moda", "modio"])
def test_optional_fields_are_those_the_schema_lets_go_and_null_exactly_where_legal(name: str) -> None:
    """Each declared optional field exists in a full payload, may be absent, and may be null exactly
    when the profile says so: checked against the schema, so the declaration cannot drift from it."""
    profile, seen = hookmock.get_profile(name), set()
    for _, payload in _payloads(name):
        schema = profile.schema_for(payload)
        for path, null_ok in profile.optional_fields(payload).items():
            seen.add(path)
            _at(payload, path)  # present in a full payload
            assert violations(_with(payload, path, _GONE), schema) == [], path
            assert (violations(_with(payload, path, None), schema) == []) is null_ok, (path, payload)
    declared = {
        "moda": {
            ("data", f) for f in ("progress", "result", "error", "credits", "started_at", "completed_at")
        }
        | {("data", "retry_after_ms"), ("data", "links", "canvas")},
        "modio": {("request_secondary_resource",)},
    }
    assert seen == declared[name]
    assert profile.optional_fields({"event": "PING"}) == (
        {} if name == "modio" else profile.optional_fields({})
    )
    if name == "moda":  # no Task: nothing says it failed, so its error may be null
        assert profile.optional_fields({"data": "junk"})[("data", "error")] is True


def test_moda_catalogue_names_every_event_and_rejects_others_naming_the_set() -> None:
    moda = hookmock.get_profile("moda")
    assert moda.event_types == (
        "task.succeeded",
        "task.failed",
        "task.canceled",
        "export.succeeded",
        "export.failed",
    )
    assert moda.event_spec("export.failed").extra == {"status": "failed"}
    with pytest.raises(UnknownEventType) as info:
        moda.event_spec("task.running")
    assert str(info.value) == (
        "'task.running' is not a Moda event; Moda's set is closed: "
        "task.succeeded, task.failed, task.canceled, export.succeeded, export.failed"
    )
    with pytest.raises(
        UnknownEventType, match=r"catalogue \(ADD_MOD_COMMENT, EDIT_MOD_COMMENT, .*, PING\); add it"
    ):
        hookmock.get_profile("modio").event_spec("NOPE")
    with pytest.raises(UnknownEventType, match=r"add it with hookmock\.profiles\.modio\.register_event\(\)$"):
        hookmock.get_profile("modio").event_spec("NOPE")


def test_which_task_status_fires_which_moda_event() -> None:
    """Terminal statuses fire their event (an export has no canceled event); the others fire nothing."""
    firing = ("succeeded", "failed", "canceled")
    fired = {
        (kind, status): event_for_task(kind, status)
        for kind in ("design", "remix", "brand_kit_extract", "export")
        for status in ("queued", "running", "succeeded", "failed", "canceled", "expired")
    }
    assert {k: v for k, v in fired.items() if v is not None} == {
        **{(k, s): f"task.{s}" for k in ("design", "remix", "brand_kit_extract") for s in firing},
        ("export", "succeeded"): "export.succeeded",
        ("export", "failed"): "export.failed",
    }  # fmt: skip


def test_moda_tasks_of_every_status_keep_their_promises() -> None:
    """build_task serves every status the API shows (the emulator's GET /tasks), not only terminal ones."""
    from faker import Faker

    rng, fake = random.Random(3), Faker()
    fake.seed_instance(3)
    for status in ("queued", "running", "expired"):
        tasks = [build_task(kind="design", status=status, fake=fake, rng=rng, now_s=NOW) for _ in range(300)]
        for task in tasks:
            assert violations(task, "moda-task") == []
            assert (task["started_at"] is None) is (status == "queued")
            assert task["completed_at"] == (format_iso(NOW * SECOND) if status == "expired" else None)
            assert task["result"] is None and task["error"] is None and task["credits"] is None
        retry_after = {t["retry_after_ms"] for t in tasks}
        assert retry_after == ({None} if status == "expired" else {None, 1000, 2000})
        progress = [t["progress"] for t in tasks]
        if status == "running":
            assert all(
                p["step"] == "rendering" and 1 <= p["percent"] <= 99 and p["message"] for p in progress
            )
        else:
            assert progress == [None] * 300
    fixed = build_task(
        kind="remix", status="failed", fake=fake, rng=rng, now_s=NOW, task_id="task_" + "0" * 26
    )
    assert fixed["id"] == "task_" + "0" * 26 and fixed["links"]["self"] == "/v1/tasks/task_" + "0" * 26
    with pytest.raises(
        UsageError,
        match=r"^unknown Moda task kind 'video'; choose one of design, export, remix, brand_kit_extract$",
    ):
        build_task(kind="video", status="failed", fake=fake, rng=rng, now_s=NOW)
    with pytest.raises(
        UsageError,
        match=r"^unknown Moda task status 'done'; choose one of queued, running, succeeded, failed, "
        r"canceled, expired$",
    ):
        build_task(kind="design", status="done", fake=fake, rng=rng, now_s=NOW)


def test_an_unknown_kind_override_keeps_a_real_task_under_the_given_kind() -> None:
    factory = hookmock.EventFactory("moda", seed=2)
    kinds = set()
    for _ in range(20):
        task = factory.event("task.succeeded", data__kind="painting")["data"]
        assert task["kind"] == "painting"
        kinds.add(next(k for k, keys in RESULT_KEYS.items() if set(task["result"]) == keys))
    assert kinds == {"design", "remix", "brand_kit_extract"}  # built as a real task kind, then overridden
    export = factory.event("export.succeeded", data__kind=7)["data"]
    assert export["kind"] == 7 and set(export["result"]) == RESULT_KEYS["export"]
    retried = factory.event("task.failed", data__error__retryable="no")["data"]["error"]
    assert retried["retryable"] == "no"  # applied as given, not used to build the error


# -- secrets, headers and verdicts ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "pattern"), [("moda", r"whsec_[A-Za-z0-9]{32}"), ("modio", r"[A-Za-z0-9]{40}")]
)
def test_secrets_have_the_provider_format_and_follow_the_seed(name: str, pattern: str) -> None:
    profile = hookmock.get_profile(name)
    secrets = [profile.generate_secret(random.Random(seed)) for seed in (1, 1, 2)]
    assert all(re.fullmatch(pattern, s) for s in secrets)
    assert secrets[0] == secrets[1] != secrets[2]
    assert profile.generate_secret() != profile.generate_secret()


def test_moda_signs_a_timestamp_text_verbatim() -> None:
    from hookmock.profiles.moda import SIGNATURE_HEADER, TIMESTAMP_HEADER, compute_signature

    moda, body = hookmock.get_profile("moda"), b'{"a":1}'
    for text in ("1700000000", " 17e8", "soon"):
        headers = moda.sign_timestamp_text(body, "whsec_t", text)
        assert headers == {
            TIMESTAMP_HEADER: text,
            SIGNATURE_HEADER: "v1=" + compute_signature(body, "whsec_t", text),
        }
    assert (
        moda.verify(
            moda.sign_timestamp_text(body, "whsec_t", "1700000000"), body, "whsec_t", now=1_700_000_000
        )
        == 1_700_000_000
    )
    assert hookmock.get_profile("modio").sign_timestamp_text(body, "tok", "1700000000") is None
    assert hookmock.get_profile("modio").sign(body, "tok", 5) == {"X-Modio-Webhook-Token": "tok"}


def test_moda_signature_header_entries() -> None:
    """Entries of other schemes are skipped, not the end of the list; a v1 value is everything after
    the first '='."""
    from hookmock.profiles.moda import SIGNATURE_HEADER, TIMESTAMP_HEADER

    moda, body, secret, ts = hookmock.get_profile("moda"), b"{}", "whsec_e", 1_700_000_000
    good = moda.sign(body, secret, ts)
    with_others = {**good, SIGNATURE_HEADER: "v0=zz, nonsense, " + good[SIGNATURE_HEADER]}
    assert moda.verify(with_others, body, secret, now=ts) == ts
    with pytest.raises(MalformedHeader, match="must be 64 lower-case hex digits, got 65 characters"):
        moda.verify({**good, SIGNATURE_HEADER: good[SIGNATURE_HEADER] + "="}, body, secret, now=ts)
    with pytest.raises(MalformedHeader, match=r"^the X-Webhook-Timestamp header '1{40}…' is not a unix time"):
        moda.verify({**good, TIMESTAMP_HEADER: "1" * 41}, body, secret, now=ts)
    with pytest.raises(MalformedHeader, match=r"^the X-Webhook-Timestamp header 'x{40}' is not a unix time"):
        moda.verify({**good, TIMESTAMP_HEADER: "x" * 40}, body, secret, now=ts)


def test_moda_verification_messages_say_what_to_check() -> None:
    moda, body, secret, ts = hookmock.get_profile("moda"), b"{}", "whsec_m", 1_700_000_000
    good = moda.sign(body, secret, ts)
    with pytest.raises(BadSignature) as bad:
        moda.verify(good, body + b" ", secret, now=ts)
    assert str(bad.value) == (
        "the v1 signature does not match HMAC-SHA256 of '{timestamp}.{raw body}' with this secret; "
        "check that the raw request bytes (not re-serialized JSON) and the right secret are used"
    )
    with pytest.raises(
        UsageError, match=r"^the signing secret is empty; pass the whsec_… secret your Moda account shows$"
    ):
        moda.verify(good, body, "", now=ts)
    with pytest.raises(
        TimestampTooOld,
        match=r"^timestamp 1700000000 is 301 s old; at most 300 s is accepted \(a replay\?\)$",
    ):
        moda.verify(good, body, secret, now=ts + 301)
    with pytest.raises(TimestampTooNew, match=r"^timestamp 1700000000 is 301 s in the future; at most 300 s"):
        moda.verify(good, body, secret, now=ts - 301)


def test_modio_token_check_messages_and_undecodable_header_bytes() -> None:
    modio = hookmock.get_profile("modio")
    with pytest.raises(
        UsageError,
        match=r"^the webhook token is empty; pass the token shown in your game's webhook settings$",
    ):
        modio.verify({"X-Modio-Webhook-Token": "x"}, b"", "", now=0)
    with pytest.raises(
        BadToken,
        match=r"^the X-Modio-Webhook-Token header does not equal the configured webhook token "
        r"\(exact match\)$",
    ):
        modio.verify({"X-Modio-Webhook-Token": "x"}, b"", "y", now=0)
    with pytest.raises(MissingHeader, match=r"^the X-Modio-Webhook-Token header is missing; mod.io sends"):
        modio.verify({}, b"", "y", now=0)
    # a server that decoded raw header bytes with surrogateescape: a wrong token, not a crash
    with pytest.raises(BadToken):
        modio.verify({"X-Modio-Webhook-Token": "tok\udcff"}, b"", "tok", now=0)
    assert modio.verify({"X-Modio-Webhook-Token": "tok"}, b"", "tok", now=0) is None


def test_a_profile_without_timestamps_reports_a_forged_token_as_not_authentic() -> None:
    verdict = hookmock.get_profile("modio").check({"X-Modio-Webhook-Token": "x"}, b"", "y", now=0)
    assert (verdict.ok, verdict.authentic, verdict.fresh, verdict.timestamp) == (False, False, None, None)
    assert isinstance(verdict.error, BadToken) and verdict.reason == "bad_token"
    assert verdict.describe() == f"bad_token: {verdict.error}"
    good = hookmock.get_profile("modio").check({"X-Modio-Webhook-Token": "y"}, b"", "y", now=0)
    assert (good.reason, good.describe()) == ("ok", "valid")


def test_redaction_keeps_the_public_prefix_and_a_cut_tail_needs_cut() -> None:
    moda, secret = hookmock.get_profile("moda"), "whsec_abcdefghijklmnopqrstuvwxyz123456"
    assert moda.redact(f"key {secret} end", secret) == "key whsec_…redacted end"
    tail = f"cut here {secret[:11]}"
    assert (
        moda.redact(tail, secret) == tail
        and moda.redact(tail, secret, cut=True) == "cut here whsec_…redacted"
    )
    assert moda.redact("nothing to hide", "") == "nothing to hide"
    assert moda.redactor(secret) is moda.redactor(secret)


def test_body_variants_put_added_values_in_the_free_form_object() -> None:
    """Variants that add a value add it where the provider allows any key (Moda data.input, mod.io
    event_body), so they stay schema-valid; mod.io's PING has no such object: whole-body variants only."""
    for name, slot in (("moda", ("data", "input")), ("modio", ("event_body",))):
        profile = hookmock.get_profile(name)
        for _, payload in _payloads(name):
            variants = profile.body_variants(payload)
            if "event" in payload:
                assert set(variants) == {"escaped_slash", "pretty_trailing_newline"}
                assert all(json.loads(v) == payload for v in variants.values())
                continue
            assert len(variants) == 12
            probe = _at(json.loads(variants["key_order"]), slot)["hookmock_probe"]
            assert probe == {"b": 1, "a": 2}
            assert all(
                violations(json.loads(v), profile.schema_for(payload)) == [] for v in variants.values()
            )


def test_a_new_profile_gets_the_defaults_of_the_base_class() -> None:
    class Bare(Profile):
        name, title, secret_name = "bare", "Bare", "key"
        deadline_ns, retry_delays_ns, manual_retry, has_timestamp = 2 * SECOND, (SECOND,), "same_entry", False
        schemas = ()
        event_types = ("ping",)

        def event_spec(self, event_type):
            return EventSpec(event_type, "")

        def build_payload(self, event_type, *, fake, rng, now_s, overrides):
            return {"ping": now_s}

        def event_id(self, payload):
            return None

        def event_type_of(self, payload):
            return "ping"

        def schema_for(self, payload):
            return ""

        def sign(self, body, secret, timestamp):
            return {"X-Key": f"{secret}:{timestamp}"}

        def verify(self, headers, body, secret, *, now, tolerance=300):
            if headers.get("X-Key", "").split(":")[0] != secret:
                raise BadToken("no")
            return None

        def generate_secret(self, rng=None):
            return "k"

    bare = Bare()
    assert (repr(bare), bare.max_attempts, bare.deadline_s) == ("<Profile bare>", 2, 2.0)
    assert bare.optional_fields({"ping": 1}) == {} and bare.sign_timestamp_text(b"", "k", "1") is None
    assert bare.delivery_headers(b"", "k", 17)["X-Key"] == "k:17"
    variants = bare.body_variants({"ping": 1})
    assert json.loads(variants["key_order"]) == {"ping": 1, "hookmock_probe": {"b": 1, "a": 2}}  # top level
    verdict = bare.check({}, b"", "k", now=0)
    assert (verdict.ok, verdict.authentic, verdict.fresh, verdict.error.reason) == (
        False,
        False,
        None,
        "bad_token",
    )
    assert bare.check({"X-Key": "k:0"}, b"", "k", now=0) == Verdict(ok=True, authentic=True, fresh=None)


# -- the registry -----------------------------------------------------------------------------------


def test_registry_lists_only_public_modules_and_caches_each_profile(monkeypatch) -> None:
    assert not [n for n in hookmock.available_profiles() if n.startswith("_")]
    monkeypatch.delitem(profiles_pkg._registry, "modio", raising=False)
    first = hookmock.get_profile("modio")
    assert isinstance(first, Profile) and hookmock.get_profile("modio") is first
    with pytest.raises(UnknownProfile):
        hookmock.get_profile("_base")
    with pytest.raises(UnknownProfile):
        hookmock.get_profile("moda.x")


def test_registered_and_entry_point_profiles(monkeypatch) -> None:
    import importlib.metadata

    from hookmock.profiles.modio import ModioProfile

    class Other(ModioProfile):
        name, title = "other", "Other"

    class EntryPoint:
        def __init__(self, name, profile):
            self.name, self.loads, self._profile = name, 0, profile

        def load(self):
            self.loads += 1
            return self._profile

    plugged = Other()
    points = [EntryPoint("decoy", Other()), EntryPoint("plugged", plugged)]

    def entry_points(*, group):
        return points if group == "hookmock.profiles" else []

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    monkeypatch.setattr(profiles_pkg, "_registry", dict(profiles_pkg._registry))
    assert "plugged" in hookmock.available_profiles() and "decoy" in hookmock.available_profiles()
    assert hookmock.get_profile("plugged") is plugged and hookmock.get_profile("plugged") is plugged
    assert [p.loads for p in points] == [0, 1]  # loaded once, by its own name
    every = ", ".join(sorted({*profiles_pkg.builtin_profiles(), "decoy", "plugged"}))
    with pytest.raises(UnknownProfile, match=rf"^unknown profile 'nope'; choose one of: {re.escape(every)}$"):
        hookmock.get_profile("nope")
    mine = Other()
    profiles_pkg.register_profile(mine)
    assert hookmock.get_profile("other") is mine and "other" in hookmock.available_profiles()
