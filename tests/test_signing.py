"""Signing and verification: vectors against independent implementations, and properties."""

from __future__ import annotations

import contextlib
import shutil
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hookmock
from hookmock.errors import (
    BadSignature,
    BadToken,
    MalformedHeader,
    MissingHeader,
    TimestampTooNew,
    TimestampTooOld,
    UsageError,
    VerificationError,
)
from hookmock.profiles import get_profile
from hookmock.profiles.moda import SIGNATURE_HEADER, TIMESTAMP_HEADER, compute_signature
from hookmock.profiles.modio import TOKEN_HEADER

MODA = get_profile("moda")
MODIO = get_profile("modio")
SECRET = "whsec_test_5UeP0r3xYh2Q9cLb7mWk4nDs"
BODY = b'{"id":"evt_01HZX3V9K7QW8E2R5T6Y4U1I0P","type":"task.succeeded"}'


# -- independent implementations ------------------------------------------------------------


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
@pytest.mark.parametrize(
    ("secret", "body", "ts"),
    [
        (SECRET, BODY, 1_700_000_000),
        ("s", b"", 0),
        ("ünïcødé-sécret", '{"t":"日本語 🚀"}'.encode(), 1_777_593_600),
        ("whsec_" + "x" * 32, b"line1\nline2\r\n\x00\xff", 42),
    ],
)
def test_signature_matches_openssl(secret: str, body: bytes, ts: int, tmp_path):
    message = tmp_path / "msg"
    message.write_bytes(f"{ts}.".encode() + body)
    out = subprocess.run(
        ["openssl", "dgst", "-sha256", "-hmac", secret, str(message)],
        capture_output=True,
        check=True,
    ).stdout.decode()
    expected = out.strip().rsplit(" ", 1)[-1]
    assert compute_signature(body, secret, ts) == expected
    assert MODA.sign(body, secret, ts)[SIGNATURE_HEADER] == f"v1={expected}"


stripe = pytest.importorskip("stripe")


@given(
    body=st.text(max_size=300),
    secret=st.text(alphabet=st.characters(blacklist_categories=["Cs", "Zs", "Cc"]), min_size=1, max_size=40),
    ts=st.integers(0, 10**10),
)
def test_stripe_verifier_accepts_moda_v1(body: str, secret: str, ts: int):
    """Moda's v1 is Stripe's v1: Stripe's own verifier is a differential oracle."""
    raw = body.encode("utf-8")
    headers = MODA.sign(raw, secret, ts)
    stripe_header = f"t={headers[TIMESTAMP_HEADER]},{headers[SIGNATURE_HEADER]}"
    stripe.WebhookSignature.verify_header(raw, stripe_header, secret, tolerance=None)
    # and the other way round: a header Stripe generates verifies with hookmock
    generated = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=ts)
    v1 = generated.split(",")[1]
    MODA.verify({SIGNATURE_HEADER: v1, TIMESTAMP_HEADER: str(ts)}, raw, secret, now=ts)


# -- properties ------------------------------------------------------------------------------


@given(body=st.binary(max_size=500), secret=st.text(min_size=1, max_size=50), ts=st.integers(0, 10**12))
def test_sign_verify_round_trip(body: bytes, secret: str, ts: int):
    headers = MODA.sign(body, secret, ts)
    assert MODA.verify(headers, body, secret, now=ts) == ts


