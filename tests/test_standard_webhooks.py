"""The Standard Webhooks profile: differential tests against the reference ``standardwebhooks``
package in both directions (key rotation included), ``v1a`` (ed25519), the sender's message id
and retry schedule, the audit corpus in-process and over loopback sockets, the fixtures and the CLI.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

import hookmock
from hookmock.auditing import audit
from hookmock.cli import main
from hookmock.clock import SECOND, RealClock, VirtualClock
from hookmock.errors import BadSignature, MalformedHeader, MissingHeader, UsageError
from hookmock.profiles import get_profile
from hookmock.profiles.standard_webhooks import generate_key_pair, public_key_of
from receivers import standard_webhooks as swr
from receivers.base import WerkzeugReceiver
from serving_support import serve_wsgi as _serve

P = "standard-webhooks"
SW = get_profile(P)
SRC = Path(hookmock.__file__).parent
BODIES = [
    b'{"type":"user.created","timestamp":"2022-11-03T20:26:10.344522Z","data":{"id":"1"}}',
    "ünï ☃ 🚀".encode(),
    b"",
]


def _now() -> int:
    return int(RealClock().time())


# -- registry and facts --------------------------------------------------------------------------
def test_registry_name_has_a_dash_and_the_module_name_works_too() -> None:
    assert P in hookmock.available_profiles() and "standard_webhooks" not in hookmock.available_profiles()
    assert hookmock.get_profile("standard_webhooks") is SW and SW.name == P
    assert SW.deadline_ns == 15 * SECOND and SW.max_attempts == 10
    assert SW.retry_delays_ns[:3] == (5 * SECOND, 300 * SECOND, 1800 * SECOND)


def test_asking_by_the_module_name_does_not_add_a_second_profile_name() -> None:
    # get_profile("standard_webhooks") used to cache the profile under the alias, and from then on
    # available_profiles() (the CLI's --profile choices) listed both spellings
    assert hookmock.get_profile("standard_webhooks") is SW
    assert hookmock.get_profile("standard_webhooks") is SW
    assert "standard_webhooks" not in hookmock.available_profiles()
    assert hookmock.available_profiles().count(P) == 1


def test_generated_secrets_are_whsec_base64_of_32_bytes() -> None:
    secret = SW.generate_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:], validate=True)) == 32
    assert SW.redact(f"got {secret}!", secret) != f"got {secret}!" and secret not in SW.redact(secret, secret)


# -- differential: hookmock signs, the reference verifies -----------------------------------------
@pytest.mark.parametrize("body", BODIES)
def test_reference_library_verifies_hookmock_signatures_with_key_rotation(body: bytes) -> None:
    new, old, other = SW.generate_secret(), SW.generate_secret(), SW.generate_secret()
    headers = hookmock.sign(P, body, new, extra_secrets=[old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    for key in (new, old):
        Webhook(key).verify(body, headers, json_parse=False)
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(other).verify(body, headers, json_parse=False)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body + b" ", headers, json_parse=False)


# -- differential: the reference signs, hookmock verifies -----------------------------------------
@pytest.mark.parametrize("body", BODIES)
def test_hookmock_verifies_reference_signatures_with_key_rotation(body: bytes) -> None:
    new, old = SW.generate_secret(), SW.generate_secret()
    now = _now()
    when = datetime.fromtimestamp(now, tz=timezone.utc)
    text = body.decode()
    sigs = [Webhook(k).sign("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", when, text) for k in (old, new)]
    headers = {
        "webhook-id": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
        "webhook-timestamp": str(now),
        "webhook-signature": " ".join(sigs),
    }
    for key in (new, old):
        assert hookmock.check(P, headers, body, key, now=now).ok
    assert hookmock.check(P, headers, body, SW.generate_secret(), now=now).reason == "bad_signature"
    with pytest.raises(BadSignature):
        hookmock.verify(P, {**headers, "webhook-id": "msg_other"}, body, new, now=now)
    # both directions agree on the exact signature string
    assert (
        hookmock.sign(P, body, new, timestamp=now, message_id=headers["webhook-id"])["webhook-signature"]
        == sigs[1]
    )


def test_the_specifications_example_header_with_v1_and_v1a_verifies_on_either_key() -> None:
    secret = SW.generate_secret()
    signing, public = generate_key_pair()
    now, body = _now(), BODIES[0]
    headers = hookmock.sign(P, body, secret, timestamp=now, message_id="msg_1", extra_secrets=[signing])
    assert re.fullmatch(r"v1,\S{44} v1a,\S{88}", headers["webhook-signature"])
    assert hookmock.check(P, headers, body, secret, now=now).ok
    assert hookmock.check(P, headers, body, public, now=now).ok
    assert public_key_of(signing) == public


def test_v1a_only_is_malformed_for_a_v1_endpoint_and_a_public_key_cannot_sign() -> None:
    signing, public = generate_key_pair()
    now = _now()
    headers = hookmock.sign(P, b"{}", signing, timestamp=now)
    with pytest.raises(MalformedHeader, match="no 'v1,<base64>'"):
        hookmock.verify(P, headers, b"{}", SW.generate_secret(), now=now)
    with pytest.raises(UsageError, match="cannot sign"):
        hookmock.sign(P, b"{}", public)
    with pytest.raises(MissingHeader, match="webhook-id"):
        hookmock.verify(P, {k: v for k, v in headers.items() if k != "webhook-id"}, b"{}", public, now=now)


def test_single_signature_profiles_refuse_key_rotation() -> None:
    with pytest.raises(UsageError, match="one signature per request"):
        hookmock.sign("moda", b"{}", "whsec_a", extra_secrets=["whsec_b"])
    with pytest.raises(UsageError, match="one signature per request"):
        hookmock.Sender("moda", "whsec_a", extra_secrets=["whsec_b"])


def test_a_message_id_with_a_full_stop_is_refused() -> None:
    with pytest.raises(UsageError, match=r"without '\.'"):
        hookmock.sign(P, b"{}", SW.generate_secret(), message_id="msg.1")


# -- the sender: one webhook-id across retries, the spec's schedule ------------------------------
def test_retries_keep_the_webhook_id_and_re_sign_on_the_specs_schedule() -> None:
    seen: list[dict[str, str]] = []
    clock = VirtualClock()
    secret = SW.generate_secret()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append({k[5:].lower().replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")})
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"busy"]

    sender = hookmock.Sender(P, secret, clock=clock, extra_secrets=[SW.generate_secret()])
    delivery = sender.send((app, "/hooks"), "invoice.paid")
    assert delivery.status == "failed" and len(seen) == 10
    assert {h["webhook-id"] for h in seen} == {delivery.event_id}
    stamps = [int(h["webhook-timestamp"]) for h in seen]
    assert [b - a for a, b in itertools.pairwise(stamps)] == [
        5,
        300,
        1800,
        7200,
        18000,
        36000,
        50400,
        72000,
        86400,
    ]
    assert all(len(h["webhook-signature"].split(" ")) == 2 for h in seen)
    redelivered = sender.redeliver(delivery.id)
    assert redelivered.event_id == delivery.event_id and seen[-1]["webhook-id"] == delivery.event_id


def test_fake_receiver_records_the_message_id_and_verifies() -> None:
    clock = VirtualClock()
    secret = SW.generate_secret()
    with hookmock.FakeReceiver(P, secret=secret, clock=clock) as receiver:
        sender = hookmock.Sender(P, secret, clock=clock)
        delivery = sender.send(receiver.url, "user.created", message_id="msg_fixed1")
        assert delivery.status == "succeeded"
        (request,) = receiver.requests
        assert request.event_id == "msg_fixed1" and request.verdict.ok


# -- the audit: corpus in-process and over sockets -------------------------------------------------
def _keys(mode: str) -> tuple[str, str]:
    """(the audit's secret, the receiver's secret) for a v1 or v1a endpoint."""
    if mode == "v1":
        secret = SW.generate_secret()
        return secret, secret
    signing, public = generate_key_pair()
    return signing, public


def _audit(factory: Any, mode: str, **kwargs: Any) -> Any:
    clock = VirtualClock()
    secret, receiver_secret = _keys(mode)
    app = factory(P, receiver_secret, clock)
    return audit(app, profile=P, secret=secret, probe=app.count, clock=clock, **kwargs)


@pytest.mark.parametrize("mode", ["v1", "v1a"])
@pytest.mark.parametrize("factory", [WerkzeugReceiver, swr.ManualStandardReceiver])
def test_correct_receivers_pass_every_check_in_process(factory: Any, mode: str) -> None:
    report = _audit(factory, mode)
    assert report.ok and report.summary["warn"] == 0, report.text()
    assert report.status("key-rotation") == "pass" and report.status("v1a") == "pass"
    assert report.status("replay") == "pass" and report.status("token") == "skip"


BROKEN = [
    (swr.FirstSignatureOnlyReceiver, "v1", "key-rotation", "an old key's signature first"),
    (swr.FirstSignatureOnlyReceiver, "v1a", "key-rotation", "three signatures, the receiver's last"),
    (swr.TrustsV1aReceiver, "v1", "v1a", "only a v1a signature, by a key the sender made up"),
    (swr.ConfusedV1aReceiver, "v1a", "v1a", "keyed with the endpoint's public key"),
    (swr.NoTimestampCheckReceiver, "v1", "replay", "timestamp 1 h old"),
    (swr.SignatureDedupeStandardReceiver, "v1", "dedupe-key", "applied 3 time(s)"),
    (swr.NoDedupeStandardReceiver, "v1", "idempotency", "applied 3 time(s)"),
]


@pytest.mark.parametrize(
    ("factory", "mode", "check", "why"), BROKEN, ids=[f"{b[0].__name__}-{b[1]}" for b in BROKEN]
)
def test_each_broken_receiver_fails_its_check(factory: Any, mode: str, check: str, why: str) -> None:
    report = _audit(factory, mode)
    assert report.status(check) == "fail" and not report.ok, report.text()
    assert why in report[check].detail


def test_moda_and_modio_audits_do_not_run_the_standard_webhooks_checks() -> None:
    from hookmock.auditing import CATALOGUE, catalogue_for

    assert catalogue_for("moda") == CATALOGUE and catalogue_for("modio") == CATALOGUE
    names = [c.name for c in catalogue_for(P)]
    assert names[-3:] == ["key-rotation", "v1a", "deadline"]
    with pytest.raises(UsageError, match="unknown audit check"):
        audit(WerkzeugReceiver("moda", "whsec_x"), profile="moda", secret="whsec_x", only=["key-rotation"])


def test_audit_over_loopback_sockets_the_reference_library_receiver_and_a_broken_one() -> None:
    secret = SW.generate_secret()
    good = swr.ReferenceLibraryReceiver(P, secret)  # the reference library reads the real clock
    with _serve(good) as url:
        report = audit(
            url + "/hooks",
            profile=P,
            secret=secret,
            probe=good.count,
            skip=["ordering", "concurrent-duplicates"],
        )
    assert report.status("key-rotation") == "pass" and report.status("v1a") == "pass", report.text()
    assert report.status("signature") == "pass" and report.status("replay") == "pass", report.text()
    bad = swr.FirstSignatureOnlyReceiver(P, secret)
    with _serve(bad) as url:
        report = audit(url, profile=P, secret=secret, probe=bad.count, only=["key-rotation"])
    assert report.status("key-rotation") == "fail", report.text()


# -- payloads, scenarios and storms -----------------------------------------------------------
def test_every_event_is_valid_under_its_schema_and_the_schema_is_guessed() -> None:
    from hookmock.validation import guess_schema, violations

    for payload in hookmock.EventFactory(P, seed=3).every_event():
        assert violations(payload, SW.schema_for(payload)) == []
        assert guess_schema(payload) == "standard-webhooks-event"
    assert violations({"type": "a..b", "data": []}, "standard-webhooks-event")


SCENARIO = """
[scenario]
name = "Standard Webhooks: retry, stale replay, concurrent copies"
profile = "standard-webhooks"

