"""Unit tests of the GitHub profile and its two audit checks: every message a refused request gets,
the delivery headers' exact names and values, the legacy SHA-1 header against ``openssl``, the GUID
shape, what the profile reads from a payload, and the ``delivery-replay`` and ``sha1-legacy``
probes one by one.  Fast (no audit run, no sockets); the end-to-end audits are in
``test_github_audit.py``."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from hookmock import EventFactory
from hookmock.errors import BadSignature, MalformedHeader, MissingHeader, UnknownEventType, UsageError
from hookmock.profiles import get_profile
from hookmock.profiles._github_audit import CHECKS
from hookmock.profiles.github import (
    GitHubProfile,
    Hook,
    compute_sha1_signature,
    event_name_of,
    new_delivery_guid,
    sign_request,
    verify_request,
)
from openssl_support import openssl_hmac

GITHUB = get_profile("github")
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
BODY = b'{"zen":"Design for failure.","hook_id":1}'
SECRET = "It's a Secret to Everybody"
AFTER_PREFIX = "the X-Hub-Signature-256 value after 'sha256=' must be 64 lower-case hex digits"


# -- signatures ------------------------------------------------------------------------------------
def test_the_legacy_sha1_header_is_hmac_sha1_of_the_raw_body_as_openssl_computes_it() -> None:
    body = "héllo, wörld".encode()
    assert compute_sha1_signature(body, "s3cr€t") == openssl_hmac("sha1", "s3cr€t", body)
    headers = sign_request(body, "s3cr€t")
    assert headers == {
        "X-Hub-Signature-256": "sha256=" + openssl_hmac("sha256", "s3cr€t", body),
        "X-Hub-Signature": "sha1=" + openssl_hmac("sha1", "s3cr€t", body),
    }
    assert sign_request(body, "s3cr€t", legacy_sha1=False) == {
        "X-Hub-Signature-256": headers["X-Hub-Signature-256"]
    }
    assert GitHubProfile(legacy_sha1=False).sign(body, "s3cr€t", 0) == sign_request(
        body, "s3cr€t", legacy_sha1=False
    )
    assert GITHUB.sign(body, "s3cr€t", 0) == headers


def _signed(**changes: str | None) -> dict[str, str]:
    headers = sign_request(BODY, SECRET)
    for name, value in changes.items():
        name = name.replace("_", "-")
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    return headers


@pytest.mark.parametrize(
    ("headers", "error", "message"),
    [
        (
            {"x-hub-signature": "sha1=" + "0" * 40},
            MissingHeader,
            "only the legacy SHA-1 X-Hub-Signature header is present; GitHub sends X-Hub-Signature-256 "
            "with every signed delivery, and SHA-1 alone is not accepted",
        ),
        ({}, MissingHeader, "the X-Hub-Signature-256 header is missing; GitHub sends 'sha256=<hex>' there"),
        (
            {"X-Hub-Signature-256": "sha1=" + "0" * 64},
            MalformedHeader,
            "the X-Hub-Signature-256 header must start with 'sha256='",
        ),
        (
            {"X-Hub-Signature-256": "0" * 64},
            MalformedHeader,
            "the X-Hub-Signature-256 header must start with 'sha256='",
        ),
        (
            {"X-Hub-Signature-256": "sha256=" + "A" * 64},
            MalformedHeader,
            f"{AFTER_PREFIX}, got 64 characters",
        ),
        (
            {"X-Hub-Signature-256": "sha256=" + "a" * 63},
            MalformedHeader,
            f"{AFTER_PREFIX}, got 63 characters",
        ),
        (
            {"X-Hub-Signature-256": "sha256=" + "a" * 64 + "="},
            MalformedHeader,
            f"{AFTER_PREFIX}, got 65 characters",
        ),
        (
            {"X-Hub-Signature-256": "sha256=" + "a" * 64},
            BadSignature,
            "the sha256 signature does not match HMAC-SHA256 of the raw body with this secret; check that "
            "the raw request bytes (not re-serialized JSON) and the right secret are used",
        ),
    ],
)
def test_a_refused_request_is_told_why(headers: dict[str, str], error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        verify_request(headers, BODY, SECRET)
    assert str(caught.value) == message


def test_verification_needs_a_secret_and_reads_headers_in_any_case() -> None:
    with pytest.raises(UsageError) as caught:
        verify_request(sign_request(BODY, SECRET), BODY, "")
    assert str(caught.value) == "the webhook secret is empty; pass the secret set in the webhook's settings"
    lower = {k.lower(): v for k, v in sign_request(BODY, SECRET).items()}
    verify_request(lower, BODY, SECRET)
    assert GITHUB.verify(lower, BODY, SECRET, now=0) is None  # no timestamp to return


# -- delivery headers ------------------------------------------------------------------------------
def test_a_delivery_carries_githubs_headers_exactly() -> None:
    guid = new_delivery_guid(random.Random(1))
    headers = GITHUB.delivery_headers(BODY, SECRET, 1_700_000_000, message_id=guid)
    assert headers == {
        "User-Agent": "GitHub-Hookshot/044aadd",
        "Content-Type": "application/json",
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": guid,
        "X-GitHub-Hook-ID": "489305711",
        "X-GitHub-Hook-Installation-Target-Type": "repository",
        "X-GitHub-Hook-Installation-Target-ID": "1296269",
        **sign_request(BODY, SECRET),
    }
    other = GitHubProfile(Hook(hook_id=7, repository_id=8, target_type="organization"), legacy_sha1=False)
    headers = other.delivery_headers(BODY, SECRET, 0)
    assert headers["X-GitHub-Hook-ID"] == "7" and headers["X-GitHub-Hook-Installation-Target-ID"] == "8"
    assert headers["X-GitHub-Hook-Installation-Target-Type"] == "organization"
    assert "X-Hub-Signature" not in headers and GUID.match(headers["X-GitHub-Delivery"])
    assert GITHUB.event_headers("star") == {"X-GitHub-Event": "star"}


@pytest.mark.parametrize(
    ("payload", "event"),
    [
        ({"zen": "x", "hook_id": 1}, "ping"),
        ({"action": "opened", "pull_request": {}, "number": 1}, "pull_request"),
        ({"action": "opened", "issue": {}}, "issues"),
        ({"ref": "refs/heads/main", "commits": []}, "push"),
        ({"action": "created", "starred_at": None}, None),
        (["zen"], None),
        ("zen", None),
    ],
)
def test_the_event_is_told_by_the_key_only_its_payload_has(payload: Any, event: str | None) -> None:
    assert event_name_of(payload) == event
    assert GITHUB.event_type_of(payload) == event
    body = json.dumps(payload).encode()
    assert GITHUB.delivery_headers(body, SECRET, 0)["X-GitHub-Event"] == (event or "ping")
    schema = {"ping": "github-ping", "pull_request": "github-pull-request", "issues": "github-issues"}
    assert GITHUB.schema_for(payload) == schema.get(event or "", "github-push")


def test_delivery_guids_have_githubs_shape_and_follow_the_seed() -> None:
    guids = [new_delivery_guid(random.Random(s)) for s in range(50)]
    assert all(GUID.match(g) for g in guids) and len(set(guids)) == 50
    assert new_delivery_guid(random.Random(3)) == new_delivery_guid(random.Random(3))
    assert new_delivery_guid() != new_delivery_guid() and GUID.match(new_delivery_guid())
    assert GITHUB.new_message_id(random.Random(3)) == new_delivery_guid(random.Random(3))
    assert GUID.match(str(GITHUB.new_message_id()))


def test_generated_secrets_are_160_random_bits_in_hex() -> None:
    secret = GITHUB.generate_secret(random.Random(5))
    assert secret == f"{random.Random(5).getrandbits(160):040x}" and re.fullmatch(r"[0-9a-f]{40}", secret)
    assert GITHUB.generate_secret() != GITHUB.generate_secret()
    assert all(re.fullmatch(r"[0-9a-f]{40}", GITHUB.generate_secret()) for _ in range(40))  # unseeded too
    assert len({len(GITHUB.generate_secret(random.Random(s))) for s in range(40)}) == 1  # zero-padded


# -- the catalogue and what the profile reads from a payload ----------------------------------------
def test_an_unknown_event_names_the_catalogue() -> None:
    with pytest.raises(UnknownEventType) as caught:
        GITHUB.event_spec("workflow_run")
    assert (
        str(caught.value)
        == "'workflow_run' is not in hookmock's GitHub catalogue (push, pull_request, issues, ping)"
    )
    with pytest.raises(UnknownEventType):
        GITHUB.build_payload("star", fake=None, rng=random.Random(1), now_s=0, overrides={})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("event", "actions"),
    [
        ("issues", "opened edited closed reopened labeled"),
        ("pull_request", "opened synchronize closed reopened edited"),
    ],
)
def test_an_action_asked_for_is_the_one_built(event: str, actions: str) -> None:
    factory = EventFactory("github", seed=2)
    key = "issue" if event == "issues" else "pull_request"
    for action in actions.split():
        for _ in range(3):
            payload = factory.event(event, action=action)
            assert payload["action"] == action
            assert payload[key]["state"] == ("closed" if action == "closed" else "open")
            assert (payload[key]["created_at"] == payload[key]["updated_at"]) is (action == "opened")
    # an action hookmock does not model is still sent as asked, on a payload built for a modelled one
    odd = factory.event(event, action="deleted")
    assert odd["action"] == "deleted" and GITHUB.event_type_of(odd) == event


def test_optional_fields_per_event() -> None:
    factory = EventFactory("github", seed=1)
    assert GITHUB.optional_fields(factory.event("issues")) == {
        ("issue", "body"): True,
        ("issue", "state_reason"): True,
    }
    assert GITHUB.optional_fields(factory.event("pull_request")) == {
        ("pull_request", "body"): True,
        ("pull_request", "auto_merge"): True,
    }
    assert (
        GITHUB.optional_fields(factory.event("push")) == {} == GITHUB.optional_fields(factory.event("ping"))
    )


def test_what_the_profile_reads_from_a_received_delivery() -> None:
    payload = EventFactory("github", seed=1).event("push")
    assert GITHUB.event_id(payload) is None
    assert GITHUB.received_event_id({"x-github-delivery": "abc"}, payload) == "abc"
    assert GITHUB.received_event_id({}, payload) is None
    variants = GITHUB.body_variants(payload)
    assert variants and all(event_name_of(json.loads(b)) == "push" for b in variants.values())
    assert [c.name for c in GITHUB.audit_checks()] == ["delivery-replay", "sha1-legacy"]


# -- the audit's probes ----------------------------------------------------------------------------
@dataclass
class Kit:
    """An :class:`~hookmock.profiles._audit.AuditKit` of the GitHub profile (no clock needed)."""

    profile: Any = GITHUB
    secret: str = "It's a Secret to Everybody"
    _ids: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.factory = EventFactory(self.profile, seed=11)

    def now(self) -> int:
        return 1_700_000_000

    def event(self, event_type: str | None = None, /, **overrides: Any) -> dict[str, Any]:
        return self.factory.event(event_type or self.profile.event_types[0], **overrides)

    def event_id(self, payload: dict[str, Any]) -> str | None:
        return self._ids.setdefault(
            json.dumps(payload, sort_keys=True), self.profile.new_message_id(self.rng)
        )

    def headers(
        self,
        body: bytes,
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        message_id: str | None = None,
    ) -> dict[str, str]:
        return self.profile.delivery_headers(
            body, secret or self.secret, timestamp or 0, message_id=message_id
        )

    @property
    def rng(self) -> random.Random:
        return self.factory.rng


REPLAY, SHA1 = CHECKS
ONCE = "2xx, and the event applied exactly once"
REPLAYED = "no 5xx, and the replay not applied (the GUID was seen)"


def test_the_replay_probes_send_one_delivery_three_times_then_another_about_the_same_issue() -> None:
    kit = Kit()
    first, again, third, later = REPLAY.probes(kit)
    assert [
        (p.label, p.expect, p.expected, p.effect, p.signed, p.cause) for p in (first, again, third, later)
    ] == [
        ("a delivery (later captured)", "accept", ONCE, None, False, None),
        ("the captured delivery replayed (same X-GitHub-Delivery)", "no_5xx", REPLAYED, None, False, None),
        ("the captured delivery replayed again (same X-GitHub-Delivery)", "no_5xx", REPLAYED, 1, False, None),
        (
            "another delivery about the same issue (same payload ids, a new GUID)",
            "accept",
            f"{ONCE}: deduplicate on X-GitHub-Delivery, not on an id inside the payload",
            1,
            False,
            None,
        ),
    ]
    for probe in (first, again, third):
        assert (probe.headers, probe.body, probe.event_id) == (first.headers, first.body, first.event_id)
    assert first.headers["X-GitHub-Delivery"] == first.event_id and GUID.match(str(first.event_id))
    assert later.headers["X-GitHub-Delivery"] == later.event_id != first.event_id
    opened, closed = json.loads(first.body), json.loads(later.body)
    assert (opened["action"], closed["action"]) == ("opened", "closed")
    assert set(closed) == {"action", "issue", "repository", "sender"}  # an issues event, not another
    assert closed["issue"] == opened["issue"] | {"state": "closed"}
    for probe in (first, later):
        verify_request(probe.headers, probe.body, kit.secret)
        assert probe.headers["X-GitHub-Event"] == "issues"


def test_the_sha1_probes_downgrade_forge_and_damage() -> None:
    kit = Kit()
    only_sha1, forged, damaged = SHA1.probes(kit)
    assert [(p.label, p.expect, p.signed, p.cause) for p in (only_sha1, forged, damaged)] == [
        (
            "only the legacy SHA-1 X-Hub-Signature (valid), no X-Hub-Signature-256",
            "reject",
            False,
            "signature",
        ),
        ("a valid SHA-1 X-Hub-Signature with a forged X-Hub-Signature-256", "reject", False, "signature"),
        ("a valid X-Hub-Signature-256 with a damaged SHA-1 X-Hub-Signature", "no_5xx", True, "signature"),
    ]
    assert only_sha1.expected == (
        "a 4xx rejection, and no effect: GitHub sends X-Hub-Signature-256 with every signed delivery; "
        "SHA-1 alone is a downgrade"
    )
    assert forged.expected == (
        "a 4xx rejection, and no effect: the X-Hub-Signature-256 signature decides, "
        "whatever X-Hub-Signature says"
    )
    assert damaged.expected == "a 2xx (only X-Hub-Signature-256 need be checked) or a 4xx, never a 5xx"
    for probe in (only_sha1, forged, damaged):
        assert probe.headers["X-GitHub-Delivery"] == probe.event_id and GUID.match(str(probe.event_id))
        assert probe.effect is None and probe.lenient is None
    sha1 = "sha1=" + compute_sha1_signature(only_sha1.body, kit.secret)
    assert only_sha1.headers["X-Hub-Signature"] == sha1 and "X-Hub-Signature-256" not in only_sha1.headers
    assert forged.headers["X-Hub-Signature-256"] == "sha256=" + "0" * 64
    assert forged.headers["X-Hub-Signature"] == "sha1=" + compute_sha1_signature(forged.body, kit.secret)
    assert damaged.headers["X-Hub-Signature"] == "sha1=" + "0" * 40
    verify_request(damaged.headers, damaged.body, kit.secret)
    assert len({only_sha1.body, forged.body, damaged.body}) == 3  # three events, three GUIDs
    assert len({only_sha1.event_id, forged.event_id, damaged.event_id}) == 3


def test_a_profile_without_the_legacy_header_has_no_sha1_probe() -> None:
    assert list(SHA1.probes(Kit(profile=GitHubProfile(legacy_sha1=False)))) == []


def test_a_new_profile_sends_the_legacy_sha1_header_unless_told_not_to() -> None:
    """GitHub sends X-Hub-Signature whenever a secret is set: the faithful default."""
    for profile in (GitHubProfile(), GitHubProfile(Hook(hook_id=7))):
        assert profile.legacy_sha1 is True
        assert set(profile.sign(BODY, SECRET, 0)) == {"X-Hub-Signature-256", "X-Hub-Signature"}
    assert GitHubProfile(legacy_sha1=False).legacy_sha1 is False


def test_hostile_body_variants_put_their_value_under_the_repository() -> None:
    variants = GITHUB.body_variants(EventFactory("github", seed=1).event("push"))
    exponent = json.loads(variants["exponent"])
    assert exponent["repository"]["hookmock_probe"] == 100.0 and "hookmock_probe" not in exponent
