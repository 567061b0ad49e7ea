from __future__ import annotations

import json

from hypothesis import given, settings

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


@settings(max_examples=200)
@given(hs.payloads("moda"))
def test_optional_fields_are_sometimes_null_or_absent(envelope):
    # exercised for coverage of the branches below; the assertion is schema validity
    assert violations(envelope) == []


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
    find(hs.modio_events(), lambda e: e.get("event") == "PING")
