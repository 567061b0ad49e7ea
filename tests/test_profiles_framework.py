"""The framework every profile inherits (``hookmock.profiles._base`` and the registry): the default
message identity, rotation, signature splitting, delivery headers, the verdict of a refused request,
the compatibility shim for ``sign()`` written before ``message_id``, and registry names."""

from __future__ import annotations

import random

import pytest

import hookmock
import hookmock.profiles as profiles_pkg
from hookmock.errors import BadSignature, MalformedHeader, TimestampTooOld, UnknownProfile, UsageError
from hookmock.profiles import get_profile
from hookmock.profiles._base import USER_AGENT, _takes_message_id
from hookmock.profiles.moda import ModaProfile, compute_signature, sign_request
from hookmock.profiles.standard_webhooks import StandardWebhooksProfile

MODA = get_profile("moda")
MODIO = get_profile("modio")
SW = get_profile("standard-webhooks")
TS = 1_700_000_000
BODY = b'{"id":"evt_1"}'
SECRET = "whsec_" + "a" * 32
SW_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3OA=="


# -- message identity -----------------------------------------------------------------------------
def test_message_id_for_is_the_payloads_own_id_else_a_new_message_id():
    assert MODA.message_id_for({"id": "evt_9"}) == "evt_9"
    assert MODA.message_id_for("not a mapping") is None  # Moda has no header-borne id
    assert MODA.message_id_for({"no": "id"}) is None
    made = SW.message_id_for({"type": "x"}, random.Random(3))
    assert made == SW.new_message_id(random.Random(3))
    assert made is not None and made.startswith("msg_")


def test_received_event_id_reads_the_payload_by_default():
    assert MODA.received_event_id({}, {"id": "evt_4"}) == "evt_4"
    assert MODA.received_event_id({}, ["evt_4"]) is None
    assert MODA.received_event_id({}, None) is None


# -- rotation, signature splitting, header names ------------------------------------------------
def test_sign_rotated_with_one_secret_is_sign_and_with_more_is_refused_by_name():
    assert MODA.sign_rotated(BODY, [SECRET], TS) == sign_request(BODY, SECRET, TS)
    assert MODIO.sign_rotated(BODY, ["tok"], TS) == {"X-Modio-Webhook-Token": "tok"}
    with pytest.raises(UsageError, match=r"^Moda sends one signature per request; signing with 2 secrets"):
        MODA.sign_rotated(BODY, [SECRET, SECRET + "b"], TS)
    with pytest.raises(UsageError) as refused:
        MODIO.sign_rotated(BODY, ["a", "b", "c"], TS)
    assert str(refused.value) == (
        "mod.io sends one signature per request; signing with 3 secrets (key rotation) is not part of "
        "its format: give one secret"
    )


def test_sign_rotated_with_one_secret_passes_the_message_id_on():
    seen: list[object] = []

    class Identified(ModaProfile):
        name = "identified"

        def sign(self, body, secret, timestamp, *, message_id=None):  # type: ignore[no-untyped-def]
            seen.append(message_id)
            return sign_request(body, secret, timestamp)

    Identified().sign_rotated(BODY, [SECRET], TS, message_id="msg_one")
    assert seen == ["msg_one"]


def test_a_payload_that_is_no_object_has_no_event_id_even_for_a_profile_that_assumes_one():
    class Strict(ModaProfile):
        name = "strict"

        def event_id(self, payload):  # type: ignore[no-untyped-def]
            return payload["id"]  # a third-party profile that trusts the payload to be an object

    strict = Strict()
    assert strict.message_id_for(["evt_1"]) is None
    assert strict.received_event_id({}, "evt_1") is None
    assert strict.message_id_for({"id": "evt_2"}) == strict.received_event_id({}, {"id": "evt_2"}) == "evt_2"


def test_split_signature_keeps_the_scheme_prefix():
    assert MODA.split_signature("v1=abc") == ("v1=", "abc")
    assert MODA.split_signature("v1=a=b") == ("v1=", "a=b")
    assert MODA.split_signature("abc") == ("", "abc")
    assert MODIO.split_signature("") == ("", "")


def test_auth_header_names_are_what_sign_produces():
    assert MODA.auth_header_names() == ("X-Webhook-Signature", "X-Webhook-Timestamp")
    assert MODIO.auth_header_names() == ("X-Modio-Webhook-Token",)
    assert SW.auth_header_names() == ("webhook-id", "webhook-timestamp", "webhook-signature")


# -- delivery headers ---------------------------------------------------------------------------
def test_delivery_headers_are_content_type_user_agent_and_the_signature_of_whole_seconds():
    headers = MODA.delivery_headers(BODY, SECRET, TS + 0.999)
    assert headers == {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **sign_request(BODY, SECRET, TS),
    }
    assert headers["X-Webhook-Signature"] == "v1=" + compute_signature(BODY, SECRET, str(TS))
    assert MODA.delivery_headers(BODY, SECRET, TS) == headers


def test_delivery_headers_sign_under_the_given_message_id():
    headers = SW.delivery_headers(BODY, SW_SECRET, TS, message_id="msg_given")
    assert headers == {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **SW.sign(BODY, SW_SECRET, TS, message_id="msg_given"),
    }
    assert headers["webhook-id"] == "msg_given"
    assert SW.verify(headers, BODY, SW_SECRET, now=TS) == TS


