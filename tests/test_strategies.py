from __future__ import annotations

import json

import pytest
from hypothesis import Phase, find, given, settings

from hookmock import EventFactory
from hookmock import strategies as hs
from hookmock.profiles import get_profile
from hookmock.validation import violations


@given(hs.envelopes())
def test_envelopes_are_schema_valid(envelope):
    assert violations(envelope, "moda-envelope") == []


@given(hs.modio_events())
def test_modio_payloads_are_schema_valid(payload):
    assert violations(payload) == []


@given(hs.bodies("moda"))
def test_hostile_moda_bodies_are_valid_json_and_schema_valid(body):
    assert violations(json.loads(body), "moda-envelope") == []


@given(hs.bodies("modio"))
def test_hostile_modio_bodies_are_schema_valid(body):
    assert violations(json.loads(body)) == []


@given(hs.signed_requests("moda", now=1_700_000_000, skew=240))
def test_signed_moda_requests_verify(req):
    get_profile("moda").verify(req.headers, req.body, req.secret, now=1_700_000_000)
    assert violations(json.loads(req.body)) == []


@given(hs.signed_requests("modio", secret="tok"))
def test_signed_modio_requests_carry_the_token(req):
    get_profile("modio").verify(req.headers, req.body, "tok", now=0)


_MISSING = object()


def _at(payload, path):
    node = payload
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return _MISSING
        node = node[key]
    return node


def _optional_cases():
    """One case per (profile, optional field, form): the first event type where that form is legal."""
    seen = set()
    for name in ("moda", "modio"):
        profile = get_profile(name)
        for event_type in profile.event_types:
            sample = EventFactory(name, seed=1).event(event_type)
            for path, null_ok in profile.optional_fields(sample).items():
                if _at(sample, path[:-1]) is _MISSING:
                    continue
                for form in ("absent", "null") if null_ok else ("absent",):
                    if (name, path, form) not in seen:
                        seen.add((name, path, form))
                        yield pytest.param(name, event_type, path, form, id=f"{name}-{'.'.join(path)}-{form}")


@pytest.mark.parametrize(("profile", "event_type", "path", "form"), list(_optional_cases()))
def test_optional_fields_are_sometimes_null_or_absent(profile, event_type, path, form):
    """Each optional field of each event type is drawn null (where legal) and absent, and stays valid."""

    def wanted(payload):
        value = _at(payload, path)
        return value is _MISSING if form == "absent" else value is None and value is not _MISSING

    example = find(
        hs.payloads(profile, event_types=[event_type]),
        wanted,
        settings=settings(max_examples=300, database=None, phases=[Phase.generate]),
    )
    assert wanted(example)
    assert violations(example) == []


@settings(max_examples=50)
@given(hs.payloads("moda", optional=False))
def test_optional_false_keeps_every_optional_field(payload):
    for path in get_profile("moda").optional_fields(payload):
        assert _at(payload, path) is not _MISSING or _at(payload, path[:-1]) is _MISSING, path


def test_every_hostile_variant_is_present_and_distinct():
    from hookmock import EventFactory

    profile = get_profile("moda")
    payload = EventFactory("moda", seed=1).event("task.succeeded")
    variants = profile.body_variants(payload)
    expected = {
        "escaped_slash",
        "pretty_trailing_newline",
        "uppercase_unicode_escape",
        "decimal_trailing_zero",
        "exponent",
        "negative_zero",
        "key_order",
        "big_int",
        "non_ascii",
        "emoji",
        "line_separators",
        "escaped_non_ascii",
    }
    assert set(variants) == expected
    assert len(set(variants.values())) == len(variants)  # distinct from one another
    canonical = profile.serialize(payload)
    for name, body in variants.items():
        assert body != canonical, name
        # the usual re-serializations (Python's defaults, compact ASCII) do not reproduce the variant
        value = json.loads(body)
        assert json.dumps(value).encode() != body, name
        assert violations(json.loads(body)) == [], name
    assert b"\\/" in variants["escaped_slash"]
    assert b"\\u001B" in variants["uppercase_unicode_escape"]
    assert variants["pretty_trailing_newline"].endswith(b"}\n")
    assert b'{"b":1,"a":2}' in variants["key_order"]
    assert "\u2028".encode() in variants["line_separators"]
    assert "🚀".encode() in variants["emoji"]


def test_strategies_cover_every_event_type():
    from hypothesis import find

    for name in get_profile("moda").event_types:
        find(hs.envelopes(), lambda e, n=name: e["type"] == n)
    modio, seen = get_profile("modio"), set()

    @settings(max_examples=150, derandomize=True, database=None)
    @given(hs.modio_events())
    def record(event: dict) -> None:
        seen.add(modio.event_type_of(event))

    record()
    assert seen == set(modio.event_types)  # every mod.io event, not only PING
