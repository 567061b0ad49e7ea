"""How one case is judged (auditing/verdicts.py), unit by unit, against scripted receivers.

Each test builds an audit context over a receiver that answers a validly signed request one way
and a forged one another, sends one probe through ``judged`` and reads the verdict: its status, its
reason word for word, whether anyone can trigger it, and which requests the report shows."""

from __future__ import annotations

import random

import pytest

from hookmock.auditing.model import judge
from hookmock.auditing.verdicts import forged, judged
from receivers.scripted import UnsignedProfile, context

LENIENT = "harmless, dropped later"
BAD = "a 4xx rejection"


def _bad_body(ctx, label="bad body"):  # type: ignore[no-untyped-def]
    """A validly signed request whose body is not an event."""
    return ctx.signed(label, {}, body=b"[]")


# -- what the provider sends, and plain rejections ----------------------------------------------
def test_an_accepted_valid_delivery_passes_and_is_timed_for_the_deadline_check() -> None:
    ctx = context(signed=204)
    request = ctx.valid("valid delivery")
    case = judged(ctx, request, "accept", "2xx please", cause="body")
    assert (case.label, case.status, case.why, case.expected) == (
        "valid delivery",
        "pass",
        "HTTP 204",
        "2xx please",
    )
    assert (case.expect, case.cause, case.anonymous, case.effect, case.see) == (
        "accept",
        "body",
        None,
        None,
        None,
    )
    assert [e.request for e in case.exchanges] == [request]
    assert [label for label, _ in ctx.valid_durations] == ["valid delivery"]
    assert ctx.requests_sent == 1


def test_a_rejected_forgery_passes_and_is_not_timed() -> None:
    ctx = context(forged=403)
    request = ctx.edited(ctx.valid("forged"), "forged", set_headers={"X-Webhook-Signature": "v1=00"})
    case = judged(ctx, request, "reject", BAD)
    assert (case.status, case.why, case.expect, case.cause) == ("pass", "HTTP 403", "reject", None)
    assert ctx.valid_durations == []


def test_a_valid_delivery_refused_fails_with_the_plain_reason() -> None:
    ctx = context(signed=400)
    case = judged(ctx, ctx.valid("valid"), "accept", "2xx", lenient=LENIENT, signed=True)
    assert case.status == "fail"
    assert case.why == "HTTP 400: the receiver rejected a valid delivery (the sender retries it)"
    assert case.anonymous is None and len(case.exchanges) == 1


@pytest.mark.parametrize("answer", [500, "raise"])
def test_a_crash_on_a_valid_delivery_fails_and_is_not_repeated(answer: int | str) -> None:
    ctx = context(signed=answer, forged=500)
    case = judged(ctx, ctx.valid("valid"), "accept", "2xx", signed=True, cause="body")
    assert case.status == "fail"
    assert case.why == judge(case.exchanges[0].result, "accept")[1]
    assert case.anonymous is None
    assert len(case.exchanges) == 1 and ctx.requests_sent == 1


# -- acknowledged out-of-contract requests: lenient is a warning ---------------------------------
@pytest.mark.parametrize("code", [200, 250, 299])
def test_an_acknowledged_request_with_a_lenient_reason_is_a_warning(code: int) -> None:
    ctx = context(signed=code)
    case = judged(ctx, _bad_body(ctx), "reject", BAD, signed=True, lenient=LENIENT, cause="body")
    assert (case.status, case.why) == ("warn", f"HTTP {code}: {LENIENT}")
    assert (case.expect, case.cause, case.anonymous) == ("reject", "body", None)
    assert len(case.exchanges) == 1


@pytest.mark.parametrize("code", [199, 300, 302])
def test_a_non_2xx_non_4xx_answer_is_a_failure_even_with_a_lenient_reason(code: int) -> None:
    ctx = context(signed=code)
    case = judged(ctx, _bad_body(ctx), "reject", BAD, signed=True, lenient=LENIENT, cause="body")
    assert case.status == "fail"
    assert case.why == f"HTTP {code}: neither a 2xx acknowledgement nor a 4xx rejection"
    assert case.anonymous is None and len(case.exchanges) == 1


def test_an_acknowledged_request_without_a_lenient_reason_fails() -> None:
    ctx = context(signed=200)
    case = judged(ctx, _bad_body(ctx), "reject", BAD, signed=True, cause="body")
    assert (case.status, case.why) == ("fail", "HTTP 200: the receiver accepted a request it must reject")
    assert case.anonymous is None


def test_a_lenient_reason_does_not_excuse_a_crash() -> None:
    ctx = context(signed=500, forged=401)
    case = judged(ctx, _bad_body(ctx), "reject", BAD, signed=True, lenient=LENIENT, cause="body")
    assert case.status == "warn"  # only a secret holder: see below; never the lenient reason
    assert LENIENT not in case.why


# -- crashes: who can trigger them ----------------------------------------------------------------
CRASH_500 = "HTTP 500: a server error on bad input (the sender retries it: a retry storm)"


def test_a_crash_on_an_unsigned_request_is_anonymous_at_once() -> None:
    ctx = context(signed=500, forged=500)
    request = _bad_body(ctx)
    case = judged(ctx, request, "reject", BAD, cause="body")
    assert case.status == "fail" and case.anonymous is True
    assert case.why == f"{CRASH_500}; no secret is needed to send it: anyone can"
    assert [e.request for e in case.exchanges] == [request]
    assert ctx.requests_sent == 1