def test_delivery_headers_with_extra_secrets_sign_with_every_secret():
    other = "whsec_" + "MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0dXY="
    headers = SW.delivery_headers(BODY, SW_SECRET, TS + 0.5, message_id="msg_rot", extra_secrets=[other])
    assert headers == {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **SW.sign_rotated(BODY, [SW_SECRET, other], TS, message_id="msg_rot"),
    }
    assert headers["webhook-id"] == "msg_rot"
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (SW_SECRET, other):  # either secret verifies: the request is signed with both
        assert SW.verify(headers, BODY, secret, now=TS) == TS
    with pytest.raises(UsageError, match="2 secrets"):
        MODA.delivery_headers(BODY, SECRET, TS, extra_secrets=[SECRET + "b"])


# -- the verdict of a refused request -----------------------------------------------------------
def test_a_profile_without_timestamp_judges_no_freshness_even_with_a_timestamp_header_name():
    class Untimed(ModaProfile):
        name = "untimed"
        has_timestamp = False

    headers = sign_request(BODY, SECRET, TS)
    verdict = Untimed().check(headers, BODY, SECRET + "x", now=TS)
    assert (verdict.ok, verdict.authentic, verdict.fresh, verdict.timestamp) == (False, False, None, None)
    assert isinstance(verdict.error, BadSignature)


def test_a_refused_request_reports_freshness_at_the_tolerance_edge():
    headers = sign_request(BODY, SECRET, TS)
    at_edge = MODA.check(headers, BODY, SECRET + "x", now=TS + 300)
    past_edge = MODA.check(headers, BODY, SECRET + "x", now=TS + 301)
    assert (at_edge.fresh, at_edge.timestamp) == (True, TS)
    assert (past_edge.fresh, past_edge.timestamp) == (False, TS)
    stale = MODA.check(headers, BODY, SECRET, now=TS + 301)
    assert (stale.authentic, stale.fresh, type(stale.error)) == (True, False, TimestampTooOld)


# -- sign() written before message_id -----------------------------------------------------------
def test_a_modern_sign_receives_the_message_id():
    seen: list[object] = []

    class Explicit(ModaProfile):
        name = "explicit"

        def sign(self, body, secret, timestamp, *, message_id=None):  # type: ignore[no-untyped-def]
            seen.append(message_id)
            return sign_request(body, secret, timestamp)

    class Catchall(ModaProfile):
        name = "catchall"

        def sign(self, body, secret, timestamp, **kwargs):  # type: ignore[no-untyped-def,override]
            seen.append(kwargs.get("message_id"))
            return sign_request(body, secret, timestamp)

    Explicit().delivery_headers(BODY, SECRET, TS, message_id="msg_a")
    Catchall().delivery_headers(BODY, SECRET, TS, message_id="msg_b")
    assert seen == ["msg_a", "msg_b"]


def test_an_old_sign_timestamp_text_is_called_without_the_message_id():
    class OldText(ModaProfile):
        name = "old-text"

        def sign_timestamp_text(self, body, secret, timestamp_text):  # type: ignore[no-untyped-def,override]
            return {"X-Webhook-Timestamp": timestamp_text}

    assert OldText().sign_timestamp_text(BODY, SECRET, "12x", message_id="msg_dropped") == {
        "X-Webhook-Timestamp": "12x"
    }


def test_a_sign_whose_signature_cannot_be_read_is_assumed_modern():
    assert _takes_message_id(type) is True  # ValueError: no signature for a builtin
    assert _takes_message_id(object()) is True  # TypeError: not callable
    assert _takes_message_id(lambda body, secret, timestamp: None) is False


# -- Moda's one-signature fast path -------------------------------------------------------------
def test_an_upper_case_scheme_is_not_moda_s_v1():
    digest = compute_signature(BODY, SECRET, str(TS))
    headers = {"X-Webhook-Signature": "V1=" + digest, "X-Webhook-Timestamp": str(TS)}
    with pytest.raises(MalformedHeader, match="no 'v1=<hex>' entry"):
        MODA.verify(headers, BODY, SECRET, now=TS)


# -- redaction with a profile-specific prefix ---------------------------------------------------
def test_redaction_keeps_the_prefix_of_the_secret_s_own_format():
    text = f"secret={SW_SECRET} end"
    redacted = SW.redact(text, SW_SECRET)
    assert SW_SECRET not in redacted
    assert redacted.startswith("secret=whsec_")
    assert MODA.redact(text, "") == text


# -- registry names -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["standard-webhooks", "standard_webhooks"])
def test_a_builtin_loads_by_registry_or_module_name_and_is_kept_under_its_registry_name(monkeypatch, name):
    monkeypatch.setattr(profiles_pkg, "_registry", {})
    profile = get_profile(name)
    assert isinstance(profile, StandardWebhooksProfile)
    assert list(profiles_pkg._registry) == ["standard-webhooks"]
    assert hookmock.available_profiles() == sorted(profiles_pkg.builtin_profiles())


@pytest.mark.parametrize("name", [None, 3, "standard webhooks", ""])
def test_a_name_that_is_no_profile_is_refused_with_the_choices(monkeypatch, name):
    monkeypatch.setattr(profiles_pkg, "_registry", {})
    with pytest.raises(UnknownProfile, match=r"choose one of: .*moda"):
        get_profile(name)  # type: ignore[arg-type]