[[steps]]
action = "send"
id = "first"
event = "invoice.paid"
proxy = ["fail:503", "pass"]
expect = { status = "succeeded", attempts = 2, effect = 1 }

[[steps]]
action = "replay_stale"
of = "first"
after = 3600
expect = { answer = "4xx", effect = 1 }

[[steps]]
action = "concurrent"
event = "user.created"
copies = 4
expect = { status = "succeeded", effect = 1 }
"""


@pytest.mark.parametrize(
    ("factory", "ok"), [(swr.ManualStandardReceiver, True), (swr.NoDedupeStandardReceiver, False)]
)
def test_a_scenario_file_runs_against_standard_webhooks_receivers(
    tmp_path: Path, factory: Any, ok: bool
) -> None:
    from hookmock.scenarios import load_scenario, run_scenario

    path = tmp_path / "sw.toml"
    path.write_text(SCENARIO)
    clock = VirtualClock()
    secret = SW.generate_secret()
    app = factory(P, secret, clock)
    result = run_scenario(load_scenario(path), app, secret=secret, probe=app.count, clock=clock)
    assert result.ok is ok, result.text()


def test_a_storm_over_sockets_applies_every_event_once() -> None:
    from hookmock.storm import storm

    secret = SW.generate_secret()
    app = swr.ManualStandardReceiver(P, secret)
    with _serve(app) as url:
        report = storm(
            url + "/hook",
            profile=P,
            secret=secret,
            count=40,
            users=4,
            duplicates=0.3,
            concurrent_duplicates=0.3,
            stale=0.2,
            probe=app.count,
            seed=5,
        )
    assert report.ok, report.failures
    assert report.applied is not None and report.applied["1"] == 40


# -- fixtures and CLI ----------------------------------------------------------------------------
pytest_plugins = ["pytester"]


def test_fixtures_with_the_standard_webhooks_profile(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nhookmock_profile = standard-webhooks\n")
    pytester.makepyfile(
        """
        def test_sender_to_receiver(hookmock_sender, hookmock_receiver, hookmock_profile, hookmock_secret):
            assert hookmock_profile.name == "standard-webhooks" and hookmock_secret.startswith("whsec_")
            hookmock_receiver.script("500,ok")
            delivery = hookmock_sender.send(hookmock_receiver.url, "invoice.paid")
            assert delivery.status == "succeeded" and len(hookmock_receiver.requests) == 2
            first, second = hookmock_receiver.requests
            assert first.event_id == second.event_id == delivery.event_id
            assert all(r.verdict.ok for r in hookmock_receiver.requests)
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_cli_sign_send_and_audit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = SW.generate_secret()
    body = tmp_path / "body.json"
    body.write_bytes(BODIES[0])
    assert main(["sign", str(body), "--profile", P, "--secret", secret]) == 0
    headers = json.loads(capsys.readouterr().out)
    Webhook(secret).verify(BODIES[0], headers, json_parse=False)
    receiver = swr.ManualStandardReceiver(P, secret)
    with _serve(receiver) as url:
        code = main(["send", url, "--event", "user.created", "--profile", P, "--secret", secret])
        assert code == 0, capsys.readouterr()
        capsys.readouterr()
        code = main(
            ["audit", url, "--profile", P, "--secret", secret, "--only", "key-rotation", "--only", "v1a"]
        )
        out = capsys.readouterr().out
        assert code == 0 and "key-rotation" in out and "v1a" in out, out
    assert main(["sign", str(body), "--profile", P, "--secret", "whsec_!!not base64"]) == 2
    assert "not base64" in capsys.readouterr().err