@pytest.mark.parametrize(
    ("cause", "diagnosis"),
    [
        ("timestamp", "the timestamp is parsed before the signature is verified"),
        ("body", "the body is parsed before the request is authenticated"),
        ("signature", "the signature header is processed unsafely"),
        ("token", "the token header is processed unsafely"),
        (None, "the request is processed before it is authenticated"),
        ("charset", "the request is processed before it is authenticated"),
    ],
)
def test_a_signed_crash_that_a_forged_copy_repeats_is_anonymous_with_the_diagnosis(
    cause: str | None, diagnosis: str
) -> None:
    ctx = context(signed=500, forged=503)
    request = _bad_body(ctx)
    case = judged(ctx, request, "reject", BAD, signed=True, cause=cause)
    assert case.status == "fail" and case.anonymous is True
    assert case.why == (
        f"{CRASH_500}; with a forged signature it crashes too (HTTP 503): anyone can trigger it, "
        f"no secret needed ({diagnosis})"
    )
    # the forged request first: it is the one anyone can send
    first, second = case.exchanges
    assert first.request.label == "bad body, with a forged signature" and first.status == 503
    assert second.request == request and second.status == 500
    assert ctx.requests_sent == 2 and ctx.valid_durations == []


def test_a_signed_crash_that_a_forged_copy_does_not_repeat_is_a_warning() -> None:
    ctx = context(signed=500, forged=401)
    request = _bad_body(ctx)
    case = judged(ctx, request, "no_5xx", "never a 5xx", signed=True, cause="body")
    assert case.status == "warn" and case.anonymous is False
    assert case.why == (
        f"{CRASH_500}, but only with a valid signature: a forged one is rejected (HTTP 401), "
        "so only a holder of the secret can trigger it"
    )
    first, second = case.exchanges
    assert first.request == request and first.status == 500
    assert second.request.label == "bad body, with a forged signature" and second.status == 401


def test_with_a_token_the_repeat_uses_a_wrong_token_and_says_token() -> None:
    ctx = context("modio", signed="raise", forged=401)
    case = judged(ctx, _bad_body(ctx), "reject", BAD, signed=True, cause="token")
    assert case.status == "warn" and case.anonymous is False
    assert ", but only with a valid token: a forged one is rejected (HTTP 401)" in case.why
    assert case.exchanges[1].request.label == "bad body, with a wrong token"

    ctx = context("modio", signed="raise", forged="raise")
    case = judged(ctx, _bad_body(ctx), "reject", BAD, signed=True, cause="token")
    assert case.status == "fail" and case.anonymous is True
    assert "; with a forged token it crashes too (error: " in case.why
    assert case.why.endswith("no secret needed (the token header is processed unsafely)")


def test_a_timeout_counts_as_a_crash() -> None:
    ctx = context(signed="slow", forged=401)
    case = judged(ctx, _bad_body(ctx), "reject", BAD, signed=True, cause="body")
    assert case.status == "warn" and case.exchanges[0].result.outcome == "timeout"


def test_without_any_authenticity_header_a_signed_crash_is_anonymous_without_a_repeat() -> None:
    ctx = context(UnsignedProfile(), signed=500, forged=500)
    request = _bad_body(ctx)
    case = judged(ctx, request, "reject", BAD, signed=True, cause="body")
    assert case.status == "fail" and case.anonymous is True
    assert case.why == CRASH_500
    assert [e.request for e in case.exchanges] == [request] and ctx.requests_sent == 1


# -- the forged copy ------------------------------------------------------------------------------
def test_a_forged_signature_keeps_the_scheme_and_zeroes_the_digest() -> None:
    ctx = context()
    request = ctx.valid("valid")
    fake = forged(ctx, request)
    assert fake is not None
    assert fake.label == "valid, with a forged signature"
    assert fake.headers["X-Webhook-Signature"] == "v1=" + "0" * 64
    assert {k: v for k, v in fake.headers.items() if k != "X-Webhook-Signature"} == {
        k: v for k, v in request.headers.items() if k != "X-Webhook-Signature"
    }
    assert (fake.body, fake.event_id) == (request.body, request.event_id)


def test_a_forged_signature_header_is_found_in_any_case() -> None:
    ctx = context()
    request = ctx.edited(
        ctx.valid("valid"),
        "lower",
        drop=["X-Webhook-Signature"],
        set_headers={"x-webhook-signature": "v1=abcd"},
    )
    fake = forged(ctx, request)
    assert fake is not None
    assert [(k, v) for k, v in fake.headers.items() if k.lower() == "x-webhook-signature"] == [
        ("X-Webhook-Signature", "v1=0000")
    ]


@pytest.mark.parametrize(("value", "fake"), [(None, "0" * 64), ("abc", "0" * 64), ("f" * 80, "0" * 80)])
def test_a_signature_without_a_scheme_is_replaced_by_zeros_at_least_64_long(
    value: str | None, fake: str
) -> None:
    ctx = context()
    set_headers = {} if value is None else {"X-Webhook-Signature": value}
    request = ctx.edited(ctx.valid("valid"), "plain", drop=["X-Webhook-Signature"], set_headers=set_headers)
    forgery = forged(ctx, request)
    assert forgery is not None and forgery.headers["X-Webhook-Signature"] == fake


def test_a_forged_token_is_another_secret_drawn_from_the_audits_generator() -> None:
    ctx = context("modio")
    request = ctx.valid("valid")
    expected = ctx.profile.generate_secret(random.Random(0))
    ctx.factory.rng.seed(0)
    fake = forged(ctx, request)
    assert fake is not None
    assert fake.label == "valid, with a wrong token"
    assert fake.headers["X-Modio-Webhook-Token"] == expected != ctx.secret
    assert fake.body == request.body


def test_nothing_can_be_forged_without_a_signature_or_token() -> None:
    ctx = context(UnsignedProfile())
    assert forged(ctx, ctx.valid("valid")) is None