def _flip(data: bytes, bit: int) -> bytes:
    buf = bytearray(data)
    buf[bit // 8] ^= 1 << (bit % 8)
    return bytes(buf)


@given(body=st.binary(min_size=1, max_size=200), ts=st.integers(10**9, 2 * 10**9), data=st.data())
def test_flipping_any_bit_of_body_is_rejected(body: bytes, ts: int, data):
    headers = MODA.sign(body, SECRET, ts)
    bit = data.draw(st.integers(0, len(body) * 8 - 1))
    with pytest.raises(BadSignature):
        MODA.verify(headers, _flip(body, bit), SECRET, now=ts)


@given(ts=st.integers(10**9, 2 * 10**9), data=st.data())
def test_flipping_any_bit_of_timestamp_is_rejected(ts: int, data):
    headers = MODA.sign(BODY, SECRET, ts)
    raw = headers[TIMESTAMP_HEADER].encode()
    bit = data.draw(st.integers(0, len(raw) * 8 - 1))
    flipped = _flip(raw, bit).decode("latin-1")
    with pytest.raises(VerificationError):
        MODA.verify({**headers, TIMESTAMP_HEADER: flipped}, BODY, SECRET, now=ts)


@given(ts=st.integers(10**9, 2 * 10**9), data=st.data())
def test_flipping_any_bit_of_signature_is_rejected(ts: int, data):
    headers = MODA.sign(BODY, SECRET, ts)
    raw = headers[SIGNATURE_HEADER].encode()
    bit = data.draw(st.integers(0, len(raw) * 8 - 1))
    flipped = _flip(raw, bit).decode("latin-1")
    with pytest.raises(VerificationError):
        MODA.verify({**headers, SIGNATURE_HEADER: flipped}, BODY, SECRET, now=ts)


@pytest.mark.parametrize("tolerance", [300, 60])
def test_tolerance_boundary_is_exact_both_ways(tolerance: int):
    ts = 1_700_000_000
    headers = MODA.sign(BODY, SECRET, ts)
    MODA.verify(headers, BODY, SECRET, now=ts + tolerance, tolerance=tolerance)
    MODA.verify(headers, BODY, SECRET, now=ts - tolerance, tolerance=tolerance)
    with pytest.raises(TimestampTooOld, match=f"{tolerance + 1} s old"):
        MODA.verify(headers, BODY, SECRET, now=ts + tolerance + 1, tolerance=tolerance)
    with pytest.raises(TimestampTooNew, match=f"{tolerance + 1} s in the future"):
        MODA.verify(headers, BODY, SECRET, now=ts - tolerance - 1, tolerance=tolerance)


def test_default_tolerance_is_300_seconds():
    ts = 1_700_000_000
    headers = MODA.sign(BODY, SECRET, ts)
    hookmock.verify("moda", headers, BODY, SECRET, now=ts + 300)
    with pytest.raises(TimestampTooOld):
        hookmock.verify("moda", headers, BODY, SECRET, now=ts + 301)


@given(sig=st.text(max_size=120), ts=st.text(max_size=40))
def test_header_parser_raises_only_verification_errors(sig: str, ts: str):
    with contextlib.suppress(VerificationError):
        MODA.verify({SIGNATURE_HEADER: sig, TIMESTAMP_HEADER: ts}, BODY, SECRET, now=1_700_000_000)


@given(token=st.text(max_size=80))
def test_token_parser_raises_only_verification_errors(token: str):
    with contextlib.suppress(VerificationError):
        MODIO.verify({TOKEN_HEADER: token}, BODY, "right-token", now=0)


# -- error types and messages ---------------------------------------------------------------


def test_distinct_errors_for_each_problem():
    ts = 1_700_000_000
    good = MODA.sign(BODY, SECRET, ts)
    cases = [
        ({TIMESTAMP_HEADER: str(ts)}, MissingHeader, SIGNATURE_HEADER),
        ({SIGNATURE_HEADER: good[SIGNATURE_HEADER]}, MissingHeader, TIMESTAMP_HEADER),
        ({**good, TIMESTAMP_HEADER: "1700000000 "}, MalformedHeader, "unix time"),
        ({**good, TIMESTAMP_HEADER: "1.5"}, MalformedHeader, "unix time"),
        ({**good, TIMESTAMP_HEADER: "-1"}, MalformedHeader, "unix time"),
        ({**good, TIMESTAMP_HEADER: "NaN"}, MalformedHeader, "unix time"),
        ({**good, TIMESTAMP_HEADER: "9" * 400}, MalformedHeader, "unix time"),
        ({**good, SIGNATURE_HEADER: good[SIGNATURE_HEADER][3:]}, MalformedHeader, "v1="),
        ({**good, SIGNATURE_HEADER: good[SIGNATURE_HEADER][:-2]}, MalformedHeader, "64"),
        ({**good, SIGNATURE_HEADER: "v1=" + "z" * 64}, MalformedHeader, "hex"),
        ({**good, SIGNATURE_HEADER: "v1=" + "0" * 64}, BadSignature, "raw request bytes"),
    ]
    for headers, error, words in cases:
        with pytest.raises(error, match=words):
            MODA.verify(headers, BODY, SECRET, now=ts)
    with pytest.raises(BadSignature):
        MODA.verify(good, BODY, SECRET + "x", now=ts)
    with pytest.raises(UsageError, match="empty"):
        MODA.verify(good, BODY, "", now=ts)


def test_thirteen_digit_millisecond_timestamp_is_far_future():
    ts_ms = 1_700_000_000_000
    headers = MODA.sign(BODY, SECRET, ts_ms)
    with pytest.raises(TimestampTooNew):
        MODA.verify(headers, BODY, SECRET, now=1_700_000_000)


def test_header_lookup_is_case_insensitive():
    ts = 1_700_000_000
    headers = MODA.sign(BODY, SECRET, ts)
    for transform in (str.lower, str.upper, lambda s: s):
        MODA.verify({transform(k): v for k, v in headers.items()}, BODY, SECRET, now=ts)
    MODA.verify(list(headers.items()), BODY, SECRET, now=ts)
    MODIO.verify({TOKEN_HEADER.lower(): "tok"}, BODY, "tok", now=0)


def test_werkzeug_headers_are_accepted():
    from werkzeug.datastructures import Headers

    ts = 1_700_000_000
    MODA.verify(Headers(MODA.sign(BODY, SECRET, ts)), BODY, SECRET, now=ts)


def test_modio_token_check():
    MODIO.verify({TOKEN_HEADER: "s3cret"}, b"{}", "s3cret", now=0)
    for bad in ["", "s3cre", "S3CRET", " s3cret", "s3cret ", "s3cret\t", "s3crett"]:
        with pytest.raises(BadToken):
            MODIO.verify({TOKEN_HEADER: bad}, b"{}", "s3cret", now=0)
    with pytest.raises(MissingHeader, match=TOKEN_HEADER):
        MODIO.verify({}, b"{}", "s3cret", now=0)


def test_check_returns_verdicts():
    ts = 1_700_000_000
    headers = MODA.sign(BODY, SECRET, ts)
    ok = hookmock.check("moda", headers, BODY, SECRET, now=ts)
    assert ok.ok and ok.authentic and ok.fresh
    stale = hookmock.check("moda", headers, BODY, SECRET, now=ts + 3600)
    assert not stale.ok and stale.authentic and stale.fresh is False and stale.reason == "timestamp_too_old"
    forged = hookmock.check("moda", headers, BODY + b" ", SECRET, now=ts)
    assert not forged.ok and forged.authentic is False and forged.reason == "bad_signature"
    token = hookmock.check("modio", {TOKEN_HEADER: "t"}, b"", "t", now=0)
    assert token.ok and token.fresh is None


def test_a_failed_verdict_reports_each_field_exactly() -> None:
    """ok is False (not merely falsy), authentic / fresh are judged separately, and the timestamp is
    read back whenever the header holds one: a forged request can still be fresh or stale."""
    ts = 1_700_000_000
    headers = MODA.sign(BODY, SECRET, ts)
    stale = MODA.check(headers, BODY, SECRET, now=ts + 3600)
    assert (stale.ok, stale.authentic, stale.fresh, stale.timestamp) == (False, True, False, ts)
    forged_fresh = MODA.check(headers, BODY + b" ", SECRET, now=ts + 300)
    assert (forged_fresh.ok, forged_fresh.authentic, forged_fresh.fresh, forged_fresh.timestamp) == (
        False,
        False,
        True,
        ts,
    )
    forged_stale = MODA.check(headers, BODY + b" ", SECRET, now=ts + 301)
    assert (forged_stale.authentic, forged_stale.fresh, forged_stale.timestamp) == (False, False, ts)
    for bad_ts in ("soon", ""):
        garbled = {**headers, TIMESTAMP_HEADER: bad_ts}
        verdict = MODA.check(garbled, BODY, SECRET, now=ts)
        assert (verdict.ok, verdict.authentic, verdict.fresh, verdict.timestamp) == (False, False, None, None)
    unsigned = MODA.check({TIMESTAMP_HEADER: str(ts)}, BODY, SECRET, now=ts)
    assert (unsigned.ok, unsigned.fresh, unsigned.timestamp) == (False, True, ts)
    assert isinstance(unsigned.error, MissingHeader)


def test_signature_comparison_goes_through_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every candidate signature is compared with hmac.compare_digest (constant time), never ``==``.

    The recording stand-in answers "no match", so a verifier that compares any other way would accept
    the request or skip the call; both fail here.
    """
    from hookmock.profiles import moda

    calls: list[tuple[object, object]] = []

    def recording(a: object, b: object) -> bool:
        calls.append((a, b))
        return False

    monkeypatch.setattr(moda.hmac, "compare_digest", recording)
    ts = 1_700_000_000
    expected = compute_signature(BODY, SECRET, str(ts))
    headers = {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: f"v1={expected}, v1={'0' * 64}"}
    with pytest.raises(BadSignature):
        hookmock.verify("moda", headers, BODY, SECRET, now=ts)
    assert sorted(str(b) for _, b in calls) == sorted([expected, "0" * 64])
    assert all(str(a) == expected for a, _ in calls)


def test_token_comparison_goes_through_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    from hookmock.profiles import modio

    calls: list[tuple[object, object]] = []

    def recording(a: object, b: object) -> bool:
        calls.append((a, b))
        return False

    monkeypatch.setattr(modio.hmac, "compare_digest", recording)
    with pytest.raises(BadToken):
        hookmock.verify("modio", {TOKEN_HEADER: "the-token"}, BODY, "the-token")
    assert calls == [(b"the-token", b"the-token")]


def test_sign_uses_clock_when_no_timestamp():
    clock = hookmock.VirtualClock(start=1_800_000_000)
    headers = hookmock.sign("moda", BODY, SECRET, clock=clock)
    assert headers[TIMESTAMP_HEADER] == "1800000000"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("hookmock/")


def test_secret_generation_formats():
    secret = MODA.generate_secret()
    assert secret.startswith("whsec_") and len(secret) == 38
    assert len(MODIO.generate_secret()) == 40
    assert MODA.redact(f"curl -H 'secret: {secret}'", secret).count(secret) == 0