def test_no_standard_webhooks_header_name_outside_the_profiles() -> None:
    pattern = re.compile(r"webhook-(id|timestamp|signature)|whsk_|whpk_", re.IGNORECASE)
    offenders = [
        str(p)
        for p in SRC.rglob("*.py")
        if "profiles" not in p.relative_to(SRC).parts and pattern.search(p.read_text())
    ]
    assert offenders == []


# -- the framework: a profile declares skips and contributes checks --------------------------------
def test_a_profile_contributes_a_check_and_declares_a_skip_with_its_reason() -> None:
    from hookmock.profiles import _registry, register_profile
    from hookmock.profiles._audit import ProfileCheck, ProfileProbe
    from hookmock.profiles.modio import ModioProfile
    from receivers.broken import NoSignatureCheckReceiver

    def probes(kit: Any) -> list[ProfileProbe]:
        payload = kit.event()
        body = kit.profile.serialize(payload)
        good = kit.headers(body)
        bad = {k: v for k, v in good.items() if k != "X-Modio-Webhook-Token"}
        return [
            ProfileProbe("the token", good, body, kit.event_id(payload), "accept", "2xx", signed=True),
            ProfileProbe("no token", bad, body, kit.event_id(payload), "reject", "4xx", cause="token"),
        ]

    class ToyProfile(ModioProfile):
        name = "toy"
        title = "Toy"
        audit_skips = MappingProxyType(
            {"ordering": "Toy delivers in order: its sequence numbers are the receiver's concern"}
        )

        def audit_checks(self) -> tuple[ProfileCheck, ...]:
            return (ProfileCheck("toy-token", 99, "Toy tokens", "4xx without the token", probes),)

    register_profile(ToyProfile())
    try:
        secret = ToyProfile().generate_secret()
        report = audit(WerkzeugReceiver("toy", secret), profile="toy", secret=secret)
        assert report.status("toy-token") == "pass" and [c.name for c in report][-2:] == [
            "toy-token",
            "deadline",
        ]
        assert report.status("ordering") == "skip" and "sequence numbers" in report["ordering"].detail
        report = audit(
            NoSignatureCheckReceiver("toy", secret), profile="toy", secret=secret, only=["toy-token"]
        )
        assert report.status("toy-token") == "fail" and "no token" in report["toy-token"].detail
    finally:
        _registry.pop("toy", None)


