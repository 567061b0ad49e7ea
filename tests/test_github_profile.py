"""The GitHub profile: its facts (from GitHub's webhook documentation), its signature against
GitHub's published test vector and an independent computation (openssl), its payloads against
its schemas, and the sender's rules (10 s, no automatic retry, redelivery under the same GUID)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import hookmock
import hookmock.strategies as hs
from hookmock import EventFactory, Sender, VirtualClock
from hookmock._util.headers import get_header
from hookmock.clock import SECOND
from hookmock.errors import BadSignature, MalformedHeader, MissingHeader, UnknownEventType
from hookmock.profiles import get_profile
from hookmock.profiles.github import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    HOOK_ID_HEADER,
    LEGACY_SIGNATURE_HEADER,
    SIGNATURE_HEADER,
    GitHubProfile,
    verify_request,
)
from hookmock.receiver.server import FakeReceiver
from hookmock.validation import violations
from openssl_support import openssl_hmac

SRC = Path(hookmock.__file__).parent
GITHUB = get_profile("github")

# "Validating webhook deliveries" > "Testing the webhook payload validation"
# (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries)
DOC_SECRET = "It's a Secret to Everybody"
DOC_PAYLOAD = b"Hello, World!"
DOC_SIGNATURE = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


# -- signature ---------------------------------------------------------------------------------
def test_githubs_published_test_vector() -> None:
    headers = GITHUB.sign(DOC_PAYLOAD, DOC_SECRET, 0)
    assert headers[SIGNATURE_HEADER] == f"sha256={DOC_SIGNATURE}"
    verify_request(headers, DOC_PAYLOAD, DOC_SECRET)
    hookmock.verify("github", {SIGNATURE_HEADER: f"sha256={DOC_SIGNATURE}"}, DOC_PAYLOAD, DOC_SECRET)


@pytest.mark.parametrize("seed", range(4))
def test_both_signatures_agree_with_openssl(seed: int) -> None:
    body = EventFactory("github", seed=seed).body(GITHUB.event_types[seed % 4])
    secret = GITHUB.generate_secret()
    headers = GITHUB.sign(body, secret, 0)
    assert headers[SIGNATURE_HEADER] == "sha256=" + openssl_hmac("sha256", secret, body)
    assert headers[LEGACY_SIGNATURE_HEADER] == "sha1=" + openssl_hmac("sha1", secret, body)
    assert openssl_hmac("sha256", DOC_SECRET, DOC_PAYLOAD) == DOC_SIGNATURE


def test_the_legacy_sha1_header_can_be_dropped_as_a_named_deviation() -> None:
    unfaithful = GitHubProfile(legacy_sha1=False)
    assert LEGACY_SIGNATURE_HEADER not in unfaithful.sign(b"{}", "s", 0)
    assert LEGACY_SIGNATURE_HEADER in GITHUB.sign(b"{}", "s", 0)


def test_verification_refuses_what_github_never_sends() -> None:
    body, secret = b'{"zen":"Design for failure."}', "s3cret"
    good = GITHUB.sign(body, secret, 0)
    with pytest.raises(MissingHeader, match=r"only the legacy SHA-1 X-Hub-Signature"):
        verify_request({LEGACY_SIGNATURE_HEADER: good[LEGACY_SIGNATURE_HEADER]}, body, secret)
    with pytest.raises(MissingHeader, match="X-Hub-Signature-256 header is missing"):
        verify_request({}, body, secret)
    digest = good[SIGNATURE_HEADER].split("=", 1)[1]
    for bad in (digest, f"sha1={digest}", f"sha256={digest.upper()}", f"sha256={digest[:-1]}"):
        with pytest.raises(MalformedHeader):
            verify_request({SIGNATURE_HEADER: bad}, body, secret)
    with pytest.raises(BadSignature, match="raw request bytes"):
        verify_request(good, body + b" ", secret)
    with pytest.raises(BadSignature):
        verify_request(good, body, "another secret")
    verdict = hookmock.check("github", good, body, secret)
    assert verdict.ok and verdict.fresh is None and verdict.timestamp is None
    # header names are case-insensitive
    verify_request({k.lower(): v for k, v in good.items()}, body, secret)


# -- headers -------------------------------------------------------------------------------------
def test_a_delivery_carries_every_documented_header() -> None:
    factory = EventFactory("github", seed=3)
    ping = factory.event("ping")
    body = GITHUB.serialize(ping)
    headers = GITHUB.delivery_headers(body, "s", 1_700_000_000, message_id=GITHUB.new_message_id())
    assert headers["User-Agent"].startswith("GitHub-Hookshot/")
    assert headers["Content-Type"] == "application/json"
    assert headers[EVENT_HEADER] == "ping"
    assert GUID.match(headers[DELIVERY_HEADER])
    assert headers[HOOK_ID_HEADER] == str(ping["hook_id"]) == str(ping["hook"]["id"])
    assert headers["X-GitHub-Hook-Installation-Target-Type"] == "repository"
    assert headers["X-GitHub-Hook-Installation-Target-ID"] == str(ping["repository"]["id"])
    assert set(GITHUB.auth_header_names()) == {SIGNATURE_HEADER, LEGACY_SIGNATURE_HEADER}
    assert not any("timestamp" in name.lower() for name in headers)


def test_the_event_header_names_each_catalogue_event() -> None:
    factory = EventFactory("github", seed=5)
    for event_type in GITHUB.event_types:
        body = factory.body(event_type)
        assert GITHUB.delivery_headers(body, "s", 0)[EVENT_HEADER] == event_type
        assert hookmock.sign("github", b"{}", "s", event_type=event_type)[EVENT_HEADER] == event_type


def test_a_body_of_no_known_shape_is_still_sent_with_every_header() -> None:
    for body in (b"not json", b"[" * 100_000, b"{}", "\u00e9".encode("latin-1")):
        headers = GITHUB.delivery_headers(body, "s", 0)
        assert headers[EVENT_HEADER] == "ping" and GUID.match(headers[DELIVERY_HEADER])
        verify_request(headers, body, "s")


# -- catalogue and payloads --------------------------------------------------------------------
def test_rules_from_the_documentation() -> None:
    assert GITHUB.deadline_ns == 10 * SECOND
    assert GITHUB.retry_delays_ns == () and GITHUB.max_attempts == 1
    assert GITHUB.manual_retry == "new_delivery"
    assert GITHUB.has_timestamp is False
    assert GITHUB.event_types == ("push", "pull_request", "issues", "ping")
    with pytest.raises(UnknownEventType, match="GitHub catalogue"):
        GITHUB.event_spec("workflow_run")


@pytest.mark.parametrize("seed", range(12))
def test_every_event_is_schema_valid_and_names_itself(seed: int) -> None:
    factory = EventFactory("github", seed=seed)
    for event_type in GITHUB.event_types:
        payload = factory.event(event_type)
        assert GITHUB.event_type_of(payload) == event_type
        assert GITHUB.event_id(payload) is None  # the id travels in X-GitHub-Delivery
        assert violations(payload, GITHUB.schema_for(payload)) == []
        for name, body in GITHUB.body_variants(payload).items():
            assert violations(json.loads(body), GITHUB.schema_for(payload)) == [], name


def test_payload_details_match_githubs_examples() -> None:
    factory = EventFactory("github", seed=9)
    push = factory.event("push")
    # push is the one event whose repository times are unix seconds
    assert isinstance(push["repository"]["created_at"], int)
    assert isinstance(push["repository"]["pushed_at"], int)
    assert push["after"] == push["head_commit"]["id"] == push["commits"][-1]["id"]
    assert push["ref"].startswith("refs/heads/")
    issue = factory.event("issues", action="closed")
    assert issue["action"] == "closed" and issue["issue"]["state"] == "closed"
    assert isinstance(issue["repository"]["created_at"], str)
    pull = factory.event("pull_request", action="opened")
    assert pull["number"] == pull["pull_request"]["number"]
    assert pull["pull_request"]["merged"] is False
    # GitHub's legacy node ids: base64 of "0<len>:<Type><id>" (as on octocat/Hello-World)
    assert push["repository"]["node_id"] == "MDEwOlJlcG9zaXRvcnkxMjk2MjY5"
    ping = factory.event("ping")
    assert ping["hook"]["events"] and ping["zen"]
    # every schema rejects a payload without what GitHub always sends
    for payload in (push, issue, pull, ping):
        broken = {k: v for k, v in payload.items() if k != "sender"}
        assert violations(broken, GITHUB.schema_for(payload)) != []


# -- the sender's rules ------------------------------------------------------------------------
def test_no_automatic_retry_and_a_redelivery_keeps_the_delivery_guid() -> None:
    clock = VirtualClock()
    secret = GITHUB.generate_secret()
    with FakeReceiver("github", secret, clock=clock) as receiver:
        receiver.script("500,ok")
        sender = Sender("github", secret, clock=clock)
        failed = sender.send(receiver.url, "push")
        assert failed.status == "failed" and len(failed.attempts) == 1
        again = sender.redeliver(failed.id)
        assert again.id != failed.id and again.status == "succeeded"
        assert again.event_id == failed.event_id and GUID.match(again.event_id)
        first, second = receiver.requests
        guids = [get_header(r.headers, DELIVERY_HEADER) for r in receiver.requests]
        assert guids == [failed.event_id, failed.event_id]
        assert first.body == second.body
        assert first.event_id == second.event_id == failed.event_id
        assert first.event_type == "push" and all(r.verdict.ok for r in receiver.requests)
        other = sender.send(receiver.url, "push")
        assert other.event_id != failed.event_id


def test_the_deadline_is_ten_seconds() -> None:
    clock = VirtualClock()
    secret = GITHUB.generate_secret()
    with FakeReceiver("github", secret, clock=clock) as receiver:
        receiver.script("timeout")
        start = clock.now_ns()
        delivery = Sender("github", secret, clock=clock).send(receiver.url, "ping")
        assert delivery.status == "failed" and [a.outcome for a in delivery.attempts] == ["timeout"]
        assert clock.now_ns() - start == 10 * SECOND


def test_a_sender_names_the_event_it_was_asked_for() -> None:
    seen: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append({k: v for k, v in environ.items() if k.startswith("HTTP_")})
        start_response("204 No Content", [])
        return [b""]

    sender = Sender("github", clock=VirtualClock())
    custom = {"action": "created", "sender": {"login": "octocat"}}  # shaped like no catalogue event
    delivery = sender.send(app, "star", payload=custom)
    assert delivery.status == "succeeded"
    assert seen[0]["HTTP_X_GITHUB_EVENT"] == "star"
    assert seen[0]["HTTP_X_GITHUB_DELIVERY"] == delivery.event_id


def test_no_github_fact_outside_the_profile_modules() -> None:
    pattern = re.compile(r"X-Hub-Signature|X-GitHub-|GitHub-Hookshot|sha256=", re.IGNORECASE)
    offenders = [
        str(p)
        for p in SRC.rglob("*.py")
        if "profiles" not in p.relative_to(SRC).parts and pattern.search(p.read_text())
    ]
    assert offenders == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=hs.signed_requests("github", secret="s3cret"), secret=hs.secrets("github"))
def test_property_signed_requests_verify_and_name_their_event(request: Any, secret: str) -> None:
    hookmock.verify("github", request.headers, request.body, "s3cret")
    assert request.headers[EVENT_HEADER] == GITHUB.event_type_of(request.payload)
    assert violations(request.payload, GITHUB.schema_for(request.payload)) == []
    body = request.body
    assert hookmock.check("github", GITHUB.sign(body, secret, 0), body, secret).ok