def test_the_signed_requests_strategy_gives_verifiable_requests() -> None:
    from hypothesis import given, settings

    from hookmock.strategies import secrets, signed_requests

    @settings(max_examples=60, deadline=None)
    @given(signed_requests(P), secrets(P))
    def check(request: Any, secret: str) -> None:
        hookmock.verify(P, request.headers, request.body, request.secret, now=request.timestamp)
        hookmock.sign(P, b"{}", secret)  # every secret the strategy gives can sign

    check()


def test_listen_counts_attempts_per_webhook_id_as_a_fault_proxy() -> None:
    """``hookmock listen --forward-to --script 500,ok``: the script counts attempts of one message by
    its webhook-id header (there is no id in the payload), so the retry passes."""
    from werkzeug import Request, Response

    from test_receiver_listen import SECRET, Listen

    applied: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        applied.append(Request(environ).headers["webhook-id"])
        return Response("done")(environ, start_response)

    with _serve(app) as upstream_url:
        listen = Listen(
            "--profile",
            P,
            "--json",
            "--forward-to",
            upstream_url,
            "--script",
            "500,ok",
        )
        url = json.loads(listen.readline())["url"]
        with hookmock.Sender(P, SECRET, retry_delays_s=[0.05] * 9) as sender:
            deliveries = [sender.send(url, "user.created"), sender.send(url, "invoice.paid")]
        rows = [json.loads(listen.readline()) for _ in range(4)]
        listen.stop()
    # each message's first attempt is scripted to fail: counted per webhook-id, not per payload id
    assert [[a.status for a in d.attempts] for d in deliveries] == [[500, 200], [500, 200]]
    ids = [d.event_id for d in deliveries for _ in range(2)]
    assert applied == ids
    assert [(r["status"], r["event_id"], r["verified"]) for r in rows] == [
        (status, event_id, True) for status, event_id in zip([500, 200, 500, 200], ids)
    ]


# -- unusable keys are refused when a sender or receiver is made, before anything is logged -----------
@pytest.mark.parametrize(
    ("key", "named"),
    [
        ("whsec_!!!!", "not base64"),
        ("whsec_", "holds no bytes"),
        ("whsk_AAAA", "32 bytes"),
        ("whpk_AAAA", "cannot sign"),
    ],
)
def test_an_unusable_signing_key_is_refused_before_anything_is_logged(key, named, tmp_path):
    from hookmock import Sender
    from hookmock.errors import UsageError

    db = tmp_path / "log.db"
    with pytest.raises(UsageError, match=named):
        Sender("standard-webhooks", key, log=str(db))
    assert not db.exists()  # no phantom delivery a later --resume could send
    with pytest.raises(UsageError, match=named):
        hookmock.sign("standard-webhooks", b"{}", key, timestamp=1_700_000_000)


@pytest.mark.parametrize("key", ["whsec_!!!!", "whsec_", "whpk_AAAA", "whsk_AAAA"])
def test_a_receiver_refuses_a_key_it_could_never_verify_with(key):
    from hookmock import FakeReceiver
    from hookmock.errors import UsageError

    with pytest.raises(UsageError):
        FakeReceiver("standard-webhooks", key)


def test_a_receiver_accepts_a_public_key_and_a_sender_an_extra_key_is_checked_too():
    from hookmock import FakeReceiver, Sender
    from hookmock.errors import UsageError
    from hookmock.profiles._standard_webhooks_keys import generate_key_pair

    signing, public = generate_key_pair()
    with FakeReceiver("standard-webhooks", public):  # a public key verifies v1a: accepted
        pass
    with pytest.raises(UsageError, match="not base64"):
        Sender("standard-webhooks", signing, extra_secrets=["whsec_!!!!"])
